"""Run history: one row per crawl run in the ``runs`` table of the catalog.

A row is written when a crawl starts (status ``running``, with the crawl's
process id and where it leaves its stats) and completed when it ends: end
time, exit code, status and the headline stats. A service killed mid-run
leaves ``running`` rows behind; :meth:`RunHistory.unfinished` finds them so the
next start of the service can settle them.

Statuses: ``running``; ``ok`` (exit code 0); ``failed`` (any other exit code);
``timeout`` (stopped at the wall-clock limit); ``stopped`` (the service was
shutting down); ``interrupted`` (the service died during the run).

The table lives in the catalog's database (SQLite by default, PostgreSQL with
``DATABASE_URL``), made by its migrations; every write is a transaction on a
short-lived connection, so threads and processes can share it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pipelines.catalog.schema import STATUSES, runs_table
from pipelines.catalog.store import engine_for, latest_per_outlet, migrate, newest, writing


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


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
    def __init__(self, target: Path | str) -> None:
        """``target``: the catalog's database URL, or its SQLite file (:func:`pipelines.catalog.catalog_url`)."""
        self.engine = engine_for(target)
        migrate(self.engine)

    def close(self) -> None:
        """Close its connections. The last connection to a SQLite catalog to close moves the write-ahead log
        into ``catalog.sqlite``: a copy of that file alone then holds every row."""
        self.engine.dispose()

    def _rows(self, query: sa.Executable) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def start(self, outlet: str, trigger: str, *, log: Path | str | None = None, pid: int | None = None,
              summary_file: Path | str | None = None, started: str | None = None) -> int:
        """Record a run that has just started; returns its id."""
        with writing(self.engine) as connection:
            result = connection.execute(runs_table.insert().values(
                outlet=outlet, trigger=trigger, started=started or now_iso(), status="running", log=_text(log),
                pid=pid, summary_file=_text(summary_file)))
            return int(result.inserted_primary_key[0])

    def finish(self, run_id: int, status: str, *, exit_code: int | None = None, summary: dict | None = None,
               problem: str = "", ended: str | None = None) -> None:
        """Complete a run: its end, status, exit code and (from the crawl's summary) its stats."""
        if status not in STATUSES or status == "running":
            raise ValueError(f"not a final run status: {status!r}")
        stats = (summary or {}).get("stats") or {}
        figures = headline_stats(stats) if summary else dict.fromkeys(
            ("requests", "responses", "new_articles", "revisits", "errors", "bytes"))
        with writing(self.engine) as connection:
            connection.execute(runs_table.update().where(runs_table.c.id == run_id).values(
                **figures, ended=ended or now_iso(), status=status, exit_code=exit_code,
                finish_reason=(summary or {}).get("finish_reason"), problem=problem or None,
                stats=json.dumps(stats, default=str, sort_keys=True) if summary else None))

    def unfinished(self) -> list[dict[str, Any]]:
        """Runs still marked ``running``."""
        return self._rows(sa.select(runs_table).where(runs_table.c.status == "running").order_by(runs_table.c.id))

    def runs(self, outlet: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Runs, newest first (of one outlet, if given)."""
        return self._rows(newest(runs_table, outlet, limit or 0))

    def last_runs(self) -> dict[str, dict[str, Any]]:
        """The latest finished run of each outlet, and the one running now if there is one."""
        finished = self._rows(latest_per_outlet(runs_table, runs_table.c.status != "running"))
        last: dict[str, dict[str, Any]] = {row["outlet"]: {"last": row} for row in finished}
        for row in self.unfinished():
            last.setdefault(row["outlet"], {})["running"] = row
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
