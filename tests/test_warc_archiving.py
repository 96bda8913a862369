"""Every HTTP exchange of a crawl lands in standard WARC files, exactly as it went over the wire.

A test-only outlet is crawled through Scrapy's real downloader against a site
served on 127.0.0.1 with every kind of exchange: gzip, brotli and identity
payloads, chunked and sized bodies, a redirect, a 404 with an unusual reason
phrase, a 500, a 429 with Retry-After, a robots.txt disallow.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from tests.conftest import run_crawl
from tests.localweb import LocalWeb
from tests.outlets.conformance import HOST
from tests.warc_reading import read_records, warcio_check

ARTICLES = ["gzip-story", "unasked-br-story", "plain-story", "final-story", "busy-story", "robots-story"]


def article_html(slug: str) -> str:
    paragraphs = "".join(
        f"<p>Paragraph {i} of the {slug} story, with enough words to be a body.</p>" for i in range(20)
    )
    return f"<!doctype html><html><head><title>{slug}</title></head><body><h1>{slug}</h1>{paragraphs}</body></html>"


def write_site(root: Path) -> None:
    site = root / "conformance" / "web" / HOST
    (site / "news").mkdir(parents=True)
    (site / "private").mkdir()
    (site / "robots.txt").write_text(
        f"User-agent: *\nDisallow: /private/\n\n"
        f"Sitemap: https://{HOST}/news-sitemap.xml\nSitemap: /robots-sitemap.xml\n"
    )
    (site / "robots-sitemap.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>https://{HOST}/news/robots-story</loc></url></urlset>"
    )
    for slug in ARTICLES:
        (site / "news" / slug).write_text(article_html(slug))
    (site / "private" / "secret").write_text(article_html("secret"))
    (site / "news" / "huge-story").write_text(article_html("huge") * 400)  # ~1 MB, over the size cap
    (site / "index.html").write_text(
        "<html><body>"
        + "".join(
            f'<a href="/news/{s}">{s}</a>' for s in ["gzip-story", "unasked-br-story", "moved", "gone", "huge-story"]
        )
        + '<a href="/private/secret">secret</a><a href="/about">about</a></body></html>'
    )
    (site / "feed.rss").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>Plain</title><link>/news/plain-story</link>"
        "<pubDate>Thu, 28 Mar 2024 05:38:00 GMT</pubDate></item>"
        "<item><title>Broken</title><link>/news/broken</link></item>"
        "<item><title>Busy</title><link>/news/busy-story</link></item>"
        "</channel></rss>"
    )
    (site / "news-sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"<url><loc>https://{HOST}/news/gzip-story</loc><news:news><news:publication><news:name>C</news:name>"
        "<news:language>en</news:language></news:publication>"
        "<news:publication_date>2024-03-28T05:38:00+03:00</news:publication_date>"
        "<news:title>Gzip story</news:title></news:news></url></urlset>"
    )
    quirks = {
        f"{HOST}/news/unasked-br-story": {"encoding": "br"},  # sent only to clients that accept br
        f"{HOST}/news/plain-story": {"encoding": "identity", "chunked": False},
        f"{HOST}/news/huge-story": {"encoding": "identity", "chunked": False},
        f"{HOST}/news/moved": {"status": 301, "headers": {"Location": f"https://{HOST}/news/final-story"}},
        f"{HOST}/news/gone": {"status": 404, "reason": "Gone Fishing"},
        f"{HOST}/news/broken": {"status": 500},
        f"{HOST}/news/busy-story": {"sequence": [{"status": 429, "headers": {"Retry-After": "1"}}, {}]},
    }
    (root / "conformance" / "web.json").write_text(json.dumps(quirks))


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    write_site(root)
    archive = tmp_path_factory.mktemp("archive")
    with LocalWeb(root, latency=0.05) as web:
        # A small delay, as in production: Scrapy 2.19 starts every queued request of a slot at once
        # when DOWNLOAD_DELAY is 0, ignoring CONCURRENT_REQUESTS_PER_DOMAIN.
        settings = {
            "SPIDER_MODULES": "tests.outlets",
            "RETRY_TIMES": "2",
            "DOWNLOAD_DELAY": "0.02",
            "DOWNLOAD_MAXSIZE": "500000",
            "WARC_MAX_SIZE": "6000",  # files close while the crawl runs, and as it ends
        }
        result = run_crawl("conformance", archive, web, settings)
    assert result.returncode == 0, result.log[-3000:]
    records = [r for path in result.warcs("conformance") for r in read_records(path)]
    return result, web, records


def test_every_file_is_valid_and_opens_with_warcinfo(crawl) -> None:
    result, _, _ = crawl
    warcs = result.warcs("conformance")
    assert warcs
    for path in warcs:
        assert re.fullmatch(r"conformance-\d{17}-\d{5}-[A-Za-z0-9._]+\.warc\.gz", path.name)
        checked = warcio_check(path)
        assert checked.returncode == 0, checked.stdout
        first = read_records(path)[0]
        assert first.type == "warcinfo"
        info = first.raw_payload.decode()
        for field in ("software: newsarchive/", "hostname: ", "operator: ", "robots: obey", "isPartOf: conformance"):
            assert field in info


def test_every_file_has_its_index(crawl) -> None:
    """Each closed WARC has its CDXJ index, one line per response or revisit record: those closed mid-crawl
    (indexed by a process of their own) and those closed as the crawl ended (indexed by the crawl)."""
    result, _, _ = crawl
    warcs = result.warcs("conformance")
    assert len(warcs) >= 3, "the crawl rotates files"
    assert "in a process of its own" in result.log and f"Indexed {warcs[-1].name}" in result.log
    for path in warcs:
        index = path.parent.parent / "indexes" / f"{path.name}.cdxj"
        assert index.exists(), f"no index for {path.name}"
        lines = index.read_text("utf-8").splitlines()
        expected = sum(record.type in ("response", "revisit") for record in read_records(path))
        assert len(lines) == expected and lines == sorted(lines), path.name
        assert all(json.loads(line.split(" ", 2)[2])["filename"] == path.name for line in lines)


def test_every_exchange_is_archived_with_the_bytes_served(crawl) -> None:
    _, web, records = crawl
    responses = [r for r in records if r.type == "response"]
    served = [s for s in web.served if s.method == "GET" and not s.url.endswith("/huge-story")]
    assert len(responses) == len(served)
    archived_bodies = defaultdict(list)
    for record in responses:
        archived_bodies[record.uri.split("://", 1)[1]].append(record.raw_payload)
    for exchange in served:
        assert exchange.body in archived_bodies[exchange.url], exchange.url


def test_request_response_and_metadata_records_are_linked(crawl) -> None:
    _, _, records = crawl
    by_id = {r.id: r for r in records}
    counts = Counter(r.type for r in records)
    assert counts["request"] == counts["response"] == counts["metadata"]
    for record in records:
        if record.type == "response":
            assert record.headers["WARC-IP-Address"] == "127.0.0.1"
            assert record.headers["WARC-Payload-Digest"].startswith("sha1:")
            assert record.headers["WARC-Block-Digest"].startswith("sha1:")
        if record.type in {"request", "metadata"}:
            target = by_id[record.headers["WARC-Concurrent-To"]]
            assert target.type == "response" and target.uri == record.uri
        if record.type == "metadata":
            assert record.headers["WARC-Refers-To"] == record.headers["WARC-Concurrent-To"]


def statuses(records, path: str) -> list[tuple[int, str]]:
    return [(r.status, r.statusline) for r in records if r.type == "response" and r.uri == f"https://{HOST}{path}"]


def test_status_lines_and_framing_are_as_received(crawl) -> None:
    _, _, records = crawl
    assert statuses(records, "/news/gone") == [(404, "404 Gone Fishing")]
    assert statuses(records, "/news/moved") == [(301, "301 Moved Permanently")]
    assert statuses(records, "/news/final-story") == [(200, "200 OK")]
    assert [s for s, _ in statuses(records, "/news/broken")] == [500, 500, 500]  # first try + RETRY_TIMES
    assert [s for s, _ in statuses(records, "/news/busy-story")] == [429, 200]
    for record in records:
        names = {name.lower() for name, _ in record.http_headers}
        assert "transfer-encoding" not in names
    encodings = {
        r.uri.rsplit("/", 1)[1]: dict(r.http_headers).get("Content-Encoding")
        for r in records
        if r.type == "response" and r.status == 200 and "/news/" in r.uri
    }
    assert encodings == {
        "gzip-story": "gzip",
        "unasked-br-story": None,
        "plain-story": None,
        "final-story": "gzip",
        "busy-story": "gzip",
        "robots-story": "gzip",
    }
    for record in records:
        if record.type == "request":
            assert ("Accept-Encoding", "gzip, deflate") in record.http_headers


def test_payloads_decode_to_the_page(crawl) -> None:
    _, _, records = crawl
    decoders = {"gzip": gzip.decompress, None: lambda b: b}
    for record in records:
        if record.type == "response" and record.status == 200 and "/news/" in record.uri:
            slug = record.uri.rsplit("/", 1)[1]
            encoding = dict(record.http_headers).get("Content-Encoding")
            assert decoders[encoding](record.raw_payload).decode() == article_html(slug)


def test_discovery_metadata_says_how_each_url_was_found(crawl) -> None:
    _, _, records = crawl
    metadata = {
        r.uri: dict(line.split(": ", 1) for line in r.raw_payload.decode().splitlines())
        for r in records
        if r.type == "metadata"
    }
    story = metadata[f"https://{HOST}/news/gzip-story"]
    assert story["via"] in {f"https://{HOST}/news-sitemap.xml", f"https://{HOST}/"}
    sitemap_found = metadata[f"https://{HOST}/news/plain-story"]
    assert sitemap_found["discoveredBy"] == "feed"
    assert sitemap_found["via"] == f"https://{HOST}/feed.rss"
    assert sitemap_found["feedPublished"] == "2024-03-28T05:38:00+00:00"
    assert sitemap_found["feedTitle"] == "Plain"
    assert metadata[f"https://{HOST}/news/final-story"]["redirectedFrom"] == f"https://{HOST}/news/moved"
    assert metadata[f"https://{HOST}/robots-sitemap.xml"]["discoveredBy"] == "robots"
    assert metadata[f"https://{HOST}/robots-sitemap.xml"]["via"] == f"https://{HOST}/robots.txt"
    assert metadata[f"https://{HOST}/news/robots-story"]["via"] == f"https://{HOST}/robots-sitemap.xml"


def test_politeness(crawl) -> None:
    result, web, _ = crawl
    urls = [s.url for s in web.served]
    assert urls.count(f"{HOST}/robots.txt") == 1
    assert urls.count(f"{HOST}/news-sitemap.xml") == 1, "a sitemap both declared and in robots.txt is fetched once"
    assert f"{HOST}/private/secret" not in urls, "robots.txt Disallow was not obeyed"
    assert f"{HOST}/about" not in urls, "a link outside the article pattern was followed"
    assert f"Could not fetch https://{HOST}/news/huge-story: Expected to receive" in result.log
    assert "Traceback" not in result.log
    for exchange in web.served:
        assert re.match(r"newsarchive/\S+ \(news archiving crawler; \+\S+\)", exchange.request_headers["User-Agent"])
    broken = [s for s in web.served if s.url.endswith("/news/broken")]
    gaps = [later.started - earlier.finished for earlier, later in zip(broken, broken[1:], strict=False)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1, f"no exponential backoff (RETRY_BACKOFF_BASE 0.1): {gaps}"
    busy = [s for s in web.served if s.url.endswith("/news/busy-story")]
    assert busy[1].started - busy[0].finished >= 0.9, "Retry-After: 1 was not honoured"
    intervals = sorted((s.started, s.finished) for s in web.served)
    overlap = max(sum(1 for a, b in intervals if a <= start < b) for start, _ in intervals)
    assert overlap <= 2, f"{overlap} concurrent requests to one host"
    assert result.items and all(item["warc"]["record_id"] for item in result.items)
    assert sorted(i["url"].rsplit("/", 1)[1] for i in result.items) == sorted(ARTICLES)
