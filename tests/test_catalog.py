"""The catalog on both of its databases: SQLite (the default) and PostgreSQL (a real server, DATABASE_URL)."""

from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipelines.capture import WarcLocation
from pipelines.catalog import MIGRATIONS, Catalog
from pipelines.catalog.runs import RunHistory
from pipelines.catalog.store import head_revision
from tests.conftest import run_crawl
from tests.localweb import FIXTURES


def capture(record_id: str, **row: object) -> dict:
    return {"record_id": record_id, "outlet": "ndtv", "url": "https://www.ndtv.com/a-1", "status": "extracted",
            "url_key": "ndtv.com/a-1", "version": 1, "warc_file": "f.warc.gz", **row}


def test_captures_are_upserted_by_record_and_versioned(database: str) -> None:
    catalog = Catalog(database)
    assert catalog.previous_version("ndtv", "ndtv.com/a-1") == (0, "")
    assert catalog.record(**capture("<r1>", title="First"))
    assert catalog.record(**capture("<r1>", title="Re-extracted"))  # re-extraction updates the row
    assert catalog.record(**capture("<r2>", version=2, previous_record_id="<r1>", fetched="2026-01-02"))
    assert catalog.record(**capture("<r3>", status="rejected", reason="paywall", url_key=None, version=None))
    assert catalog.record(**capture("<r4>", status="rejected", reason="empty", url_key=None, version=None))
    assert catalog.previous_version("ndtv", "ndtv.com/a-1") == (2, "<r2>")
    rows = {row["record_id"]: row for row in catalog.rows("ndtv")}
    assert rows["<r1>"]["title"] == "Re-extracted" and len(rows) == 4 and catalog.rows("bbc") == []
    with pytest.raises(ValueError, match="unknown catalog columns"):
        catalog.record(**capture("<r5>", colour="red"))
    with pytest.raises(sa.exc.IntegrityError):  # other constraint failures are not swallowed
        catalog.record(**capture("<r6>", status="maybe", version=3))
    catalog.close()


def test_a_version_recorded_twice_in_a_batch_loses_that_row_only(database: str) -> None:
    """A second capture of one article version (a worker that lost the race) records nothing, and the batch's
    other rows, before and after it, are committed."""
    catalog = Catalog(database)
    assert catalog.record(False, **capture("<r1>"))
    assert catalog.record(False, **capture("<before>", url="https://www.ndtv.com/b", url_key="ndtv.com/b"))
    assert not catalog.record(False, **capture("<r1-again>"))  # the same version of ndtv.com/a-1
    assert catalog.record(False, **capture("<after>", url="https://www.ndtv.com/c", url_key="ndtv.com/c"))
    catalog.commit()
    assert sorted(row["record_id"] for row in catalog.rows("ndtv")) == ["<after>", "<before>", "<r1>"]
    catalog.close()


