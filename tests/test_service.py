"""The scheduling service (``scrapy schedule``), run for real against the local outlet web.

Every test starts the service as a subprocess with second-scale schedules
(``SCHEDULE_OVERRIDE``) on a few outlets (``SCHEDULE_OUTLETS``), lets it crawl,
and reads what it left: the ``runs`` table, the job store, logs and WARCs.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings

from crawler.schedule.crawl_process import new_run_files
from crawler.schedule.jobstore import make_scheduler
from crawler.schedule.service import Service, scheduled_crawl
from pipelines.catalog.runs import RunHistory, now_iso
from tests.conftest import REPO
from tests.localweb import FIXTURES, LOCAL_CRAWL_SETTINGS, LocalWeb
from tests.warc_reading import read_records, warcio_check

# These tests are about the schedule, so a fresh archive waits for its ticks here; the first run a fresh service
# gives never-crawled outlets at once is tested in tests/test_service_first_run.py.
BASE = {**LOCAL_CRAWL_SETTINGS, "SCHEDULE_JITTER": "0", "SCHEDULE_POLL": "0.5", "LOG_LEVEL": "INFO",
        "SCHEDULE_FIRST_RUN_AT_ONCE": "False"}


# --- helpers -------------------------------------------------------------------------------------


def command(archive: Path, proxy: str, settings: dict[str, str], *args: str) -> list[str]:
    merged = {**BASE, "LOCAL_WEB_PROXY": proxy, "ARCHIVE_ROOT": str(archive), **settings}
    line = [sys.executable, "-m", "scrapy", "schedule", *args]
    for name, value in merged.items():
        line += ["-s", f"{name}={value}"]
    return line


def environment() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("http_proxy", None), env.pop("https_proxy", None)
    return env


class ServiceProcess:
    """``scrapy schedule`` as a subprocess; its stderr goes to a file in the archive folder's parent."""

    def __init__(self, archive: Path, proxy: str, settings: dict[str, str]) -> None:
        self.archive, self.proxy, self.settings = archive, proxy, settings
        self.stderr = archive.parent / "service-stderr.txt"
        self.process: subprocess.Popen | None = None

    def start(self) -> ServiceProcess:
        self.archive.mkdir(parents=True, exist_ok=True)
        with open(self.stderr, "ab") as err:
            self.process = subprocess.Popen(
                command(self.archive, self.proxy, self.settings), cwd=REPO, env=environment(),
                stdin=subprocess.DEVNULL, stdout=err, stderr=err,
            )
        return self

    def signal(self, signum: int, timeout: float = 30) -> int:
        assert self.process is not None
        self.process.send_signal(signum)
        return self.process.wait(timeout)

    def log(self) -> str:
        return self.stderr.read_text("utf-8", "replace")

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(command(self.archive, self.proxy, self.settings, *args), cwd=REPO,
                              env=environment(), capture_output=True, text=True, timeout=60)

    def listing(self) -> dict[str, dict[str, Any]]:
        done = self.cli("--list", "--json")
        assert done.returncode == 0, done.stderr
        return {row["outlet"]: row for row in json.loads(done.stdout)}

    def close(self) -> None:
        """Leave nothing running: the service, and any crawl of this archive it left behind."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if f"ARCHIVE_ROOT={self.archive}".encode() in (proc / "cmdline").read_bytes().split(b"\0"):
                    os.kill(int(proc.name), signal.SIGKILL)
            except (OSError, ValueError):
                pass


def runs(archive: Path, outlet: str | None = None) -> list[dict[str, Any]]:
    """The runs of ``outlet`` (or all), oldest first."""
    catalog = archive / "catalog.sqlite"
    return list(reversed(RunHistory(catalog).runs(outlet))) if catalog.exists() else []


def finished(archive: Path, outlet: str) -> list[dict[str, Any]]:
    return [run for run in runs(archive, outlet) if run["status"] != "running"]


def next_run_times(archive: Path) -> dict[str, float | None]:
    with sqlite3.connect(archive / "schedule.sqlite", timeout=30) as db:
        return dict(db.execute("SELECT id, next_run_time FROM apscheduler_jobs"))


def wait_for(
    condition: Callable[[], Any], timeout: float, what: str, service: ServiceProcess | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        if service is not None and service.process is not None and service.process.poll() is not None:
            pytest.fail(f"the service exited ({service.process.returncode}) waiting for {what}:\n"
                        f"{service.log()[-3000:]}")
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout}s waiting for {what}"
                + (f":\n{service.log()[-3000:]}" if service else ""))


def seconds(run: dict[str, Any]) -> float:
    return (datetime.fromisoformat(run["ended"]) - datetime.fromisoformat(run["started"])).total_seconds()


def assert_never_overlapping(archive: Path, outlet: str) -> None:
    """At most one crawl of an outlet at a time: each run starts after the previous one ended."""
    previous = None
    for run in runs(archive, outlet):
        if previous is not None:
            assert previous["ended"] is not None and run["started"] >= previous["ended"], (previous, run)
        previous = run


class HangingProxy:
    """A proxy in front of the local web that accepts, but never answers, requests for one site's hosts."""

    def __init__(self, upstream_port: int, hang_domain: str) -> None:
        self.upstream_port, self.hang_domain = upstream_port, hang_domain
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.hung: list[socket.socket] = []
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(65536)
            if not chunk:
                client.close()
                return
            head += chunk
        target = head.split(b" ", 2)[1].decode("latin-1")  # CONNECT host:443, or GET http://host/path
        host = (target.split("//", 1)[-1] if "//" in target else target).split("/")[0].split(":")[0]
        if host == self.hang_domain or host.endswith("." + self.hang_domain):
            self.hung.append(client)  # held open, never answered
            return
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        upstream.sendall(head)
        sockets = [client, upstream]
        try:
            while not self.closed.is_set():
                readable, _, _ = select.select(sockets, [], [], 0.5)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)
        except OSError:
            pass
        finally:
            client.close(), upstream.close()

    def close(self) -> None:
        self.closed.set()
        self.server.close()
        for sock in self.hung:
            sock.close()


