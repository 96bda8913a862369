"""The catalog: one row per archived article capture (extracted, rejected or unchanged); the seen-state; validators.

It answers "what do we have?" without opening a WARC: where each capture lives,
what was extracted from it or why nothing was, and where its text files are.

One schema and one code path (SQLAlchemy Core) on two databases: SQLite
(``<ARCHIVE_ROOT>/catalog.sqlite``, WAL; the default, nothing to set up) or
PostgreSQL when ``DATABASE_URL`` says so (``postgresql+psycopg://...``: what
crawl workers on several machines share). The schema is made and upgraded by
Alembic migrations (``pipelines/catalog/migrations``) when a catalog is opened. Writes
are transactions, so a killed process leaves it consistent; concurrent writers
are kept apart by unique constraints, not by looking first.
"""

from __future__ import annotations

import fcntl
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from pipelines.capture import WarcLocation, warc_datetime
from pipelines.catalog.schema import (
    articles_table,
    authors_table,
    captures,
    coverage_table,
    requisites_table,
    seen_table,
    validators_table,
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Set on a connection about to begin a transaction that writes (see :meth:`Catalog._writing`).
WRITING = "newsarchive_writing"

COLUMNS = tuple(column.name for column in captures.columns)
# Queries asked for every URL a crawl meets, built once: building a statement each time cost more than running it
_SEEN_ROW = sa.select(seen_table).where(seen_table.c.outlet == sa.bindparam("outlet"),
                                        seen_table.c.url_key == sa.bindparam("url_key"))
_SEEN_ROWS = sa.select(seen_table).where(seen_table.c.outlet == sa.bindparam("outlet"),
                                         seen_table.c.url_key.in_(sa.bindparam("url_keys", expanding=True)))
_KEYS_PER_READ = 500  # SQLite allows 32,766 parameters a statement; PostgreSQL 65,535
_VERSION_OF = sa.select(captures.c.version, captures.c.previous_record_id).where(
    captures.c.record_id == sa.bindparam("record_id"))
_DROP_AUTHORS = authors_table.delete().where(authors_table.c.article_id == sa.bindparam("article_id"))
_LATEST_VERSION = (sa.select(captures.c.version, captures.c.record_id)
                   .where(captures.c.outlet == sa.bindparam("outlet"), captures.c.url_key == sa.bindparam("url_key"),
                          captures.c.status == "extracted")
                   .order_by(captures.c.version.desc()).limit(1))
_FIRST_FETCHED = (sa.select(captures.c.fetched)
                  .where(captures.c.outlet == sa.bindparam("outlet"), captures.c.url_key == sa.bindparam("url_key"),
                         captures.c.status == "extracted")
                  .order_by(captures.c.version).limit(1))
_REQUISITE = sa.select(requisites_table).where(requisites_table.c.outlet == sa.bindparam("outlet"),
                                               requisites_table.c.url == sa.bindparam("url"))
_VALIDATORS = sa.select(validators_table.c.etag, validators_table.c.last_modified).where(
    validators_table.c.url == sa.bindparam("url"))


def newest(table: sa.Table, outlet: str | None = None, limit: int = 0) -> sa.Select:
    """Rows of a table with an ``id`` and an ``outlet``, newest first (of one outlet; at most ``limit``)."""
    query = sa.select(table).order_by(table.c.id.desc())
    if outlet:
        query = query.where(table.c.outlet == outlet)
    return query.limit(limit) if limit else query


def latest_per_outlet(table: sa.Table, condition: sa.ColumnElement[bool]) -> sa.Select:
    """Each outlet's newest row of ``table`` among those meeting ``condition``."""
    latest = sa.select(sa.func.max(table.c.id)).where(condition).group_by(table.c.outlet)
    return sa.select(table).where(table.c.id.in_(latest))


def catalog_path(settings: Any) -> Path:
    """Where the SQLite catalog lives: ``CATALOG_PATH``, else ``<ARCHIVE_ROOT>/catalog.sqlite``.

    ``settings``: anything with ``.get`` (Scrapy settings, a dict)."""
    return Path(settings.get("CATALOG_PATH") or Path(settings.get("ARCHIVE_ROOT") or "archive") / "catalog.sqlite")


def catalog_url(settings: Any) -> str:
    """The catalog's database: ``DATABASE_URL`` if set, else the SQLite file of :func:`catalog_path`."""
    return settings.get("DATABASE_URL") or str(catalog_path(settings))


def engine_for(target: Path | str) -> Engine:
    """An engine for a database URL, or for a SQLite file named by its path (in WAL mode)."""
    text = str(target)
    if "://" in text:
        return sa.create_engine(text, pool_pre_ping=True)
    Path(text).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(f"sqlite:///{text}", connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _connect(connection: Any, _record: Any) -> None:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.isolation_level = None  # transactions as SQLAlchemy says (savepoints work), not as sqlite3 guesses

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.info.pop(WRITING, False) else "BEGIN")

    return engine


def sqlite_file(target: str) -> Path | None:
    """The SQLite file a catalog target names (a path or a ``sqlite:///`` URL); None for other databases."""
    if "://" not in target:
        return Path(target)
    url = make_url(target)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database)
    return None


