"""Shared test helpers: the local outlet web and crawls run as real ``scrapy crawl`` subprocesses."""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from scrapy.utils.project import get_project_settings

from crawler.fixtures import fixture_roots
from tests.localweb import LOCAL_CRAWL_SETTINGS, LocalWeb

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

@dataclass
class Crawl:
    returncode: int
    log: str
    items: list[dict]
    archive: Path

    def warcs(self, outlet: str) -> list[Path]:
        return sorted((self.archive / outlet / "warc").glob("*.warc.gz"))


def scrapy_command(outlet: str, archive: Path, proxy: str, settings: dict[str, str] | None = None) -> list[str]:
    merged = {**LOCAL_CRAWL_SETTINGS, "LOCAL_WEB_PROXY": proxy, "ARCHIVE_ROOT": str(archive), **(settings or {})}
    command = [sys.executable, "-m", "scrapy", "crawl", outlet]
    for name, value in merged.items():
        command += ["-s", f"{name}={value}"]
    return command


def run_crawl(
    outlet: str, archive: Path, web: LocalWeb, settings: dict[str, str] | None = None, timeout: float = 120,
    env: dict[str, str] | None = None,
) -> Crawl:
    """Run ``scrapy crawl <outlet>`` against the local web, collecting its items as JSON lines.

    ``env`` adds to the environment (say, a settings module that lists outlets of a temporary package).
    """
    items_file = archive / f"{outlet}-items.jsonl"
    command = scrapy_command(outlet, archive, web.proxy_url, settings) + ["-O", f"{items_file}:jsonlines"]
    inherited = os.environ.get("PYTHONPATH")  # a settings module of a test's own, say
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), inherited])), **(env or {})}
    env.pop("http_proxy", None), env.pop("https_proxy", None)
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)
    items = []
    if items_file.exists():
        items = [json.loads(line) for line in items_file.read_text("utf-8").splitlines() if line.strip()]
    return Crawl(done.returncode, done.stderr, items, archive)


def free_port() -> int:
    """A TCP port nothing listens on (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    """Wait until a server a test started accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@pytest.fixture(scope="session")
def local_web():
    """Every outlet's fixture site: the OUTLET_FIXTURES folders of the project settings."""
    with LocalWeb(fixture_roots(get_project_settings())) as web:
        yield web


@pytest.fixture(scope="session")
def pywb_bin() -> Path:
    """pywb's commands, in the virtual environment of its own (``make pywb``)."""
    commands = REPO / ".venv-pywb" / "bin"
    if not (commands / "wayback").exists():
        pytest.skip("pywb is not installed: run `make pywb` (make test does)")
    return commands


@pytest.fixture(scope="session")
def shared_corpora() -> Path:
    corpora = SHARED / "corpora"
    if not corpora.is_dir():
        pytest.skip(f"the shared test corpora are absent ({corpora} not found)")
    return corpora


@pytest.fixture(scope="session")
def reading_room_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reading room's test archive (tests/reading_room.py), crawled once for every test that reads it."""
    from tests.reading_room import build_archive

    archive = tmp_path_factory.mktemp("reading-room") / "archive"
    build_archive(archive)
    return archive


_databases = itertools.count()


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A PostgreSQL server of the module's own (tests.servers.postgres_server); yields its URL."""
    from tests.servers import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty catalog database: a SQLite file, or a database of its own on the PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "catalog.sqlite")
    server = request.getfixturevalue("postgres")
    name = f"catalog_{next(_databases)}"
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"
