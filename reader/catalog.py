"""The catalog as the reading room sees it: opened read-only, and every query its pages make besides search.

The engine refuses writes at the database level: SQLite connections run with ``PRAGMA query_only``,
PostgreSQL sessions with ``default_transaction_read_only``. A SQLite catalog that does not exist yet is not
created: the app says the archive is empty until a crawl makes it (the engine is opened on first use).

Text files are read only at the paths the catalog holds (relative to ``ARCHIVE_ROOT``), and only when the
resolved path stays under it; nothing from a request is ever part of a path.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pipelines.catalog.schema import articles_table, captures, coverage_table, runs_table
from pipelines.catalog.store import describe, latest_per_outlet, newest, read_only_engine, sqlite_file

#: The most text shown of one file (page texts of enormous pages are cut, and say so).
MAX_TEXT_BYTES = 4 * 1024 * 1024


class CatalogMissing(Exception):
    """There is no catalog yet (no crawl has recorded anything)."""


class ReadCatalog:
    """The catalog's tables, read; text files under the archive root."""

    def __init__(self, target: str, archive_root: Path) -> None:
        self.target = target
        self.root = Path(archive_root).resolve()
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def exists(self) -> bool:
        path = sqlite_file(self.target)
        return path is None or path.is_file()

    @property
    def engine(self) -> Engine:
        """The read-only engine, opened on first use; :class:`CatalogMissing` while there is no catalog."""
        if self._engine is None:
            if not self.exists:
                raise CatalogMissing(self.describe())
            with self._lock:
                if self._engine is None:
                    self._engine = read_only_engine(self.target)
        return self._engine

    def describe(self) -> str:
        """Where the catalog is, for messages (a PostgreSQL URL without its password)."""
        return describe(self.target)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def _rows(self, query: sa.Executable, parameters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query, parameters or {})]

    # -- files

    def path_of(self, relative: str | None) -> Path | None:
        """The file a catalog row names, if it resolves under the archive root (None otherwise)."""
        if not relative:
            return None
        path = (self.root / relative).resolve()
        return path if path.is_relative_to(self.root) else None

    def text(self, relative: str | None) -> tuple[str | None, bool]:
        """A text file the catalog names: its text (None if it is missing or outside the archive) and
        whether it was cut at :data:`MAX_TEXT_BYTES`."""
        path = self.path_of(relative)
        if path is None:
            return None, False
        try:
            with path.open("rb") as file:
                data = file.read(MAX_TEXT_BYTES + 1)
        except OSError:
            return None, False
        return data[:MAX_TEXT_BYTES].decode("utf-8", errors="replace"), len(data) > MAX_TEXT_BYTES

    def metadata(self, relative: str | None) -> dict[str, Any] | None:
        """A capture's metadata sidecar (JSON), if it is there."""
        text, cut = self.text(relative)
        if text is None or cut:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def log_file(self, relative_or_absolute: str | None) -> Path | None:
        """A run's log (the runs table holds its path): only a file under the archive root."""
        path = self.path_of(relative_or_absolute)
        return path if path is not None and path.is_file() else None

    # -- captures and versions

    def capture(self, record_id: str) -> dict[str, Any] | None:
        rows = self._rows(sa.select(captures).where(captures.c.record_id == record_id))
        return rows[0] if rows else None

    def captures_of(self, outlet: str, key: str) -> list[dict[str, Any]]:
        """Every capture of one article (extracted versions, unchanged revisits, rejections), oldest first."""
        query = (sa.select(captures).where(captures.c.outlet == outlet, captures.c.url_key == key)
                 .order_by(captures.c.fetched, captures.c.record_id))
        return self._rows(query)

    def latest_version(self, outlet: str, key: str) -> dict[str, Any] | None:
        query = (sa.select(captures)
                 .where(captures.c.outlet == outlet, captures.c.url_key == key, captures.c.status == "extracted")
                 .order_by(captures.c.version.desc(), captures.c.fetched.desc()).limit(1))
        rows = self._rows(query)
        return rows[0] if rows else None

    def unindexed(self) -> int:
        """How many articles the catalog has while its search index has none (a catalog made before the index
        existed: ``scrapy replay`` builds it); 0 when the index has articles, or there are none."""
        if self._rows(sa.select(articles_table.c.id).limit(1)):
            return 0
        articles = sa.select(captures.c.outlet, captures.c.url_key).where(captures.c.status == "extracted").distinct()
        return self._rows(sa.select(sa.func.count()).select_from(articles.subquery()))[0]["count_1"]

    def indexed(self, outlet: str, key: str) -> dict[str, Any] | None:
        """The article's row in the search index (its latest version: section, standfirst...)."""
        query = sa.select(articles_table).where(articles_table.c.outlet == outlet, articles_table.c.url_key == key)
        rows = self._rows(query)
        return rows[0] if rows else None

    def changes(self, outlet: str | None, limit: int, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        """New versions (version > 1), newest first, and how many there are."""
        condition = sa.and_(captures.c.status == "extracted", captures.c.version > 1)
        if outlet:
            condition = sa.and_(condition, captures.c.outlet == outlet)
        with self.engine.connect() as connection:
            total = connection.execute(sa.select(sa.func.count()).select_from(captures).where(condition)).scalar_one()
            rows = connection.execute(sa.select(captures).where(condition)
                                      .order_by(captures.c.fetched.desc(), captures.c.record_id)
                                      .limit(limit).offset(offset))
            return total, [dict(row._mapping) for row in rows]

    # -- outlets, runs, health

    def outlets(self) -> list[str]:
        """Every outlet the catalog knows of (articles, captures, runs or coverage)."""
        query = sa.union(*(sa.select(table.c.outlet).distinct()
                           for table in (articles_table, captures, runs_table, coverage_table)))
        return sorted(row["outlet"] for row in self._rows(query) if row["outlet"])

    def outlet_figures(self) -> dict[str, dict[str, Any]]:
        """Per outlet: articles indexed, captures by status, new versions, the latest capture."""
        figures: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as connection:
            for outlet, articles in connection.execute(
                    sa.select(articles_table.c.outlet, sa.func.count()).group_by(articles_table.c.outlet)):
                figures.setdefault(outlet, {})["articles"] = articles
            for outlet, status, count, latest in connection.execute(
                    sa.select(captures.c.outlet, captures.c.status, sa.func.count(), sa.func.max(captures.c.fetched))
                    .group_by(captures.c.outlet, captures.c.status)):
                entry = figures.setdefault(outlet, {})
                entry[status or "unknown"] = count
                entry["last_capture"] = max(filter(None, [entry.get("last_capture"), latest]), default=None)
            for outlet, count in connection.execute(
                    sa.select(captures.c.outlet, sa.func.count())
                    .where(captures.c.status == "extracted", captures.c.version > 1).group_by(captures.c.outlet)):
                figures.setdefault(outlet, {})["new_versions"] = count
        return figures

    def runs(self, outlet: str | None, limit: int, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        """Runs, newest first, and how many there are (of one outlet, if given)."""
        query = newest(runs_table, outlet)
        count = sa.select(sa.func.count()).select_from(runs_table)
        if outlet:
            count = count.where(runs_table.c.outlet == outlet)
        with self.engine.connect() as connection:
            total = connection.execute(count).scalar_one()
            rows = [dict(row._mapping) for row in connection.execute(query.limit(limit).offset(offset))]
        return total, rows

    def run(self, run_id: int) -> dict[str, Any] | None:
        rows = self._rows(sa.select(runs_table).where(runs_table.c.id == run_id))
        return rows[0] if rows else None

    def running(self) -> dict[str, dict[str, Any]]:
        """Each outlet's run still marked running."""
        rows = self._rows(sa.select(runs_table).where(runs_table.c.status == "running").order_by(runs_table.c.id))
        return {row["outlet"]: row for row in rows}

    def coverage(self, outlet: str, limit: int) -> list[dict[str, Any]]:
        """The outlet's extraction coverage per run, oldest first (the last ``limit`` runs)."""
        rows = self._rows(newest(coverage_table, outlet, limit))
        for row in rows:
            row["baseline"] = json.loads(row["baseline"]) if row["baseline"] else None
        return rows[::-1]

    def assessed_coverage(self) -> dict[str, dict[str, Any]]:
        """Each outlet's latest coverage row that was judged against a baseline (the degraded flag)."""
        rows = self._rows(latest_per_outlet(coverage_table, coverage_table.c.baseline.is_not(None)))
        for row in rows:
            row["baseline"] = json.loads(row["baseline"]) if row["baseline"] else None
        return {row["outlet"]: row for row in rows}