def warc_date(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_seen_state_revisits_validators_and_unextracted_files(database: str) -> None:
    catalog = Catalog(database)
    fetched = datetime.now(UTC) - timedelta(minutes=5)
    location = WarcLocation("f.warc.gz", 0, 100, 0, "<r1>", warc_date(fetched), "sha1:A")
    catalog.mark_fetched("ndtv", ["k1", "k1-amp"], "https://www.ndtv.com/a-1", location, [timedelta(hours=1)])
    seen = catalog.seen("ndtv", "k1")
    assert seen["fetches"] == 1 and seen["record_id"] == "<r1>" and catalog.seen("ndtv", "k1-amp") is not None
    assert datetime.fromisoformat(seen["first_fetched"]) == fetched  # the fetch's own time (its WARC-Date)
    catalog.mark_fetched("ndtv", ["k1"], "https://www.ndtv.com/a-1", location, [timedelta(hours=1)])
    assert catalog.seen("ndtv", "k1")["fetches"] == 1, "the same fetch, recorded again (a replay), counts once"
    later = datetime.now(UTC) + timedelta(hours=2)
    assert [row["url_key"] for row in catalog.due_revisits("ndtv", later, 10)] == ["k1", "k1-amp"]
    assert catalog.due_revisits("ndtv", datetime.now(UTC), 10) == []
    # an unchanged revisit keeps pointing at the capture holding the payload; no more revisits planned
    revisit = WarcLocation("f.warc.gz", 200, 50, 0, "<rv>", warc_date(fetched + timedelta(minutes=1)), "sha1:A",
                           revisit_of="<r1>")
    catalog.mark_fetched("ndtv", ["k1"], "https://www.ndtv.com/a-1", revisit, [timedelta(hours=1)])
    seen = catalog.seen("ndtv", "k1")
    assert (seen["fetches"], seen["record_id"], seen["next_revisit"]) == (2, "<r1>", None)
    assert catalog.unextracted_files("ndtv") == ["f.warc.gz"]
    catalog.record(**capture("<r1>"))
    assert catalog.unextracted_files("ndtv") == []
    assert catalog.record(**capture("<rv>", status="unchanged", revisit_of="<r1>", version=None))
    assert catalog.has_capture("<rv>") and catalog.version_of("<rv>") is None and catalog.version_of("<r1>") == (1, "")
    assert catalog.validators("https://www.ndtv.com/feed") == ("", "")
    catalog.save_validators("https://www.ndtv.com/feed", '"e1"', "Mon, 01 Jan 2026 00:00:00 GMT")
    catalog.save_validators("https://www.ndtv.com/feed", '"e2"', "")
    assert catalog.validators("https://www.ndtv.com/feed") == ('"e2"', "")
    catalog.close()


def test_batched_writes_wait_for_commit_and_a_second_close_does_nothing(database: str) -> None:
    writer, reader = Catalog(database), Catalog(database)
    writer.mark_fetched("ndtv", ["k1"], "u", WarcLocation("f.warc.gz", 0, 1, 0, "<r1>"), [], commit=False)
    assert reader.seen("ndtv", "k1") is None
    writer.commit()
    assert reader.seen("ndtv", "k1")["record_id"] == "<r1>"  # no snapshot kept from the first read
    writer.close(), writer.close(), reader.close()


def test_the_newest_revision_is_the_one_alembic_finds(database: str) -> None:
    """The catalog knows it is up to date without loading Alembic: its reading of the migrations agrees with
    Alembic's, and a catalog opened again runs no migration."""
    from alembic.script import ScriptDirectory

    assert head_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head()
    Catalog(database).close()  # a new catalog: migrated to the newest revision
    catalog = Catalog(database)  # opened again: nothing to migrate
    assert catalog.connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
    catalog.close()


def test_a_batch_of_fetches_is_seen_at_once_and_written_together(database: str) -> None:
    """Fetches batched with commit=False: this catalog's reads see them (a revisit of a key in the same batch
    counts on the first), a rollback drops them, and a batch of more keys than one read takes is written whole."""
    catalog, other = Catalog(database), Catalog(database)
    start = datetime.now(UTC) - timedelta(hours=1)
    first = WarcLocation("f.warc.gz", 0, 1, 0, "<r1>", warc_date(start), "sha1:A")
    again = WarcLocation("f.warc.gz", 9, 1, 0, "<r2>", warc_date(start + timedelta(minutes=1)), "sha1:B")
    catalog.mark_fetched("ndtv", ["k1", "k1"], "u", first, [timedelta(hours=2)], commit=False)
    catalog.mark_fetched("ndtv", ["k1"], "u", again, [timedelta(hours=2)], commit=False)
    seen = catalog.seen("ndtv", "k1")
    assert (seen["fetches"], seen["record_id"], datetime.fromisoformat(seen["first_fetched"])) == (2, "<r2>", start)
    assert other.seen("ndtv", "k1") is None  # not committed yet
    catalog.mark_fetched("ndtv", ["gone"], "u", first, [], commit=False)
    catalog.rollback()
    assert catalog.seen("ndtv", "gone") is None and catalog.seen("ndtv", "k1") is None
    keys = [f"many-{n}" for n in range(1200)]
    for n, key in enumerate(keys):
        catalog.mark_fetched("ndtv", [key], f"u{n}", first, [], commit=False)
    catalog.mark_fetched("ndtv", [keys[0]], "u0", again, [], commit=False)  # a later fetch of a key in the batch
    catalog.commit()
    assert other.seen("ndtv", keys[-1])["url"] == "u1199" and other.seen("ndtv", keys[0])["fetches"] == 2
    assert all(other.seen("ndtv", key) is not None for key in keys[::97])
    catalog.close(), other.close()


def _record_version_one(database: str, worker: int) -> bool:
    catalog = Catalog(database)
    try:
        return catalog.record(**capture(f"<worker-{worker}>"))
    finally:
        catalog.close()


def test_concurrent_workers_never_record_an_article_twice(database: str) -> None:
    Catalog(database).close()  # the schema, made once
    with ProcessPoolExecutor(4) as pool:
        recorded = list(pool.map(_record_version_one, [database] * 8, range(8)))
    assert recorded.count(True) == 1
    catalog = Catalog(database)
    assert len(catalog.rows()) == 1
    catalog.close()


def test_a_catalog_made_before_migrations_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    with sqlite3.connect(path) as old:  # as the SQLite-only code created it
        old.executescript(
            "CREATE TABLE captures (record_id TEXT PRIMARY KEY, outlet TEXT NOT NULL, url TEXT NOT NULL,"
            " canonical_url TEXT, fetched TEXT, warc_file TEXT, warc_offset INTEGER, warc_length INTEGER,"
            " payload_digest TEXT, status TEXT NOT NULL CHECK (status IN ('extracted', 'rejected')), reason TEXT,"
            " detail TEXT, title TEXT, byline TEXT, source TEXT, published TEXT, language TEXT, word_count INTEGER,"
            " page_text_path TEXT, article_text_path TEXT, metadata_path TEXT, extractor_version TEXT,"
            " extracted_at TEXT NOT NULL, url_key TEXT, version INTEGER, previous_record_id TEXT);"
            " CREATE TABLE seen (outlet TEXT NOT NULL, url_key TEXT NOT NULL, url TEXT NOT NULL,"
            " first_fetched TEXT NOT NULL, last_fetched TEXT NOT NULL, record_id TEXT, payload_digest TEXT,"
            " warc_date TEXT, warc_file TEXT, fetches INTEGER NOT NULL, next_revisit TEXT,"
            " PRIMARY KEY (outlet, url_key));"
            " CREATE TABLE validators (url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, updated TEXT NOT NULL);"
            " INSERT INTO captures (record_id, outlet, url, status, extracted_at, url_key, version)"
            " VALUES ('<old>', 'ndtv', 'u', 'extracted', '2025', 'ndtv.com/a-1', 1);"
        )
    catalog = Catalog(path)
    assert [row["record_id"] for row in catalog.rows()] == ["<old>"]
    assert not catalog.record(**capture("<new>")), "the unique index is there"
    catalog.close()
    heads = [p.stem.split("_")[0] for p in (MIGRATIONS / "versions").glob("*.py")]
    with sqlite3.connect(path) as upgraded:
        assert upgraded.execute("SELECT version_num FROM alembic_version").fetchone()[0] == max(heads)


def test_a_crawl_keeps_its_catalog_on_postgresql(tmp_path: Path, postgres: str, local_web) -> None:
    expected = json.loads((FIXTURES / "ndtv" / "expected.json").read_text("utf-8"))
    crawl = run_crawl("ndtv", tmp_path / "archive", local_web, {"DATABASE_URL": postgres})
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert not (tmp_path / "archive" / "catalog.sqlite").exists()
    catalog = Catalog(postgres)
    extracted = [row for row in catalog.rows("ndtv") if row["status"] == "extracted"]
    assert len(extracted) == len(expected["articles"]) and all(catalog.seen("ndtv", r["url_key"]) for r in extracted)
    catalog.close()


def test_run_history_and_coverage_share_the_catalog_database(database: str) -> None:
    history = RunHistory(database)
    first = history.start("ndtv", "schedule", pid=11)
    history.finish(first, "ok", exit_code=0, summary={"finish_reason": "finished",
                                                      "stats": {"extraction/extracted": 3, "warc/bytes": 5 << 30}})
    second = history.start("ndtv", "run-now")
    assert [run["id"] for run in history.unfinished()] == [second]
    last = history.last_runs()["ndtv"]
    assert last["last"]["new_articles"] == 3 and last["last"]["bytes"] == 5 << 30 and last["running"]["id"] == second
    with pytest.raises(ValueError, match="not a final run status"):
        history.finish(second, "running")

    catalog = Catalog(database)
    catalog.record_coverage("ndtv", 4, {"title": 1.0, "byline": 0.5, "published": 1.0, "body": 1.0,
                                        "confidence": 0.9}, None, "", "2026-11-01T10:00:00+00:00")
    catalog.record_coverage("ndtv", 4, {"title": 1.0, "byline": 0.0, "published": 1.0, "body": 1.0,
                                        "confidence": 0.9}, {"byline": 0.5}, "byline 0% (usually 50%)",
                            "2026-11-02T10:00:00+00:00")
    [latest, earlier] = catalog.coverage("ndtv")
    assert latest["baseline"] == {"byline": 0.5} and earlier["baseline"] is None
    assert catalog.coverage_before("ndtv", latest["finished"], 10) == [earlier]
    catalog.record_coverage("ndtv", 5, {"title": 1.0, "byline": 0.0, "published": 1.0, "body": 1.0,
                                        "confidence": 0.9}, {"byline": 0.5}, "byline 0% (usually 50%)",
                            "2026-11-02T10:00:00+00:00")  # the same run recorded again (its WARCs replayed)
    assert [row["pages"] for row in catalog.coverage("ndtv")] == [5, 4]
    assert catalog.assessed_coverage()["ndtv"]["degraded"] == "byline 0% (usually 50%)"
    catalog.close()
