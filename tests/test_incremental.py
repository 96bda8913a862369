"""Scheduled runs fetch only what is new; archived articles are revisited, and only changes cost new files."""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from pipelines.urls import url_key
from tests.conftest import run_crawl
from tests.localweb import LocalWeb
from tests.localweb.generate import BULK_HOST, article_html, write_bulk_site
from tests.warc_reading import read_records

# The fourth run must find the first run's articles due and the third run's not. The third run starts GAP after
# the first run ended, so that holds when the fourth run starts REVISIT_AFTER after the first run ended and gets to
# its decisions within GAP, and the third run plus that start take less than REVISIT_AFTER.
GAP, REVISIT_AFTER = 10.0, 24.0  # seconds (6 and 12 were too short for crawls on a loaded 2-core machine)
SETTINGS = {"SPIDER_MODULES": "tests.outlets", "REVISIT_AFTER": f"{REVISIT_AFTER:.0f}s,{REVISIT_AFTER:.0f}s"}


def stats_of(log: str) -> dict[str, int]:
    """The integer stats Scrapy dumps at the end of a crawl log."""
    found = {}
    for line in log.splitlines():
        line = line.strip().lstrip("{")
        if line.startswith("'") and "':" in line:
            name, _, value = line.partition("':")
            value = value.strip().rstrip(",}")
            if value.isdigit():
                found[name.strip("'")] = int(value)
    return found


def article_records(archive: Path) -> list:
    return [r for warc in sorted((archive / "bulk" / "warc").glob("*.warc.gz")) for r in read_records(warc)
            if r.type in {"response", "revisit"} and "/news/" in r.uri]


@pytest.mark.slow
def test_runs_fetch_only_what_is_new_and_revisit_what_is_due(tmp_path: Path) -> None:
    site, archive = tmp_path / "site", tmp_path / "archive"
    write_bulk_site(site, 5)
    with LocalWeb(site) as web:
        first = run_crawl("bulk", archive, web, SETTINGS)
        first_ended = time.monotonic()
        assert first.returncode == 0 and len(first.items) == 5

        # nothing new: the sitemap answers 304 and is not parsed again; no article is fetched
        second = run_crawl("bulk", archive, web, SETTINGS)
        stats = stats_of(second.log)
        assert second.items == [] and stats.get("discovery/not_modified") == 1
        assert "discovery/documents/sitemap" not in stats
        assert len(article_records(archive)) == 5

        # two new articles, and an already archived one linked with tracking parameters and a fragment
        urls = write_bulk_site(site, 7)
        sitemap = site / "bulk" / "web" / BULK_HOST / "sitemap.xml"
        variant = f"{urls[0]}?utm_source=rss&amp;utm_medium=feed#top"
        sitemap.write_text(sitemap.read_text().replace("</urlset>", f"<url><loc>{variant}</loc></url></urlset>"))
        time.sleep(max(0.0, first_ended + GAP - time.monotonic()))
        third = run_crawl("bulk", archive, web, SETTINGS)
        assert sorted(item["url"] for item in third.items) == sorted(urls[5:])
        assert stats_of(third.log).get("incremental/already_archived") == 6

        # later, the first run's articles are due a revisit: one was edited meanwhile
        assert time.monotonic() < first_ended + REVISIT_AFTER, "the third run took too long for this test"
        time.sleep(max(0.0, first_ended + REVISIT_AFTER - time.monotonic()))
        edited = site / "bulk" / "web" / BULK_HOST / "news" / "story-2"
        edited.write_text(article_html(2).replace("<h1>", "<h1>Updated: "))
        fourth = run_crawl("bulk", archive, web, SETTINGS)
    # due: the five first captured (not yet the two of the third run); the sitemap itself is unchanged (304)
    changes = Counter(item["change"] for item in fourth.items)
    assert changes == {"unchanged": 4, "updated": 1}
    stats = stats_of(fourth.log)
    assert stats["revisit/unchanged"] == 4 and stats["revisit/changed"] == 1 and stats["warc/revisit_records"] == 4
    assert stats["discovery/not_modified"] == 1

    records = article_records(archive)
    per_url = Counter((r.uri, r.type) for r in records)
    assert all(per_url[(url, "response")] == (2 if url.endswith("story-2") else 1) for url in urls)
    originals = {r.uri: r for r in records if r.type == "response"}
    for revisit in (r for r in records if r.type == "revisit"):
        assert revisit.headers["WARC-Profile"].endswith("/revisit/identical-payload-digest")
        original = [r for r in records if r.id == revisit.headers["WARC-Refers-To"]][0]
        assert original.type == "response" and original.uri == revisit.uri
        assert revisit.headers["WARC-Payload-Digest"] == original.headers["WARC-Payload-Digest"]
        assert revisit.headers["WARC-Refers-To-Target-URI"] == revisit.uri and revisit.raw_payload == b""
    assert originals

    catalog = sqlite3.connect(archive / "catalog.sqlite")
    versions = catalog.execute(
        "SELECT version, previous_record_id FROM captures WHERE url = ? ORDER BY version", (urls[2],)).fetchall()
    assert [v for v, _ in versions] == [1, 2] and versions[1][1] is not None and versions[0][1] is None
    [(fetches,)] = catalog.execute("SELECT fetches FROM seen WHERE url_key = ?", (url_key(urls[0]),)).fetchall()
    assert fetches == 2
    edited_texts = [item for item in fourth.items if item["change"] == "updated"]
    assert json.loads((archive / edited_texts[0]["files"]["metadata"]).read_text())["title"].startswith("Updated:")


def test_url_keys() -> None:
    assert url_key("https://WWW.Example.com/news/a-1/?utm_source=x&b=2&a=1#frag") == "www.example.com/news/a-1?a=1&b=2"
    assert url_key("http://www.example.com/news/a-1/amp") == url_key("https://www.example.com/news/a-1")
    assert url_key("https://www.example.com/amp/news/a-1") == "www.example.com/news/a-1"
    assert url_key("https://www.example.com/news/a-1.amp.html") == "www.example.com/news/a-1.html"
    assert (
        url_key("https://www.bbc.com/news/articles/c1?at_medium=RSS&at_campaign=rss") == "www.bbc.com/news/articles/c1"
    )
    assert url_key("https://e.com/story?id=7") != url_key("https://e.com/story?id=8")