def describe(target: str) -> str:
    """Where a catalog is, for messages: its SQLite file, or its database URL without the password."""
    path = sqlite_file(target)
    return str(path) if path is not None else make_url(target).render_as_string(hide_password=True)


def read_only_engine(target: str) -> Engine:
    """An engine on the catalog that cannot write, whatever is asked of it (SQLite ``query_only``, PostgreSQL
    read-only transactions). It never creates a SQLite file: check :func:`sqlite_file` exists first."""
    path = sqlite_file(target)
    if path is None:
        url = make_url(target)
        options: dict[str, Any] = {}
        if url.get_backend_name() == "postgresql":
            options["connect_args"] = {"options": "-c default_transaction_read_only=on"}
        return sa.create_engine(url, pool_pre_ping=True, **options)
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _read_only(connection: Any, _record: Any) -> None:
        connection.execute("PRAGMA query_only = ON")

    return engine


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that writes: begun as a writer (see :meth:`Catalog._writing`), committed
    at the end of the block."""
    with engine.connect() as connection:
        connection.info[WRITING] = True
        with connection.begin():
            yield connection


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration, once, however many processes open the catalog at once.

    A catalog at the newest revision (almost every time) is told by one query: Alembic, which costs every
    command 0.15 s to import, is loaded only to migrate."""
    if _current_revision(engine) == head_revision():
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(7070707)"))  # held until commit
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    else:
        with open(f"{engine.url.database}.migrate.lock", "w") as lock, engine.begin() as connection:
            fcntl.flock(lock, fcntl.LOCK_EX)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")


_REVISION = re.compile(r'^(down_)?revision\s*(?::[^=]*)?=\s*(?:"([^"]*)"|None)', re.M)


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration's revision: the one no other migration names as the one it follows (the
    migrations form one line; ``tests/test_catalog.py`` holds this to Alembic's own answer)."""
    revisions, followed = set(), set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        for down, revision in _REVISION.findall(script.read_text("utf-8")):
            (followed if down else revisions).add(revision)
    heads = revisions - followed
    if len(heads) != 1:
        raise RuntimeError(f"the catalog migrations must form one line; heads: {sorted(heads)}")
    return heads.pop()


def _current_revision(engine: Engine) -> str | None:
    """The catalog's revision (Alembic's ``alembic_version`` table), None for a new catalog."""
    with engine.connect() as connection:
        try:
            return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        except sa.exc.DBAPIError:  # no such table yet (a new catalog)
            connection.rollback()
            return None


def _one_per_version(error: sa.exc.IntegrityError) -> bool:
    """Whether the error is a second capture of one article version (PostgreSQL and SQLite say it apart)."""
    text = str(error.orig)
    return "captures_one_per_version" in text or "captures.outlet, captures.url_key, captures.version" in text


