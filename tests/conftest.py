"""Shared test helpers: the local outlet web and crawls run as real ``scrapy crawl`` subprocesses."""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
import warnings
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
#: Seconds each unit of work took in a recorded run (see pytest_collection_modifyitems).
DURATIONS = Path(__file__).resolve().parent / "durations.json"

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


# --- running in parallel (pytest-xdist: ``-n 2 --dist loadfile`` in pyproject.toml) --------------------------
#
# A unit of work is a test module: its tests run on one worker, in order, so that a module-scoped fixture (a crawl,
# an archive, a PostgreSQL server) is set up once. Modules that share an expensive session-scoped fixture are one
# unit too (below), or each worker would build it. (xdist's own ``--dist loadgroup`` cannot do this here: it renames
# tests by setting ``item._nodeid``, which pytest 9 no longer reads.) The units run longest first: see the hooks.
SHARED_SESSION_FIXTURE_MODULES = {  # module -> its unit: the modules that read the reading room's test archive
    "tests/test_reader.py": "reading_room_archive",
    "tests/test_reading_room_browser.py": "reading_room_archive",
    "tests/test_stories_cli.py": "reading_room_archive",
    "tests/test_wacz.py": "reading_room_archive",
    "tests/test_replaywebpage.py": "reading_room_archive",
    "tests/test_replay_fidelity.py": "reading_room_archive",
}
CHEAP_SHARED_FIXTURES = {"local_web", "shared_corpora", "pywb_bin"}  # set up by each worker that needs them


def work_unit(nodeid: str) -> str:
    """The unit of work of a test: its module, or the name of the expensive session fixture its module shares."""
    module = nodeid.split("::", 1)[0]
    return SHARED_SESSION_FIXTURE_MODULES.get(module, module)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # noqa: ANN201 - xdist's scheduler
    """``--dist loadfile``, with the modules that share an expensive session fixture in one unit."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ModulesAndSharedFixtures(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return ModulesAndSharedFixtures(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Order the units of work longest first, so that the two workers end at about the same time: by the seconds
    each took when DURATIONS was recorded (``RECORD_DURATIONS=1 make test``), else by counting a ``slow`` test as
    30 seconds and any other as 1; a unit's tests keep their order. Warn of an expensive session fixture that two units
    share (each worker would set it up): its modules belong in SHARED_SESSION_FIXTURE_MODULES."""
    units: dict[str, list[int]] = {}
    users: dict[str, set[str]] = {}
    for index, item in enumerate(items):
        unit = work_unit(item.nodeid)
        units.setdefault(unit, []).append(index)
        info = getattr(item, "_fixtureinfo", None)
        for name, definitions in (info.name2fixturedefs.items() if info else ()):
            where = getattr(definitions[-1].func, "__module__", "") or ""
            if definitions[-1].scope == "session" and where.startswith("tests") and name not in CHEAP_SHARED_FIXTURES:
                users.setdefault(name, set()).add(unit)
    for name, shared_by in users.items():
        if len(shared_by) > 1:
            warnings.warn(pytest.PytestWarning(
                f"the session fixture {name} is set up by each worker that runs one of {sorted(shared_by)}: "
                "name their modules in SHARED_SESSION_FIXTURE_MODULES (tests/conftest.py)"), stacklevel=1)
    measured = json.loads(DURATIONS.read_text("utf-8")) if DURATIONS.exists() else {}
    weight = {unit: measured.get(unit) or sum(30 if items[i].get_closest_marker("slow") else 1 for i in members)
              for unit, members in units.items()}
    order = sorted(units, key=lambda unit: (-weight[unit], units[unit][0]))
    items[:] = [items[index] for unit in order for index in units[unit]]


_unit_seconds: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """With RECORD_DURATIONS=1: add up each unit's seconds (setup, call, teardown) for DURATIONS."""
    if os.environ.get("RECORD_DURATIONS"):
        unit = work_unit(report.nodeid)
        _unit_seconds[unit] = _unit_seconds.get(unit, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _unit_seconds and not hasattr(session.config, "workerinput"):  # the controller, which has every report
        recorded = json.loads(DURATIONS.read_text("utf-8")) if DURATIONS.exists() else {}
        recorded.update({unit: round(seconds, 1) for unit, seconds in _unit_seconds.items()})  # a part run: its part
        DURATIONS.write_text(json.dumps(dict(sorted(recorded.items())), indent=1) + "\n", "utf-8")


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