# --- tests ---------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_every_outlet_runs_on_its_schedule_and_each_run_is_recorded(
    tmp_path: Path, local_web: LocalWeb
) -> None:
    archive = tmp_path / "archive"
    service = ServiceProcess(archive, local_web.proxy_url, {
        "SCHEDULE_OUTLETS": "ndtv,axios", "SCHEDULE_OVERRIDE": "every 1s", "LOG_KEEP": "2",
    }).start()
    try:
        wait_for(lambda: all(len(finished(archive, o)) >= 3 for o in ("ndtv", "axios")), 60,
                 "three runs of each outlet", service)
        assert service.signal(signal.SIGTERM) == 0, service.log()[-3000:]
    finally:
        service.close()

    for outlet in ("ndtv", "axios"):
        history = runs(archive, outlet)
        done = [run for run in history if run["status"] == "ok"]
        assert len(done) >= 3, history
        assert {run["trigger"] for run in history} == {"schedule"}
        assert all(run["status"] in ("ok", "stopped") for run in history), history
        for run in done:
            assert run["exit_code"] == 0 and run["finish_reason"] == "finished", run
            assert run["requests"] > 0 and run["responses"] > 0 and run["bytes"] > 0, run
            assert run["errors"] == 0, run
            assert json.loads(run["stats"])["downloader/response_count"] == run["responses"]
        assert done[0]["new_articles"] > 0, done[0]  # the first run archives the outlet's articles
        assert_never_overlapping(archive, outlet)
        # one crawl after another, each starting on a schedule tick after the previous one ended
        starts = [datetime.fromisoformat(run["started"]) for run in history]
        assert all((b - a).total_seconds() >= 1 for a, b in zip(starts, starts[1:], strict=False)), starts
        # a log per run, the newest LOG_KEEP kept
        logs = sorted((archive / outlet / "logs").glob("crawl-*.log"))
        assert [str(p) for p in logs] == [run["log"] for run in history[-2:]]
        assert "Spider closed" in logs[-2].read_text("utf-8")
        assert not list((archive / outlet / "warc").glob("*.open"))
    service_log = (archive / "service.log").read_text("utf-8")
    assert "ndtv: crawl started" in service_log and "axios: ok in" in service_log
    assert "Scheduler stopped" in service_log


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_sigkill_and_restart_keep_the_schedule_state(tmp_path: Path, local_web: LocalWeb) -> None:
    archive = tmp_path / "archive"
    proxy = HangingProxy(local_web.port, "jns.org")  # a crawl of jns is surely running when the kill comes
    settings = {
        "SCHEDULE_OUTLETS": "ndtv,axios,npr,jns",
        "SCHEDULE_OVERRIDE": json.dumps({"ndtv": "every 1s", "npr": "every 1s", "jns": "every 1s",
                                         "axios": "every 1h"}),
        "CRAWL_KILL_GRACE": "2",
    }
    first = ServiceProcess(archive, proxy.url, settings).start()
    second = ServiceProcess(archive, proxy.url, settings)
    try:
        wait_for(lambda: finished(archive, "npr") and finished(archive, "ndtv"), 40, "a run of npr and ndtv",
                 first)
        assert first.cli("--pause", "npr").returncode == 0
        paused_at = now_iso()
        [orphan] = [run for run in runs(archive, "jns") if run["status"] == "running"]
        before = next_run_times(archive)
        assert first.signal(signal.SIGKILL) == -signal.SIGKILL  # its crawls live on, orphaned
        assert before["npr"] is None and before["axios"] is not None
        assert Path(f"/proc/{orphan['pid']}").exists()

        second.start()
        wait_for(lambda: len([r for r in finished(archive, "ndtv") if r["started"] > paused_at]) >= 2, 40,
                 "two more runs of ndtv after the restart", second)
        after = next_run_times(archive)
        listing = second.listing()
        assert second.signal(signal.SIGTERM) == 0, second.log()[-3000:]
    finally:
        first.close(), second.close()
        proxy.close()

    assert after["axios"] == before["axios"]  # the next run time survived: not reset to an hour from now
    assert after["npr"] is None and listing["npr"]["paused"] and listing["npr"]["state"] == "paused"
    assert not listing["ndtv"]["paused"] and listing["axios"]["next_run"]
    assert runs(archive, "axios") == []  # not due for an hour
    # no npr run started after the pause (the pause is in the job store, so it outlived the kill)
    assert all(run["started"] < paused_at for run in runs(archive, "npr"))
    # the crawl the killed service left behind was stopped by the new one before it crawled jns again
    settled = next(run for run in runs(archive, "jns") if run["id"] == orphan["id"])
    assert settled["status"] == "interrupted" and settled["ended"], settled
    gone = Path(f"/proc/{orphan['pid']}/cmdline")
    assert not gone.exists() or not gone.read_bytes()  # gone, or a zombie nobody reaped yet
    assert f"jns: crawl (pid {orphan['pid']}) left running by an earlier service: SIGTERM" in second.log()
    assert all(run["status"] != "running" for run in runs(archive)), runs(archive)
    for outlet in ("ndtv", "jns", "npr"):
        assert_never_overlapping(archive, outlet)
    # across the kill and the restart: every article archived exactly once, none missed
    for outlet in ("ndtv", "npr"):
        expected = json.loads((FIXTURES / outlet / "expected.json").read_text())["articles"]
        archived = Counter(r.uri for warc in sorted(archive.glob(f"{outlet}/warc/*.warc.gz"))
                           for r in read_records(warc) if r.type == "response" and r.status == 200)
        assert {url: archived[url] for url in expected} == {url: 1 for url in expected}, outlet


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_a_hanging_outlet_is_stopped_at_the_timeout_while_the_others_keep_their_schedule(
    tmp_path: Path, local_web: LocalWeb
) -> None:
    archive = tmp_path / "archive"
    proxy = HangingProxy(local_web.port, "axios.com")
    # long enough for several ndtv runs even on a loaded 2-core machine: with the suite on both cores (pytest-xdist)
    # or a busy machine, a crawl's start-up alone takes seconds, and 8 s saw a single ndtv run end during the hang
    timeout, grace = 20, 2
    service = ServiceProcess(archive, proxy.url, {
        "SCHEDULE_OUTLETS": "ndtv,axios", "SCHEDULE_OVERRIDE": "every 1s",
        "CRAWL_TIMEOUT": str(timeout), "CRAWL_KILL_GRACE": str(grace),
    }).start()
    try:
        wait_for(lambda: finished(archive, "axios"), 40, "the end of the hung axios crawl", service)
        wait_for(lambda: len(finished(archive, "ndtv")) >= 3, 30, "three runs of ndtv", service)
        assert service.signal(signal.SIGTERM) == 0, service.log()[-3000:]
    finally:
        service.close()
        proxy.close()

    hung = finished(archive, "axios")[0]
    assert hung["status"] == "timeout" and hung["problem"] == f"timed out after {timeout}s", hung
    assert timeout <= seconds(hung) <= timeout + grace + 3, hung
    assert hung["responses"] in (None, 0), hung
    assert proxy.hung, "the axios crawl never reached the hanging server"
    # meanwhile ndtv kept its schedule: at least two of its runs ended while axios hung. (Counting runs
    # that also started after axios would race: the scheduler starts both outlets in the same second.)
    during = [run for run in finished(archive, "ndtv") if hung["started"] <= run["ended"] <= hung["ended"]]
    assert len(during) >= 2, (hung, runs(archive, "ndtv"))
    assert all(run["status"] == "ok" for run in during)
    assert_never_overlapping(archive, "axios")


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_sigterm_closes_the_running_crawl_cleanly_and_the_control_commands_work(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    with LocalWeb(latency=1.0) as slow_web:  # slow answers: the crawl is still running when SIGTERM comes
        service = ServiceProcess(archive, slow_web.proxy_url, {
            "SCHEDULE_OUTLETS": "ndtv,axios",
            "SCHEDULE_OVERRIDE": json.dumps({"ndtv": "every 1h", "axios": "every 2h"}),
        })
        try:
            assert service.cli("--health").returncode == 1  # no service yet
            service.start()
            wait_for(lambda: (archive / "schedule.heartbeat").exists(), 30, "the heartbeat", service)
            health = service.cli("--health")
            assert health.returncode == 0 and health.stdout.startswith("healthy"), health.stdout

            listing = service.listing()
            assert listing["ndtv"]["schedule"] == "every 1h" and listing["axios"]["schedule"] == "every 2h"
            assert listing["ndtv"]["state"] == "active" and listing["ndtv"]["last_run"] is None
            assert listing["bbc"]["state"] == "not scheduled"

            paused = service.cli("--pause", "axios")
            assert paused.returncode == 0 and "axios: paused" in paused.stdout
            assert service.listing()["axios"]["paused"] is True
            resumed = service.cli("--resume", "axios")
            assert resumed.returncode == 0 and "axios: resumed" in resumed.stdout
            assert service.listing()["axios"]["state"] == "active"
            assert service.cli("--pause", "nosuch").returncode != 0

            # --run-now: the running service picks the request up from the job store
            assert service.cli("--run-now", "ndtv").returncode == 0
            run = wait_for(lambda: runs(archive, "ndtv"), 20, "the requested run of ndtv", service)[0]
            assert run["trigger"] == "run-now" and run["status"] == "running"
            text = service.cli("--list").stdout
            assert "ndtv" in text and "running since" in text and "every 2h" in text

            warc_dir = archive / "ndtv" / "warc"
            wait_for(lambda: list(warc_dir.glob("*.open")), 30, "an open WARC file of ndtv", service)
            started = time.monotonic()
            assert service.signal(signal.SIGTERM) == 0, service.log()[-3000:]
            assert time.monotonic() - started < 20
        finally:
            service.close()

    [run] = runs(archive, "ndtv")
    assert run["status"] == "stopped" and run["ended"], run
    assert run["finish_reason"] == "shutdown", run  # Scrapy stopped on SIGTERM and said so
    assert not list(warc_dir.glob("*.open")), list(warc_dir.iterdir())
    closed = sorted(warc_dir.glob("*.warc.gz"))
    assert closed and all(warcio_check(path).returncode == 0 for path in closed)
    assert runs(archive, "axios") == []
    after = ServiceProcess(archive, "http://127.0.0.1:9", {"SCHEDULE_OUTLETS": "ndtv,axios"})
    assert after.cli("--health").returncode == 1
    listing = after.listing()
    assert listing["ndtv"]["last_run"]["status"] == "stopped"
    assert "stopped" in after.cli("--list").stdout


def test_startup_sync_keeps_unchanged_schedules_and_updates_the_rest(tmp_path: Path) -> None:
    """In-process: add new outlets, update changed schedules (paused ones stay paused), remove the gone."""

    def service(outlets: str, override: dict[str, str]) -> Service:
        settings = Settings()
        settings.setmodule("settings", priority="project")
        settings.set("ARCHIVE_ROOT", str(tmp_path), priority="cmdline")
        settings.set("SCHEDULE_OUTLETS", outlets, priority="cmdline")
        settings.set("SCHEDULE_OVERRIDE", json.dumps(override), priority="cmdline")
        instance = Service(settings)
        instance.scheduler.start(paused=True)
        instance.sync_jobs()
        return instance

    first = service("ndtv,axios,npr,jns", {"ndtv": "every 1h", "axios": "every 2h", "jns": "*/20 * * * *"})
    first.scheduler.pause_job("ndtv")
    before = {job.id: job for job in first.scheduler.get_jobs()}
    first.scheduler.shutdown()
    assert before["npr"].name == "npr: every 30m ~60s"  # its own schedule, with the default jitter
    assert before["jns"].trigger.jitter == 60

    second = service("ndtv,axios,jns,bbc", {"ndtv": "every 3h", "axios": "every 2h", "jns": "*/20 * * * *"})
    after = {job.id: job for job in second.scheduler.get_jobs()}
    second.scheduler.shutdown()
    assert set(after) == {"ndtv", "axios", "jns", "bbc"}  # npr removed, bbc added
    assert after["axios"].next_run_time == before["axios"].next_run_time  # unchanged: kept
    assert after["jns"].next_run_time == before["jns"].next_run_time
    assert after["ndtv"].name == "ndtv: every 3h ~60s" and after["ndtv"].next_run_time is None  # still paused
    assert after["bbc"].name == "bbc: */15 * * * * ~60s" and after["bbc"].next_run_time is not None


def test_jobs_stored_by_earlier_versions_still_load_with_their_state(tmp_path: Path) -> None:
    """Job stores written before crawler.schedule name the job function ``crawler.service:scheduled_crawl``."""
    settings = Settings()
    settings.setmodule("settings", priority="project")
    settings.set("ARCHIVE_ROOT", str(tmp_path), priority="cmdline")
    settings.set("SCHEDULE_OUTLETS", "ndtv", priority="cmdline")
    settings.set("SCHEDULE_OVERRIDE", "every 1h", priority="cmdline")
    old = make_scheduler(settings)
    old.start(paused=True)
    old.add_job("crawler.service:scheduled_crawl", "interval", hours=1, id="ndtv", name="ndtv: every 1h ~60s",
                args=["ndtv"], kwargs={"trigger": "schedule"})
    old.pause_job("ndtv")
    old.shutdown()

    service = Service(settings)
    service.scheduler.start(paused=True)
    service.sync_jobs()
    jobs = service.scheduler.get_jobs()
    service.scheduler.shutdown()
    assert [job.id for job in jobs] == ["ndtv"]
    assert jobs[0].func_ref == "crawler.service:scheduled_crawl" and jobs[0].func is scheduled_crawl
    assert jobs[0].next_run_time is None  # still paused: not dropped and re-added


def test_log_rotation_keeps_the_newest_runs(tmp_path: Path) -> None:
    made = []
    for _ in range(5):
        log, stats = new_run_files(tmp_path, "ndtv", keep=3)
        log.write_text("log"), stats.write_text("{}")
        made.append(log)
        time.sleep(0.002)
    kept = sorted((tmp_path / "ndtv" / "logs").iterdir())
    assert kept == sorted([*made[-3:], *(p.with_suffix(".stats.json") for p in made[-3:])])
