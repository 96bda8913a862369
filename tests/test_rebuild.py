"""The WARCs are the source of truth: replaying an archive into an empty catalog rebuilds what the crawls wrote.

A site publishes and edits articles between crawls (new articles, an edited one, a redirect, a canonical
link, a paywalled page); the outlet is crawled three times with revisits due, on SQLite and on PostgreSQL.
Then the catalog and the text files are deleted and the archive replayed: every table the crawls wrote
(captures with their versions, unchanged revisits and rejections; the seen-state; extraction coverage) and
every text file come back the same. Only what a WARC cannot tell is left out of the comparison: when a row
was written (``extracted_at``), the run history and the feed validators (see README, "What the WARCs alone
rebuild").
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipelines.urls import url_key
from tests.archive_contents import NOT_IN_THE_WARCS, story_partition, tree
from tests.archive_contents import catalog_tables as tables
from tests.conftest import REPO, run_crawl
from tests.localweb import LocalWeb
from tests.localweb.generate import BULK_HOST, article_html, write_bulk_site
from tests.servers import postgres_server

REVISIT = 2.5  # seconds: the first revisit is due this long after an article's first capture
SETTINGS = {"SPIDER_MODULES": "tests.outlets", "REVISIT_AFTER": f"{REVISIT:.0f}s,{2 * REVISIT:.0f}s",
            "HEALTH_MIN_RUNS": "1", "HEALTH_MIN_PAGES": "1"}
PAYWALL = (b"<html><head><script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"isAccessibleForFree\":"
           b" false}</script></head><body><h1>Story</h1><p>Subscribe to continue reading this story.</p></body></html>")


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def new_database(kind: str, tmp_path: Path, name: str, request: pytest.FixtureRequest) -> str:
    """An empty catalog database: a SQLite file, or a database of its own on the PostgreSQL server."""
    if kind == "sqlite":
        return str(tmp_path / f"{name}.sqlite")
    server = request.getfixturevalue("postgres")
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}_{tmp_path.name.replace('-', '_')[-20:]}"))
    engine.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}_{tmp_path.name.replace('-', '_')[-20:]}"


def grow_and_edit(site: Path) -> None:
    """Between the first two crawls: five new pages (one behind a redirect, one naming another canonical URL,
    one paywalled) and an edited article."""
    write_bulk_site(site, 8)
    news = site / "bulk" / "web" / BULK_HOST / "news"
    (news / "story-9").write_text(article_html(9, url=f"https://{BULK_HOST}/news/story-99"))
    (news / "story-10").write_bytes(PAYWALL)
    (news / "story-1").write_text(article_html(1).replace("<h1>", "<h1>Updated: "))
    sitemap = site / "bulk" / "web" / BULK_HOST / "sitemap.xml"
    extra = "".join(f"<url><loc>https://{BULK_HOST}/news/story-{n}</loc></url>" for n in (9, 10, 900))
    text = sitemap.read_text().replace(f"<url><loc>https://{BULK_HOST}/news/story-7</loc></url>", "")
    sitemap.write_text(text.replace("</urlset>", f"{extra}</urlset>"))


def replay(archive: Path, catalog: str) -> dict:
    options = [f"-s{name}={value}" for name, value in SETTINGS.items()]
    done = subprocess.run([sys.executable, "-m", "scrapy", "replay", str(archive), "-o", str(archive), "--catalog",
                           catalog, "--stats", "-", "--workers", "2", *options],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_replaying_the_warcs_rebuilds_the_catalog(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    site, archive = tmp_path / "site", tmp_path / "archive"
    crawled_into = new_database(kind, tmp_path, "crawled", request)
    settings = {**SETTINGS, "DATABASE_URL": crawled_into} if kind == "postgresql" else SETTINGS
    write_bulk_site(site, 5)
    (site / "bulk" / "web.json").write_text(json.dumps({f"{BULK_HOST}/news/story-900": {  # linked from the 2nd run
        "status": 301, "headers": {"Location": f"https://{BULK_HOST}/news/story-7"}}}))
    with LocalWeb(site) as web:
        first = run_crawl("bulk", archive, web, settings)
        assert first.returncode == 0 and len(first.items) == 5, first.log[-3000:]
        first_ended = time.monotonic()
        grow_and_edit(site)
        time.sleep(max(0.0, first_ended + REVISIT - time.monotonic()))
        second = run_crawl("bulk", archive, web, settings)
        assert second.returncode == 0, second.log[-3000:]
        (site / "bulk" / "web" / BULK_HOST / "news" / "story-2").write_text(
            article_html(2).replace("<h1>", "<h1>Now: ")
        )
        time.sleep(max(0.0, first_ended + 2 * REVISIT - time.monotonic()))
        third = run_crawl("bulk", archive, web, settings)
        assert third.returncode == 0, third.log[-3000:]
    catalog = crawled_into if kind == "postgresql" else str(archive / "catalog.sqlite")
    crawled = tables(catalog)
    crawled_stories = story_partition(catalog)
    assert crawled_stories["stories"] and crawled_stories["origins"]

    # what the crawls wrote is worth rebuilding: versions, unchanged revisits, a rejection, redirect and canonical keys
    captures = [dict(row) for row in crawled["captures"]]
    assert {row["status"] for row in captures} == {"extracted", "unchanged", "rejected"}
    versions = {row["url_key"]: row["version"] for row in captures if row["status"] == "extracted"}
    assert (
        versions[url_key(f"https://{BULK_HOST}/news/story-1")] == 2
        and versions[url_key(f"https://{BULK_HOST}/news/story-2")] == 2
    )
    assert all(row["previous_record_id"] for row in captures if row["version"] == 2)
    keys = {dict(row)["url_key"] for row in crawled["seen"]}
    assert {url_key(f"https://{BULK_HOST}/news/story-{n}") for n in (900, 7, 99)} <= keys
    assert len(crawled["coverage"]) == 3

    texts = tree(archive)
    for folder in archive.glob("*/text"):
        shutil.rmtree(folder)
    rebuilt_into = new_database(kind, tmp_path, "rebuilt", request)
    stats = replay(archive, rebuilt_into)
    assert stats["damaged_count"] == 0 and stats["unchanged"] > 0
    rebuilt = tables(rebuilt_into)
    for table in NOT_IN_THE_WARCS:
        assert rebuilt[table] == crawled[table], f"the {table} table differs after the rebuild"
    assert story_partition(rebuilt_into) == crawled_stories
    assert tree(archive) == texts

    again = replay(archive, rebuilt_into)  # replaying into a catalog that has it all changes nothing
    assert tables(rebuilt_into) == rebuilt and again["extracted"] == stats["extracted"]
    assert story_partition(rebuilt_into) == crawled_stories
