"""The catalog: one row per archived article capture, extracted or rejected (SQLite).

It answers "what do we have?" without opening a WARC: where each capture lives,
what was extracted from it or why nothing was, and where its text files are.
Writes are transactions in WAL mode, so a killed process leaves it consistent.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS captures (
    record_id TEXT PRIMARY KEY,          -- WARC-Record-ID of the response record
    outlet TEXT NOT NULL,
    url TEXT NOT NULL,
    canonical_url TEXT,
    fetched TEXT,                        -- WARC-Date
    warc_file TEXT,
    warc_offset INTEGER,
    warc_length INTEGER,
    payload_digest TEXT,
    status TEXT NOT NULL CHECK (status IN ('extracted', 'rejected')),
    reason TEXT,                         -- why nothing was extracted (status 'rejected')
    detail TEXT,
    title TEXT,
    byline TEXT,
    source TEXT,
    published TEXT,
    language TEXT,
    word_count INTEGER,
    page_text_path TEXT,
    article_text_path TEXT,
    metadata_path TEXT,
    extractor_version TEXT,
    extracted_at TEXT NOT NULL,
    url_key TEXT,                        -- crawler.urls.url_key(url)
    version INTEGER,                     -- 1, 2, ...: each changed capture of an article is a new version
    previous_record_id TEXT              -- the capture of the version before
);
CREATE INDEX IF NOT EXISTS captures_by_outlet_url ON captures (outlet, url);
CREATE INDEX IF NOT EXISTS captures_by_status ON captures (outlet, status, reason);

CREATE TABLE IF NOT EXISTS seen (       -- every article URL fetched, under its normalised key
    outlet TEXT NOT NULL,
    url_key TEXT NOT NULL,
    url TEXT NOT NULL,
    first_fetched TEXT NOT NULL,
    last_fetched TEXT NOT NULL,
    record_id TEXT,                      -- the latest capture with a payload (what a revisit record refers to)
    payload_digest TEXT,
    warc_date TEXT,
    warc_file TEXT,
    fetches INTEGER NOT NULL,
    next_revisit TEXT,                   -- when to look again for an update (NULL: never)
    PRIMARY KEY (outlet, url_key)
);
CREATE TABLE IF NOT EXISTS validators (  -- HTTP validators of discovery documents, for conditional requests
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    updated TEXT NOT NULL
);
"""
COLUMNS = (
    "record_id", "outlet", "url", "canonical_url", "fetched", "warc_file", "warc_offset", "warc_length",
    "payload_digest", "status", "reason", "detail", "title", "byline", "source", "published", "language",
    "word_count", "page_text_path", "article_text_path", "metadata_path", "extractor_version", "extracted_at",
    "url_key", "version", "previous_record_id",
)


def catalog_path(settings: Any) -> Path:
    """Where the catalog lives: ``CATALOG_PATH``, else ``<ARCHIVE_ROOT>/catalog.sqlite`` (settings: anything with .get)."""
    return Path(settings.get("CATALOG_PATH") or Path(settings.get("ARCHIVE_ROOT") or "archive") / "catalog.sqlite")


