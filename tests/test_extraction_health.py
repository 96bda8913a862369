"""Extraction health: a layout change that quietly costs fields is noticed by the crawl and flagged."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

from pipelines.health import FIELDS, assess
from tests.conftest import REPO, run_crawl
from tests.localweb import LocalWeb
from tests.localweb.generate import _WORDS, news_article_html
from tests.outlets.broken import HOST  # the test-only outlet whose site each test writes

SLUGS = [f"story-{n}" for n in ("one", "two", "three", "four")]
SETTINGS = {"SPIDER_MODULES": "tests.outlets", "INCREMENTAL": "False", "HEALTH_MIN_RUNS": "2",
            "HEALTH_MIN_PAGES": "3"}


def paragraphs(slug: str) -> list[str]:
    rng = random.Random(slug)
    return [" ".join(rng.choice(_WORDS) for _ in range(40)).capitalize() + "." for _ in range(6)]


def old_layout(slug: str) -> str:
    """The layout extraction was tuned on: structured data, an author, a time, paragraphs in an article."""
    title = f"Council approves {slug.replace('-', ' ')} budget"
    return news_article_html(title, paragraphs(slug), "Ana Lima", "2024-03-28T06:15:00+00:00", "Broken Test")


def new_layout(slug: str) -> str:
    """The redesign: no structured data, no author, no time; the text in script-built cards of divs."""
    cards = "".join(f'<div class="c"><div class="t">{text[:60]}</div></div>' for text in paragraphs(slug))
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Broken Test</title></head><body>"
            f'<div id="app"><div class="hdr"><a href="/">Home</a></div>{cards}</div></body></html>')


def write_site(root: Path, layout) -> None:
    site = root / "broken" / "web" / HOST
    (site / "news").mkdir(parents=True, exist_ok=True)
    (site / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    (site / "index.html").write_text("<html><body>" + "".join(
        f'<a href="/news/{slug}">{slug}</a>' for slug in SLUGS) + "</body></html>")
    for slug in SLUGS:
        (site / "news" / slug).write_text(layout(slug))


def listing(archive: Path) -> dict[str, dict]:
    command = [sys.executable, "-m", "scrapy", "schedule", "--list", "--json", "-s", f"ARCHIVE_ROOT={archive}",
               "-s", "SPIDER_MODULES=tests.outlets"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    return {row["outlet"]: row for row in json.loads(done.stdout)}


def test_a_layout_change_raises_the_extraction_health_flag(tmp_path: Path) -> None:
    sites, archive = tmp_path / "sites", tmp_path / "archive"
    write_site(sites, old_layout)
    with LocalWeb(sites) as web:
        for _ in range(2):
            crawl = run_crawl("broken", archive, web, SETTINGS)
            assert crawl.returncode == 0 and len(crawl.items) == 4, crawl.log[-3000:]
            assert "degraded" not in crawl.log
        assert listing(archive)["broken"]["extraction_degraded"] is False
        write_site(sites, new_layout)
        crawl = run_crawl("broken", archive, web, SETTINGS)
    assert crawl.returncode == 0 and "Traceback" not in crawl.log, crawl.log[-3000:]
    assert "WARNING: Extraction of broken degraded (4 article pages)" in crawl.log
    assert "byline 0% (usually 100%)" in crawl.log and "published 0% (usually 100%)" in crawl.log

    row = listing(archive)["broken"]
    assert row["extraction_degraded"] is True
    health = row["extraction_health"]
    assert health["pages"] == 4 and health["byline"] == 0 and health["baseline"]["byline"] == 1.0
    assert health["degraded"] == ("byline 0% (usually 100%); published 0% (usually 100%); body 0% (usually 100%);"
                                  " confidence 33% (usually 100%)")  # the title is still found: no flag for it
    assert row["last_run"] is None  # plain `scrapy crawl` runs are not in the run history: the flag is the catalog's


def test_no_verdict_without_a_baseline_or_from_too_few_pages() -> None:
    good = {field: 1.0 for field in FIELDS}
    bad = {**good, "byline": 0.0}
    history = [{"pages": 5, **good}, {"pages": 5, **good}, {"pages": 1, **bad}]
    assert assess(5, bad, history[:1], min_runs=2, min_pages=3, max_drop=0.25) == (None, [])
    assert assess(2, bad, history, min_runs=2, min_pages=3, max_drop=0.25) == (None, [])
    baseline, fallen = assess(5, bad, history, min_runs=2, min_pages=3, max_drop=0.25)
    assert baseline == good and fallen == ["byline 0% (usually 100%)"]
    assert assess(5, {**good, "byline": 0.8}, history, min_runs=2, min_pages=3, max_drop=0.25)[1] == []
