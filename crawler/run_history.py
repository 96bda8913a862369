"""Run history: one row per crawl run in the ``runs`` table of the catalog (SQLite, WAL).

A row is written when a crawl starts (status ``running``, with the crawl's
process id and where it leaves its stats) and completed when it ends: end
time, exit code, status and the headline stats. A service killed mid-run
leaves ``running`` rows behind; :meth:`RunHistory.unfinished` finds them so the
next start can settle them (see :mod:`crawler.service`).

Statuses: ``running``; ``ok`` (exit code 0); ``failed`` (any other exit code);
``timeout`` (stopped at the wall-clock limit); ``stopped`` (the service was
shutting down); ``interrupted`` (the service died during the run).

Only this table is created here; the ``captures`` table and its companions
belong to :mod:`pipelines.catalog`, in the same file. Every write is a
transaction on its own short-lived connection, so threads and processes can
share the file.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

STATUSES = ("running", "ok", "failed", "timeout", "stopped", "interrupted")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    outlet TEXT NOT NULL,
    trigger TEXT NOT NULL,               -- schedule, run-now, crawlall
    started TEXT NOT NULL,               -- ISO 8601, UTC
    ended TEXT,
    status TEXT NOT NULL CHECK (status IN ({", ".join(f"'{s}'" for s in STATUSES)})),
    exit_code INTEGER,                   -- the crawl process's; negative: killed by that signal
    requests INTEGER,
    responses INTEGER,
    new_articles INTEGER,                -- stat extraction/extracted
    revisits INTEGER,                    -- stat revisit/unchanged
    errors INTEGER,                      -- stats downloader/exception_count + log_count/ERROR
    bytes INTEGER,                       -- stat warc/bytes
    finish_reason TEXT,                  -- Scrapy's, when the crawl got to report it
    problem TEXT,                        -- what went wrong, in words
    log TEXT,
    pid INTEGER,
    summary_file TEXT,                   -- RUN_SUMMARY_FILE of the crawl
    stats TEXT                           -- every stat, JSON
);
CREATE INDEX IF NOT EXISTS runs_by_outlet ON runs (outlet, started);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status);
"""


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def headline_stats(stats: dict[str, Any]) -> dict[str, int]:
    """The figures a run is summed up by, from a crawl's final Scrapy stats."""
    return {
        "requests": int(stats.get("downloader/request_count", 0)),
        "responses": int(stats.get("downloader/response_count", 0)),
        "new_articles": int(stats.get("extraction/extracted", 0)),
        "revisits": int(stats.get("revisit/unchanged", 0)),
        "errors": int(stats.get("downloader/exception_count", 0)) + int(stats.get("log_count/ERROR", 0)),
        "bytes": int(stats.get("warc/bytes", 0)),
    }


class RunHistory:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30)) as connection:
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            with connection:  # one transaction: committed on success, rolled back on error
                yield connection

    def start(self, outlet: str, trigger: str, *, log: Path | str | None = None, pid: int | None = None,
              summary_file: Path | str | None = None, started: str | None = None) -> int:
        """Record a run that has just started; returns its id."""
        with self._connect() as connection:
            cursor = connection.execute(
                "INSERT INTO runs (outlet, trigger, started, status, log, pid, summary_file)"
                " VALUES (?, ?, ?, 'running', ?, ?, ?)",
                (outlet, trigger, started or now_iso(), _text(log), pid, _text(summary_file)),
            )
            return int(cursor.lastrowid)

    def finish(self, run_id: int, status: str, *, exit_code: int | None = None, summary: dict | None = None,
               problem: str = "", ended: str | None = None) -> None:
        """Complete a run: its end, status, exit code and (from the crawl's summary) its stats."""
        if status not in STATUSES or status == "running":
            raise ValueError(f"not a final run status: {status!r}")
        stats = (summary or {}).get("stats") or {}
        figures = headline_stats(stats) if summary else dict.fromkeys(
            ("requests", "responses", "new_articles", "revisits", "errors", "bytes"))
        with self._connect() as connection:
            connection.execute(
                "UPDATE runs SET ended = :ended, status = :status, exit_code = :exit_code,"
                " requests = :requests, responses = :responses, new_articles = :new_articles,"
                " revisits = :revisits, errors = :errors, bytes = :bytes, finish_reason = :finish_reason,"
                " problem = :problem, stats = :stats WHERE id = :id",
                {
                    **figures,
                    "id": run_id,
                    "ended": ended or now_iso(),
                    "status": status,
                    "exit_code": exit_code,
                    "finish_reason": (summary or {}).get("finish_reason"),
                    "problem": problem or None,
                    "stats": json.dumps(stats, default=str, sort_keys=True) if summary else None,
                },
            )

    def unfinished(self) -> list[dict[str, Any]]:
        """Runs still marked ``running``."""
        with self._connect() as connection:
            rows = connection.execute("SELECT * FROM runs WHERE status = 'running' ORDER BY id").fetchall()
        return [dict(row) for row in rows]

    def runs(self, outlet: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Runs, newest first (of one outlet, if given)."""
        query = "SELECT * FROM runs" + (" WHERE outlet = ?" if outlet else "") + " ORDER BY id DESC"
        params: tuple[Any, ...] = (outlet,) if outlet else ()
        if limit:
            query += " LIMIT ?"
            params += (limit,)
        with self._connect() as connection:
            return [dict(row) for row in connection.execute(query, params).fetchall()]

    def last_runs(self) -> dict[str, dict[str, Any]]:
        """The latest finished run of each outlet, and the one running now if there is one."""
        with self._connect() as connection:
            finished = connection.execute(
                "SELECT * FROM runs WHERE id IN"
                " (SELECT MAX(id) FROM runs WHERE status != 'running' GROUP BY outlet)"
            ).fetchall()
            running = connection.execute("SELECT * FROM runs WHERE status = 'running' ORDER BY id").fetchall()
        last: dict[str, dict[str, Any]] = {row["outlet"]: {"last": dict(row)} for row in finished}
        for row in running:
            last.setdefault(row["outlet"], {})["running"] = dict(row)
        return last


def _text(value: Path | str | None) -> str | None:
    return None if value is None else str(value)


def describe(run: dict[str, Any] | None) -> str:
    """One line for a finished run: status, when, how long, what it brought."""
    if not run:
        return "never run"
    started = run["started"][:19].replace("T", " ")
    seconds = ""
    if run.get("ended"):
        elapsed = datetime.fromisoformat(run["ended"]) - datetime.fromisoformat(run["started"])
        seconds = f" ({elapsed.total_seconds():.0f}s)"
    text = f"{run['status']} {started}{seconds}"
    if run.get("requests") is not None:
        text += (f": {run['new_articles']} new, {run['revisits']} revisits, {run['requests']} requests,"
                 f" {run['errors']} errors, {run['bytes'] / 1e6:.1f} MB")
    if run.get("problem"):
        text += f" - {run['problem']}"
    return text
