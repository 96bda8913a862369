"""Real Redis and PostgreSQL servers for tests: started on free ports in temporary folders, stopped after.

The binaries come from Debian's packages (``make redis``, ``make postgres``; ``make test`` runs both). Where
they are missing, the tests that need them skip and say how to install them.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import free_port, wait_for_port


@contextmanager
def redis_server() -> Iterator[str]:
    """A redis-server on 127.0.0.1, no persistence; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed: run `make redis` (make test does)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="test-redis-") as folder:
        server = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", folder, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            server.terminate()
            server.wait(10)


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL cluster of its own on 127.0.0.1; yields the URL of an empty database in it.

    PostgreSQL refuses to run as root: as root the cluster belongs to the ``postgres`` system user
    (which Debian's package creates) and its programs run through ``runuser``.
    """
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed: run `make postgres` (make test does)")
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None or subprocess.run(["id", "postgres"], capture_output=True).returncode:
            pytest.skip("running as root with no `postgres` user to run PostgreSQL as")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="test-postgres-"))
    if as_user:
        shutil.chown(folder, "postgres")
    data = folder / "data"

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, timeout=120)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start")
    try:
        wait_for_port(port)
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "newsarchive")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/newsarchive"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)
