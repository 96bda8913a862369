"""``scrapy serve``: the reading room, a read-only web application over the archive (:mod:`reader`).

It serves the catalog (``DATABASE_URL``, else ``<ARCHIVE_ROOT>/catalog.sqlite``) and the text files of
``ARCHIVE_ROOT`` on ``--host`` / ``--port`` (``READER_HOST``, 127.0.0.1, and ``READER_PORT``, 8000). Bound to
anything but loopback it needs ``READER_TOKEN`` (env ``NEWSARCHIVE_READER_TOKEN``), and then every request
must carry it. pywb links point at ``READER_PYWB_URL``. Each outlet's schedule, next run and paused flag are
read from the scheduler's job store and handed to the app as plain rows: the reader never imports the crawler.

``--health`` asks a running reading room on that host and port whether it answers (container health checks).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from crawler.commands import outlet_names
from crawler.commands.schedule import schedule_rows
from crawler.schedule.crawl_process import archive_root
from crawler.schedule.jobstore import JobStore, Scheduler, job_store_url
from pipelines.catalog import catalog_url, engine_for, migrate
from pipelines.catalog.store import describe, sqlite_file
from reader.config import LOOPBACK_NAMES, ReaderConfig, is_loopback


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[--host 127.0.0.1] [--port 8000] | --health"

    def short_desc(self) -> str:
        return "Serve the reading room: search, articles and their versions, changes, outlets, runs (read-only)"

    def long_desc(self) -> str:
        return (
            "Serve the reading room, a read-only web application over the catalog and the text files of "
            "ARCHIVE_ROOT (or the catalog of DATABASE_URL), with a JSON API under /api/. It binds 127.0.0.1 by "
            "default; bound to any other address it needs READER_TOKEN (env NEWSARCHIVE_READER_TOKEN) and "
            "requires it on every request."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--host", default=None, help="address to bind (default READER_HOST, 127.0.0.1)")
        parser.add_argument("--port", type=int, default=None, help="port to bind (default READER_PORT, 8000)")
        parser.add_argument("--health", action="store_true",
                            help="exit 0 if a reading room answers on that host and port, else 1")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if args:
            raise UsageError(f"unexpected argument(s): {' '.join(args)}")
        settings = self.settings
        host = opts.host or settings.get("READER_HOST") or "127.0.0.1"
        port = opts.port if opts.port is not None else settings.getint("READER_PORT", 8000)
        token = settings.get("READER_TOKEN") or None
        if not 0 <= port <= 65535:
            raise UsageError(f"--port must be between 0 and 65535, not {port}")
        if opts.health:
            self.exitcode = health(host, port, token)
            return
        loopback = is_loopback(host)
        if not loopback and not token:
            raise UsageError(f"--host {host} is not a loopback address: set a token first (-s READER_TOKEN=... or "
                             "the environment variable NEWSARCHIVE_READER_TOKEN), which every request must then "
                             "carry")
        from reader.server import bind, serve  # uvicorn and FastAPI load only for this command

        root = archive_root(settings)
        target = catalog_url(settings)
        note = prepare_catalog(target)
        try:
            sock = bind(host, port)
        except OSError as error:
            print(f"scrapy serve: cannot listen on {host}:{port}: {error.strerror or error}"
                  f"{' (is another reading room running? choose another --port)' if error.errno == 98 else ''}",
                  file=sys.stderr)
            self.exitcode = 1
            return
        config = ReaderConfig(
            archive_root=root, catalog=target, pywb_url=settings.get("READER_PYWB_URL") or "http://127.0.0.1:8080",
            token=token, allowed_hosts=(*LOOPBACK_NAMES, host) if loopback else None,
            schedule=schedule_reader(settings))
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
        print(f"Reading room on http://{shown}:{bound}/ (archive {root}; {note}; pywb links to "
              f"{config.pywb_url}){'; every request needs the token' if token else ''}. Ctrl-C stops it.",
              flush=True)
        serve(config, sock, log_level=str(settings.get("LOG_LEVEL", "INFO")))


def prepare_catalog(target: str) -> str:
    """Bring an existing catalog up to the newest schema (an old one gets the search index tables; the
    reading room itself never writes); a SQLite catalog that does not exist yet is left alone."""
    path = sqlite_file(target)
    if path is not None and not path.is_file():
        return f"no catalog yet at {path}: the archive is empty"
    engine = engine_for(target)
    try:
        migrate(engine)
    except Exception as error:  # unreachable database, read-only file system: the pages say so, per request
        return f"catalog {describe(target)} not brought up to date ({type(error).__name__}: {error})"
    finally:
        engine.dispose()
    return f"catalog {describe(target)}"


def schedule_reader(settings: Any) -> Callable[[], list[dict[str, Any]]]:
    """A callable giving each outlet's schedule row from the job store, opened read-only (the outlets' declared
    schedules while ``scrapy schedule`` has never run: the job store is not created here)."""
    known = set(outlet_names(settings, []))
    loader = get_spider_loader(settings)
    declared = {name: getattr(loader.load(name), "schedule", "-") for name in known}
    store = job_store_url(settings)

    def rows() -> list[dict[str, Any]]:
        if store.startswith("sqlite:///"):
            path = Path(store.removeprefix("sqlite:///"))
            if not path.is_file():
                return [{"outlet": outlet, "schedule": declared[outlet], "state": "not scheduled", "paused": False,
                         "next_run": None, "run_requested": False} for outlet in sorted(known)]
            engine = sa.create_engine(f"sqlite:///file:{quote(str(path.resolve()))}?mode=ro&uri=true")
        else:
            engine = sa.create_engine(store)
        scheduler = Scheduler(jobstores={"default": JobStore(engine=engine)}, timezone=UTC)
        scheduler.start(paused=True)  # reads the job store; runs nothing
        try:
            return schedule_rows(scheduler, known, declared)
        finally:
            scheduler.shutdown(wait=False)
            engine.dispose()

    return rows


def health(host: str, port: int, token: str | None) -> int:
    address = {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1", "": "127.0.0.1"}.get(host, host).strip("[]")
    url = f"http://{f'[{address}]' if ':' in address else address}:{port}/healthz"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            state = json.loads(answer.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        print(f"unhealthy: {url} answered {error.code}")
        return 1
    except (OSError, ValueError) as error:
        print(f"unhealthy: no reading room answers at {url} ({error})")
        return 1
    print(f"healthy: {url} answers (catalog {state.get('catalog')})")
    return 0
