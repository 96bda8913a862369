"""The catalog: one row per archived article capture, extracted or rejected (SQLite).

It answers "what do we have?" without opening a WARC: where each capture lives,
what was extracted from it or why nothing was, and where its text files are.
Writes are transactions in WAL mode, so a killed process leaves it consistent.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
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
    extracted_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS captures_by_outlet_url ON captures (outlet, url);
CREATE INDEX IF NOT EXISTS captures_by_status ON captures (outlet, status, reason);
"""
COLUMNS = (
    "record_id", "outlet", "url", "canonical_url", "fetched", "warc_file", "warc_offset", "warc_length",
    "payload_digest", "status", "reason", "detail", "title", "byline", "source", "published", "language",
    "word_count", "page_text_path", "article_text_path", "metadata_path", "extractor_version", "extracted_at",
)


class Catalog:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(self.path, timeout=30)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.executescript(SCHEMA)

    def record(self, **row: Any) -> None:
        """Insert or replace the row of one capture (re-extraction updates it)."""
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown catalog columns: {sorted(unknown)}")
        row.setdefault("extracted_at", datetime.now(timezone.utc).isoformat(timespec="seconds"))
        names = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        updates = ", ".join(f"{name} = excluded.{name}" for name in row if name != "record_id")
        with self.connection:
            self.connection.execute(
                f"INSERT INTO captures ({names}) VALUES ({marks}) ON CONFLICT(record_id) DO UPDATE SET {updates}", row
            )

    def rows(self, outlet: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM captures" + (" WHERE outlet = ?" if outlet else "") + " ORDER BY fetched, record_id"
        cursor = self.connection.execute(query, (outlet,) if outlet else ())
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, values)) for values in cursor.fetchall()]

    def close(self) -> None:
        self.connection.close()