def _upsert(connection: Connection, table: sa.Table, keys: list[str], row: dict[str, Any],
            update: list[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET update = excluded.update, on either database."""
    connection.execute(_upsert_statement(table.name, tuple(row), tuple(keys), tuple(update)), row)


@lru_cache(maxsize=256)
def _upsert_statement(table: str, columns: tuple[str, ...], keys: tuple[str, ...],
                      update: tuple[str, ...]) -> sa.TextClause:
    """The statement as text, built once: SQLite and PostgreSQL spell the upsert alike, and SQLAlchemy's own
    ``on_conflict_do_update`` has no cache key, so it would be compiled afresh for every row, which costs
    more than the insert itself."""
    def quoted(names: tuple[str, ...]) -> str:
        return ", ".join(f'"{name}"' for name in names)

    values = ", ".join(f":{name}" for name in columns)
    changes = ", ".join(f'"{name}" = excluded."{name}"' for name in update)
    action = f"DO UPDATE SET {changes}" if update else "DO NOTHING"
    return sa.text(f'INSERT INTO "{table}" ({quoted(columns)}) VALUES ({values}) ON CONFLICT ({quoted(keys)}) {action}')


def _index_article_statement(postgres: bool) -> sa.TextClause:
    """The search index's upsert: a version replaces the one indexed only if it is not older; the first
    fetch of the article stays the earliest seen."""
    columns = [column.name for column in articles_table.columns if column.name != "id"]
    update = [name for name in columns if name not in {"outlet", "url_key", "first_fetched"}]
    earliest = "LEAST" if postgres else "min"
    changes = ", ".join([*(f'"{name}" = excluded."{name}"' for name in update),
                         f'"first_fetched" = {earliest}(articles.first_fetched, excluded.first_fetched)'])
    return sa.text(
        f'INSERT INTO articles ({", ".join(columns)}) VALUES ({", ".join(":" + name for name in columns)}) '
        f"ON CONFLICT (outlet, url_key) DO UPDATE SET {changes} WHERE excluded.version >= articles.version "
        "RETURNING id")


_INDEX_ARTICLE = {postgres: _index_article_statement(postgres) for postgres in (False, True)}
_SEEN_UPSERT = _upsert_statement(
    "seen", ("outlet", "url_key", "url", "first_fetched", "last_fetched", "fetches", "next_revisit", "record_id",
             "payload_digest", "warc_date", "warc_file"), ("outlet", "url_key"),
    ("last_fetched", "fetches", "next_revisit", "record_id", "payload_digest", "warc_date", "warc_file"))


class Catalog:
    """One connection to the catalog; writes wait for :meth:`commit` where ``commit=False`` says so."""

    def __init__(self, target: Path | str) -> None:
        self.engine = engine_for(target)
        migrate(self.engine)
        self.connection: Connection | None = self.engine.connect()
        self._postgres = self.engine.dialect.name == "postgresql"
        self._pending = False  # writes waiting for commit()
        # Writers that hold writes back to put them in together (story assignment's index rows): each commit
        # first calls their flush; a rollback, their discard.
        self.before_commit: list[Callable[[], None]] = []
        self.after_rollback: list[Callable[[], None]] = []
        self.attached: dict[str, Any] = {}  # such writers, by name, one per connection
        self.on_close: list[Callable[[], None]] = []  # what they do once everything is committed, before closing
        # mark_fetched's batch: (outlet, url keys, url, location, revisits), and the (outlet, key) pairs it has
        self._fetches: list[tuple[str, list[str], str, WarcLocation, tuple[timedelta, ...]]] = []
        self._fetched_keys: set[tuple[str, str]] = set()

    @property
    def pending(self) -> bool:
        """Whether writes are waiting for :meth:`commit`."""
        return self._pending

    @property
    def _db(self) -> Connection:
        if self.connection is None:
            raise RuntimeError("the catalog is closed")
        return self.connection

    def _read(self, query: sa.Executable, parameters: dict[str, Any] | None = None) -> list[sa.Row]:
        """Rows of a query that sees what other processes committed: a read outside a batch of writes ends its
        transaction at once (SQLite would otherwise keep reading the snapshot of its first read)."""
        rows = list(self._db.execute(query, parameters))
        if not self._pending:
            self._db.commit()
        return rows

    def _writing(self) -> None:
        """Begin the transaction a write needs, as a writer from the start (SQLite: ``BEGIN IMMEDIATE``, which
        waits for the write lock with the busy timeout). A transaction that began with a read and writes
        later fails at once with "database is locked" when another process wrote in between (its snapshot
        is stale: SQLite cannot wait that out), as crawls sharing a catalog do."""
        if not self._db.in_transaction():
            self._db.info[WRITING] = True
            self._db.begin()

    def _wrote(self, commit: bool) -> None:
        if commit:
            self._flush()
            self._db.commit()
        self._pending = not commit and self._db.in_transaction()

    def record(self, commit: bool = True, **row: Any) -> bool:
        """Insert or replace the row of one capture (re-extraction updates it); ``commit=False`` batches.

        Returns False, recording nothing, when another capture already holds this version of the article
        (a concurrent worker recorded the same article first).
        """
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown catalog columns: {sorted(unknown)}")
        row.setdefault("extracted_at", datetime.now(UTC).isoformat(timespec="seconds"))
        self._writing()
        try:
            # a lost race must undo this row only: SQLite undoes the failed statement alone; PostgreSQL would
            # abort the whole transaction, so there the row goes in under a savepoint
            with self._db.begin_nested() if self._postgres else nullcontext():
                _upsert(self._db, captures, ["record_id"], row, [name for name in row if name != "record_id"])
        except sa.exc.IntegrityError as error:
            if not _one_per_version(error):
                raise
            return False
        finally:
            self._wrote(commit)
        return True

    def index_article(self, article: dict[str, Any], authors: list[str], commit: bool = True) -> bool:
        """Put an article version in the search index, unless a later version of it is there already.

        ``article`` has the columns of ``articles`` (but ``id``); returns whether the index changed.
        """
        statement = _INDEX_ARTICLE[self._postgres]
        self._writing()
        try:
            found = self._db.execute(statement, article).first()
            if found is not None:
                self._db.execute(_DROP_AUTHORS, {"article_id": found[0]})
                names = list(dict.fromkeys(name for name in authors if name))
                if names:
                    self._db.execute(authors_table.insert(), [
                        {"article_id": found[0], "name": name, "folded": name.casefold(), "position": position}
                    for position, name in enumerate(names)])
        finally:
            self._wrote(commit)
        return found is not None

    def first_fetched(self, outlet: str, url_key: str) -> str:
        """The WARC-Date of an article's first extracted version ("" if none is recorded)."""
        rows = self._read(_FIRST_FETCHED, {"outlet": outlet, "url_key": url_key})
        return rows[0][0] or "" if rows else ""

    def seen(self, outlet: str, url_key: str) -> dict[str, Any] | None:
        if (outlet, url_key) in self._fetched_keys:
            self._flush_fetches()
        rows = self._read(_SEEN_ROW, {"outlet": outlet, "url_key": url_key})
        return dict(rows[0]._mapping) if rows else None

    def mark_fetched(
        self, outlet: str, url_keys: list[str], url: str, location: WarcLocation, revisits: list[timedelta],
        commit: bool = True,
    ) -> None:
        """Record a fetch of an article under each of its keys, at its WARC-Date; schedule its next revisit.

        Idempotent: a fetch no later than the last one recorded for a key is in the seen-state already.

        A revisit record (``location.revisit_of``: the payload was unchanged) keeps the key pointing at the
        capture that holds the payload. With ``commit=False`` the change waits for the next :meth:`commit`
        (a crawl batches them): the fetches of a batch are read and written together, a few statements for
        hundreds of fetches, while every read of this catalog still sees them.
        """
        self._writing()
        self._pending = True
        keys = list(dict.fromkeys(url_keys))
        self._fetches.append((outlet, keys, url, location, tuple(revisits)))
        self._fetched_keys.update((outlet, key) for key in keys)
        if commit:
            self._wrote(commit)

    def _flush_fetches(self) -> None:
        """Write the batched :meth:`mark_fetched` rows: one read of the rows they change, one ``executemany``
        (before a commit, and before any read of the ``seen`` table that could see them). A failure undoes the
        transaction, the batch with it, as a failed write of a batch always has."""
        if not self._fetches:
            return
        try:
            self._writing()
            known = self._seen_rows(self._fetched_keys)
            changed: dict[tuple[str, str], dict[str, Any]] = {}
            for outlet, keys, url, location, revisits in self._fetches:
                fetched = warc_datetime(location.date) or datetime.now(UTC)
                for key in keys:
                    row = changed.get((outlet, key)) or known.get((outlet, key))
                    if row is not None and datetime.fromisoformat(row["last_fetched"]) >= fetched:
                        continue  # this fetch, or a later one, is in already (a capture replayed again)
                    first = datetime.fromisoformat(row["first_fetched"]) if row else fetched
                    fetches = row["fetches"] + 1 if row else 1
                    due = first + revisits[fetches - 1] if fetches <= len(revisits) else None
                    keep = location.is_revisit and row is not None
                    changed[(outlet, key)] = {
                        "outlet": outlet, "url_key": key, "url": url, "first_fetched": first.isoformat(),
                        "last_fetched": fetched.isoformat(), "fetches": fetches,
                        "next_revisit": due.isoformat() if due else None,
                        "record_id": row["record_id"] if keep else location.record_id,
                        "payload_digest": row["payload_digest"] if keep else location.payload_digest,
                        "warc_date": row["warc_date"] if keep else location.date,
                        "warc_file": row["warc_file"] if keep else location.file,
                    }
            if changed:
                self._db.execute(_SEEN_UPSERT, list(changed.values()))
        except BaseException:
            self.rollback()  # the batch goes with the transaction, and so does what attached writers held for it
            raise
        self._fetches.clear()
        self._fetched_keys.clear()

    def _seen_rows(self, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """The seen rows of (outlet, url key) ``pairs``, a few hundred keys a query."""
        by_outlet: dict[str, list[str]] = {}
        for outlet, key in pairs:
            by_outlet.setdefault(outlet, []).append(key)
        rows = {}
        for outlet, keys in by_outlet.items():
            for start in range(0, len(keys), _KEYS_PER_READ):
                chunk = keys[start:start + _KEYS_PER_READ]
                for row in self._db.execute(_SEEN_ROWS, {"outlet": outlet, "url_keys": chunk}):
                    rows[(outlet, row.url_key)] = dict(row._mapping)
        return rows

    def begin_write(self) -> None:
        """Begin a transaction that writes, as a writer (for writes made on :attr:`connection` directly)."""
        self._writing()
        self._pending = True

    def rollback(self) -> None:
        """Undo the writes since the last commit."""
        self._db.rollback()
        self._pending = False
        self._fetches.clear()
        self._fetched_keys.clear()
        for discard in self.after_rollback:
            discard()

    def commit(self) -> None:
        if self.connection is not None:  # closing committed everything
            self._flush()
            self.connection.commit()
            self._pending = False

    def _flush(self) -> None:
        self._flush_fetches()
        for flush in self.before_commit:
            flush()

    def unextracted_files(self, outlet: str) -> list[str]:
        """WARC files holding fetched articles of ``outlet`` that have no catalog row (a crawl was killed)."""
        recorded = sa.select(captures.c.record_id).where(captures.c.record_id.is_not(None))
        query = (sa.select(seen_table.c.warc_file).distinct()
                 .where(seen_table.c.outlet == outlet, seen_table.c.warc_file.is_not(None),
                        seen_table.c.record_id.not_in(recorded))
                 .order_by(seen_table.c.warc_file))
        self._flush_fetches()
        return [row[0] for row in self._read(query)]

    def due_revisits(self, outlet: str, now: datetime, limit: int) -> list[dict[str, Any]]:
        """Archived articles of ``outlet`` whose next revisit is due, most overdue first."""
        query = (sa.select(seen_table)
                 .where(seen_table.c.outlet == outlet, seen_table.c.next_revisit.is_not(None),
                        seen_table.c.next_revisit <= now.isoformat())
                 .order_by(seen_table.c.next_revisit).limit(limit))
        self._flush_fetches()
        return [dict(row._mapping) for row in self._read(query)]

    def validators(self, url: str) -> tuple[str, str]:
        rows = self._read(_VALIDATORS, {"url": url})
        return (rows[0][0] or "", rows[0][1] or "") if rows else ("", "")

    def save_validators(self, url: str, etag: str, last_modified: str) -> None:
        row = {"url": url, "etag": etag, "last_modified": last_modified,
               "updated": datetime.now(UTC).isoformat(timespec="seconds")}
        self._writing()
        _upsert(self._db, validators_table, ["url"], row, ["etag", "last_modified", "updated"])
        self._wrote(True)

    def requisite(self, outlet: str, url: str) -> dict[str, Any] | None:
        """The requisite at ``url`` archived for ``outlet``: when last fetched, the capture holding its payload."""
        rows = self._read(_REQUISITE, {"outlet": outlet, "url": url})
        return dict(rows[0]._mapping) if rows else None

    def save_requisite(self, outlet: str, url: str, checked: str, record_id: str, payload_digest: str,
                       warc_date: str, etag: str = "", last_modified: str = "", uses: list[str] | None = None,
                       commit: bool = True) -> None:
        """A requisite was fetched (``commit=False`` batches): ``checked`` is when; the capture holding its
        payload, its validators, and (``uses``, a stylesheet's; None: as it was) the requisites it names."""
        row = {"outlet": outlet, "url": url, "checked": checked, "record_id": record_id,
               "payload_digest": payload_digest, "warc_date": warc_date, "etag": etag, "last_modified": last_modified}
        if uses is not None:
            row["uses"] = "\n".join(uses)
        self._writing()
        _upsert(self._db, requisites_table, ["outlet", "url"], row, list(row)[2:])
        self._wrote(commit)

    def has_capture(self, record_id: str) -> bool:
        """Whether the capture has a row (extracted, rejected or unchanged)."""
        return bool(self._read(_VERSION_OF, {"record_id": record_id}))

    def version_of(self, record_id: str) -> tuple[int, str] | None:
        """The version a capture was recorded as, and the record id of the version before (None: not yet)."""
        rows = self._read(_VERSION_OF, {"record_id": record_id})
        return (rows[0][0], rows[0][1] or "") if rows and rows[0][0] else None

    def previous_version(self, outlet: str, url_key: str) -> tuple[int, str]:
        """The latest extracted version of an article (0 if none) and its capture's record id."""
        rows = self._read(_LATEST_VERSION, {"outlet": outlet, "url_key": url_key})
        return (rows[0][0] or 1, rows[0][1]) if rows else (0, "")

    def record_coverage(self, outlet: str, pages: int, shares: dict[str, float], baseline: dict[str, float] | None,
                        degraded: str, finished: str) -> None:
        """One run's coverage; ``finished``: when its latest article page was fetched, which names the run:
        recording a run again (its WARCs replayed again) replaces its row."""
        values = {**shares, "outlet": outlet, "pages": pages, "degraded": degraded or None, "finished": finished,
                  "baseline": json.dumps(baseline, sort_keys=True) if baseline is not None else None}
        same_run = (coverage_table.c.outlet == outlet) & (coverage_table.c.finished == finished)
        self._writing()
        if not self._db.execute(coverage_table.update().where(same_run).values(**values)).rowcount:
            self._db.execute(coverage_table.insert().values(**values))
        self._wrote(commit=True)

    def coverage_before(self, outlet: str, finished: str, limit: int) -> list[dict[str, Any]]:
        """The outlet's coverage rows of runs that ended before ``finished``, latest first (a run's baseline)."""
        query = (
            sa.select(coverage_table)
            .where(coverage_table.c.outlet == outlet, coverage_table.c.finished < finished)
            .order_by(coverage_table.c.finished.desc())
            .limit(limit)
        )
        return self._coverage_rows(query)

    def coverage(self, outlet: str | None = None, limit: int = 0) -> list[dict[str, Any]]:
        """Coverage rows, newest first (of one outlet, if given; at most ``limit``, if given)."""
        return self._coverage_rows(newest(coverage_table, outlet, limit))

    def assessed_coverage(self) -> dict[str, dict[str, Any]]:
        """Each outlet's latest coverage row that was compared with a baseline."""
        rows = self._coverage_rows(latest_per_outlet(coverage_table, coverage_table.c.baseline.is_not(None)))
        return {row["outlet"]: row for row in rows}

    def _coverage_rows(self, query: sa.Executable) -> list[dict[str, Any]]:
        rows = [dict(row._mapping) for row in self._read(query)]
        for row in rows:
            row["baseline"] = json.loads(row["baseline"]) if row["baseline"] else None
        return rows

    def rows(self, outlet: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(captures).order_by(captures.c.fetched, captures.c.record_id)
        if outlet:
            query = query.where(captures.c.outlet == outlet)
        return [dict(row._mapping) for row in self._read(query)]

    def close(self) -> None:
        """Commit and close; closing again (outlets of a frontier worker share one catalog) does nothing."""
        if self.connection is not None:
            self._flush()
            self.connection.commit()
            try:
                for closing in self.on_close:
                    closing()
            finally:
                self.connection.close()
                self.connection = None
                self.engine.dispose()
