"""Discovery documents as real outlets serve them: real feeds and sitemaps from other projects' test suites,
plus the messes (BOMs, gzip, relative links, wrong roots) written out here."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from crawler.discovery import FEED, SITEMAP, SITEMAP_INDEX, UNREADABLE, parse_date, read_document, sitemaps_in_robots

NEWS_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


@pytest.fixture(scope="module")
def feeds(shared_corpora: Path) -> Path:
    return shared_corpora / "feeds-sitemaps"


RSS_PARSER_CASES = ["guardian.rss", "heise.atom", "uolNoticias.rss", "encoding.rss", "customfields.rss",
                    "content-encoded.rss", "reddit.rss"]


@pytest.mark.parametrize("name", RSS_PARSER_CASES)
def test_real_feeds_give_the_links_rss_parser_expects(feeds: Path, name: str) -> None:
    body = (feeds / "rss-parser" / "input" / name).read_bytes()
    expected_file = feeds / "rss-parser" / "output" / (name.rsplit(".", 1)[0] + ".json")
    expected = json.loads(expected_file.read_bytes().decode("latin-1" if name == "encoding.rss" else "utf-8"))
    expected_links = [item["link"] for item in expected["feed"]["items"] if item.get("link")]
    document = read_document(body, "https://feeds.example.org/feed")
    assert document.kind == FEED
    if b"feedburner:origLink" in body:  # we follow the outlet's own URL, not feedburner's redirect
        expected_links = [url.rsplit("/", 1)[1] for url in expected_links]
        assert [link.url.rsplit("/", 1)[1] for link in document.links] == expected_links
        assert not any("feeds." in link.url for link in document.links)
    else:
        assert [link.url for link in document.links] == expected_links
    dated = [item for item in expected["feed"]["items"] if item.get("isoDate")]
    assert sum(bool(link.published) for link in document.links) == len(dated)


@pytest.mark.parametrize("name", ["TechCrunch.xml", "HuffPostCanada.xml", "google_alerts_atom.xml",
                                  "RSSWithComments.xml", "AtomFeedWithSpacesAroundEquals.xml"])
def test_real_feeds_from_feedjira(feeds: Path, name: str) -> None:
    document = read_document((feeds / "feedjira" / name).read_bytes(), "https://feeds.example.org/")
    assert document.kind == FEED and document.links
    assert all(link.url.startswith(("http://", "https://")) for link in document.links)


def test_json_feed(feeds: Path) -> None:
    data = json.loads((feeds / "trafilatura" / "feed.json").read_text("utf-8"))
    document = read_document((feeds / "trafilatura" / "feed.json").read_bytes(), "https://www.npr.org/feed.json")
    assert document.kind == FEED
    assert [link.url for link in document.links] == [item["url"] for item in data["items"]]


def test_plain_and_gzipped_sitemap_agree(feeds: Path) -> None:
    plain = read_document((feeds / "trafilatura" / "sitemap.xml").read_bytes(), "https://www.sitemaps.org/sitemap.xml")
    packed = read_document((feeds / "trafilatura" / "sitemap.xml.gz").read_bytes(), "https://www.sitemaps.org/s.xml.gz")
    assert plain.kind == packed.kind == SITEMAP
    assert plain.links == packed.links and len(plain.links) > 5
    assert plain.links[0].lastmod == "2016-11-21"


def test_google_news_sitemap(feeds: Path) -> None:
    document = read_document((feeds / "advertools" / "news_sitemap.xml").read_bytes(), "https://www.nytimes.com/")
    assert document.kind == SITEMAP and document.links
    for link in document.links:
        assert link.url.startswith("https://www.nytimes.com/") and link.url == link.url.strip()
        assert link.title and parse_date(link.published) is not None


def test_malformed_sitemap_is_not_a_crash(feeds: Path) -> None:
    document = read_document((feeds / "advertools" / "error_sitemap.xml").read_bytes(), "https://x.org/")
    assert document.kind in {SITEMAP, UNREADABLE}


def test_bom_wrong_type_and_relative_links() -> None:
    body = (
        b"\xef\xbb\xbf<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t</title>"
        b"<item><title>A</title><link>/news/a</link><pubDate>Thu, 28 Mar 2024 05:38:00 +0300</pubDate></item>"
        b"</channel></rss>"
    )
    document = read_document(body, "https://english.example.net/rss")
    assert document.kind == FEED
    assert document.links[0].url == "https://english.example.net/news/a"
    assert document.links[0].published == "2024-03-28T02:38:00+00:00"


def test_gzipped_sitemap_index_with_relative_children() -> None:
    index = gzip.compress(
        b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>/sitemaps/news.xml</loc><lastmod>2024-03-28</lastmod></sitemap></sitemapindex>"
    )
    document = read_document(index, "https://www.example.com/sitemap_index.xml.gz")
    assert document.kind == SITEMAP_INDEX
    assert [(link.url, link.lastmod) for link in document.links] == [
        ("https://www.example.com/sitemaps/news.xml", "2024-03-28")
    ]


def test_html_or_garbage_is_unreadable_with_a_reason() -> None:
    for body in (b"<!doctype html><html><body>Just a moment...</body></html>", b"", b"\x1f\x8bnot gzip", b"{oops"):
        document = read_document(body, "https://www.example.com/feed")
        assert document.kind == UNREADABLE and document.error


def test_entities_are_never_expanded() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i else b"&lol;") * 10) for i in range(1, 10))
        + b'<!ENTITY ext SYSTEM "file:///etc/passwd">]>'
        + f"<urlset {NEWS_NS}><url><loc>https://e.com/a</loc><news:news><news:title>&lol9;&ext;</news:title>"
          "</news:news></url></urlset>".encode()
    )
    document = read_document(bomb, "https://e.com/sitemap.xml")
    assert document.kind == SITEMAP
    assert [link.url for link in document.links] == ["https://e.com/a"]
    assert "root:" not in document.links[0].title and len(document.links[0].title) < 1000


def test_sitemaps_named_in_robots() -> None:
    robots = b"\xef\xbb\xbfUser-agent: *\nDisallow: /search\nSitemap: /news-sitemap.xml\nsitemap: https://cdn.example.com/s.xml\n"
    assert sitemaps_in_robots(robots, "https://www.example.com/robots.txt") == [
        "https://www.example.com/news-sitemap.xml",
        "https://cdn.example.com/s.xml",
    ]
