"""The service over time: new articles archived once, edits become versions, the unchanged cost a revisit record."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from tests.localweb import LocalWeb
from tests.localweb.generate import BULK_HOST, article_html, write_bulk_site
from tests.test_service import ServiceProcess, finished, wait_for
from tests.warc_reading import Record, read_records

REVISIT_AFTER = 12  # seconds after the first capture: the news run must start before the first articles fall due
SETTINGS = {"SPIDER_MODULES": "tests.outlets", "SCHEDULE_OUTLETS": "bulk", "SCHEDULE_OVERRIDE": "every 2s",
            "REVISIT_AFTER": f"{REVISIT_AFTER}s"}


@pytest.mark.slow
def test_service_archives_the_news_once_and_revisits(tmp_path: Path) -> None:
    site, archive = tmp_path / "site", tmp_path / "archive"
    urls = write_bulk_site(site, 4)
    with LocalWeb(site) as web:
        service = ServiceProcess(archive, web.proxy_url, SETTINGS).start()
        try:
            wait_for(
                lambda: [r for r in finished(archive, "bulk") if r["new_articles"] == 4], 60, "a first run", service
            )
            first_done = time.monotonic()
            urls = write_bulk_site(site, 6)  # the outlet publishes two more
            wait_for(lambda: [r for r in finished(archive, "bulk") if r["new_articles"] == 2], 60, "the news", service)
            edited = site / "bulk" / "web" / BULK_HOST / "news" / "story-1"
            edited.write_text(article_html(1).replace("<h1>", "<h1>Corrected: "))
            wait_for(lambda: time.monotonic() > first_done + REVISIT_AFTER, 60, "the revisits to fall due")
            wait_for(lambda: _revisited_and_refetched(archive, urls), 60,
                     "the first articles revisited and the edited one fetched again", service)
            assert service.signal(signal.SIGTERM) == 0
        finally:
            service.close()

    records = [r for warc in sorted(archive.glob("bulk/warc/*.warc.gz")) for r in read_records(warc)]
    responses = Counter(r.uri for r in records if r.type == "response" and "/news/" in r.uri)
    assert responses == {url: 2 if url.endswith("story-1") else 1 for url in urls}, "each new article once, edits twice"
    revisited = {r.uri for r in records if r.type == "revisit"}
    # the unchanged first articles were revisited; the two news articles too if they fell due before the service
    # stopped (on a fast machine their news run comes seconds after the first): but each only once due
    assert {urls[0], urls[2], urls[3]} <= revisited <= {urls[0], urls[2], urls[3], urls[4], urls[5]}
    captured = {r.uri: _when(r) for r in records if r.type == "response"}
    for record in records:
        if record.type == "revisit":
            assert (_when(record) - captured[record.uri]).total_seconds() >= REVISIT_AFTER, record.uri
    runs = finished(archive, "bulk")
    # the three runs waited for (and any quiet ones between, as many as the machine's speed allows) ended well;
    # the last one may have been running when SIGTERM came, and stopped cleanly
    assert len(runs) >= 3 and all(run["status"] == "ok" for run in runs[:-1]), runs
    assert runs[-1]["status"] in {"ok", "stopped"}, runs[-1]
    stats = [json.loads(run["stats"] or "{}") for run in runs]  # a crawl stopped before it began has none
    quiet = [run for run in stats if run.get("discovery/not_modified")]
    assert quiet, "no run got a 304 for the sitemap"
    assert all("discovery/documents/sitemap" not in run for run in quiet), "a 304 sitemap was parsed"
    sitemap_answers = Counter(r.status for r in records if r.type == "response" and r.uri.endswith("sitemap.xml"))
    assert sitemap_answers[304] >= 1 and sitemap_answers[200] == 2  # first run, and once when the news came


def _when(record: Record) -> datetime:
    return datetime.fromisoformat(record.headers["WARC-Date"].replace("Z", "+00:00"))


def _revisited_and_refetched(archive: Path, urls: list[str]) -> bool:
    """Whether the closed WARCs hold a revisit of each unchanged first article and the edited one's second capture
    (their revisits may come in one run or several: they fall due as they were captured)."""
    records = [r for warc in sorted(archive.glob("bulk/warc/*.warc.gz")) for r in read_records(warc)]
    revisited = {r.uri for r in records if r.type == "revisit"}
    edited = sum(r.type == "response" and r.uri == urls[1] for r in records)
    return {urls[0], urls[2], urls[3]} <= revisited and edited == 2