class Catalog:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(self.path, timeout=30)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.executescript(SCHEMA)

    def record(self, commit: bool = True, **row: Any) -> None:
        """Insert or replace the row of one capture (re-extraction updates it); ``commit=False`` batches."""
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown catalog columns: {sorted(unknown)}")
        row.setdefault("extracted_at", datetime.now(timezone.utc).isoformat(timespec="seconds"))
        names = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        updates = ", ".join(f"{name} = excluded.{name}" for name in row if name != "record_id")
        self.connection.execute(
            f"INSERT INTO captures ({names}) VALUES ({marks}) ON CONFLICT(record_id) DO UPDATE SET {updates}", row
        )
        if commit:
            self.connection.commit()

    def seen(self, outlet: str, url_key: str) -> dict[str, Any] | None:
        cursor = self.connection.execute("SELECT * FROM seen WHERE outlet = ? AND url_key = ?", (outlet, url_key))
        row = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], row)) if row else None

    def mark_fetched(
        self, outlet: str, url_keys: list[str], url: str, capture: dict[str, Any], revisits: list[timedelta],
        unchanged: bool = False, commit: bool = True,
    ) -> None:
        """Record a fetch of an article under each of its keys; schedule its next revisit.

        ``capture`` has the record_id, payload_digest and date (WARC-Date) of what was written. An
        ``unchanged`` fetch (a revisit record) keeps pointing at the capture that holds the payload.
        With ``commit=False`` the change waits for the next :meth:`commit` (a crawl batches them).
        """
        now = datetime.now(timezone.utc)
        try:
            for key in dict.fromkeys(url_keys):
                row = self.seen(outlet, key)
                first = datetime.fromisoformat(row["first_fetched"]) if row else now
                fetches = row["fetches"] + 1 if row else 1
                due = first + revisits[fetches - 1] if fetches <= len(revisits) else None
                keep = unchanged and row is not None
                self.connection.execute(
                    "INSERT INTO seen VALUES (:outlet, :key, :url, :first, :now, :record_id, :digest, :date, :file,"
                    " :fetches, :due) ON CONFLICT(outlet, url_key) DO UPDATE SET last_fetched = :now,"
                    " fetches = :fetches, next_revisit = :due, record_id = :record_id, payload_digest = :digest,"
                    " warc_date = :date, warc_file = :file",
                    {"outlet": outlet, "key": key, "url": url, "first": first.isoformat(), "now": now.isoformat(),
                     "record_id": row["record_id"] if keep else capture.get("record_id"),
                     "digest": row["payload_digest"] if keep else capture.get("payload_digest"),
                     "date": row["warc_date"] if keep else capture.get("date"),
                     "file": row["warc_file"] if keep else capture.get("file"),
                     "fetches": fetches, "due": due.isoformat() if due else None},
                )
        except BaseException:
            self.connection.rollback()
            raise
        if commit:
            self.connection.commit()

    def commit(self) -> None:
        if self.connection is not None:  # closing committed everything
            self.connection.commit()

    def unextracted_files(self, outlet: str) -> list[str]:
        """WARC files holding fetched articles of ``outlet`` that have no catalog row (a crawl was killed)."""
        rows = self.connection.execute(
            "SELECT DISTINCT warc_file FROM seen WHERE outlet = ? AND warc_file IS NOT NULL AND record_id NOT IN"
            " (SELECT record_id FROM captures WHERE record_id IS NOT NULL) ORDER BY warc_file", (outlet,),
        )
        return [row[0] for row in rows]

    def due_revisits(self, outlet: str, now: datetime, limit: int) -> list[dict[str, Any]]:
        """Archived articles of ``outlet`` whose next revisit is due, most overdue first."""
        cursor = self.connection.execute(
            "SELECT * FROM seen WHERE outlet = ? AND next_revisit IS NOT NULL AND next_revisit <= ?"
            " ORDER BY next_revisit LIMIT ?", (outlet, now.isoformat(), limit),
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, values)) for values in cursor.fetchall()]

    def validators(self, url: str) -> tuple[str, str]:
        row = self.connection.execute("SELECT etag, last_modified FROM validators WHERE url = ?", (url,)).fetchone()
        return (row[0] or "", row[1] or "") if row else ("", "")

    def save_validators(self, url: str, etag: str, last_modified: str) -> None:
        with self.connection:
            self.connection.execute(
                "INSERT INTO validators VALUES (?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET etag = excluded.etag,"
                " last_modified = excluded.last_modified, updated = excluded.updated",
                (url, etag, last_modified, datetime.now(timezone.utc).isoformat(timespec="seconds")),
            )

    def previous_version(self, outlet: str, url_key: str) -> tuple[int, str]:
        """The latest extracted version of an article (0 if none) and its capture's record id."""
        row = self.connection.execute(
            "SELECT version, record_id FROM captures WHERE outlet = ? AND url_key = ? AND status = 'extracted'"
            " ORDER BY version DESC LIMIT 1", (outlet, url_key),
        ).fetchone()
        return (row[0] or 1, row[1]) if row else (0, "")

    def rows(self, outlet: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM captures" + (" WHERE outlet = ?" if outlet else "") + " ORDER BY fetched, record_id"
        cursor = self.connection.execute(query, (outlet,) if outlet else ())
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, values)) for values in cursor.fetchall()]

    def close(self) -> None:
        """Commit and close; closing again (outlets of a frontier worker share one catalog) does nothing."""
        if self.connection is not None:
            self.connection.commit()
            self.connection.close()
            self.connection = None
