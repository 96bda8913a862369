"""One crawl of one outlet, as a ``scrapy crawl <outlet>`` subprocess (the service's and ``scrapy crawlall``'s).

A subprocess, because a Twisted reactor cannot be restarted and one outlet's failure must not touch the
others. A crawl past its time limit (``CRAWL_TIMEOUT``) gets SIGTERM, on which Scrapy closes its WARC
files, and SIGKILL ``CRAWL_KILL_GRACE`` seconds later. Every run is recorded in the ``runs`` table
(:mod:`pipelines.catalog.runs`); its log and stats files are kept under ``<ARCHIVE_ROOT>/<outlet>/logs/``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy.settings import BaseSettings

from pipelines.catalog.runs import RunHistory

logger = logging.getLogger(__name__)

#: Settings the crawl subprocess gets from its parent, never passed through from the command line.
OWN_SETTINGS = {"LOG_FILE", "RUN_SUMMARY_FILE"}


def archive_root(settings: BaseSettings) -> Path:
    return Path(settings.get("ARCHIVE_ROOT", "archive")).resolve()


def cmdline_overrides(settings: BaseSettings) -> list[str]:
    """The ``NAME=VALUE`` settings given on the command line, to pass on to each crawl."""
    return [
        f"{name}={value}"
        for name, value in settings.copy_to_dict().items()
        if settings.getpriority(name) == 40 and name not in OWN_SETTINGS  # 40: "cmdline"
    ]


def new_run_files(root: Path, outlet: str, keep: int) -> tuple[Path, Path]:
    """Log and stats file names for a new run of ``outlet``; the oldest runs' files beyond ``keep`` go."""
    logs = root / outlet / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%S") + f".{now.microsecond // 1000:03d}Z"
    log = logs / f"crawl-{stamp}.log"
    older = sorted(logs.glob("crawl-*.log"))
    for old in older[: max(0, len(older) - max(keep, 1) + 1)]:
        for path in (old, old.with_suffix(".stats.json")):
            path.unlink(missing_ok=True)
    return log, log.with_suffix(".stats.json")


def crawl_command(outlet: str, summary_file: Path, log: Path, overrides: list[str]) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", outlet, "-s", f"RUN_SUMMARY_FILE={summary_file}",
               "-s", f"LOG_FILE={log}"]
    for override in overrides:
        command += ["-s", override]
    return command


def read_summary(path: Path | str | None) -> dict[str, Any] | None:
    """The crawl's final stats as :class:`~crawler.extensions.run_summary.RunSummary` left them."""
    try:
        return json.loads(Path(path).read_text("utf-8")) if path else None
    except (OSError, ValueError):
        return None


def fetch_failure(stats: dict[str, Any]) -> str:
    """Name the commonest download exception, in words a person can act on."""
    errors = {
        key.rsplit("/", 1)[-1]: count
        for key, count in stats.items()
        if key.startswith("downloader/exception_type_count/")
    }
    if not errors:
        return "no request was made (check the outlet's discovery URLs and robots.txt)"
    worst = max(errors, key=errors.get)
    hints = {
        "DNSLookupError": "DNS lookups failed - is the network reachable?",
        "CannotResolveHostError": "DNS lookups failed - is the network reachable?",
        "ConnectionRefusedError": "connections were refused",
        "TCPTimedOutError": "connections timed out - is the network reachable?",
        "TimeoutError": "requests timed out",
        "DownloadTimeoutError": "requests timed out",
    }
    return f"{hints.get(worst.split('.')[-1], worst)} ({errors[worst]} x {worst})"


class Crawl:
    """One run of ``scrapy crawl <outlet>``: its log and stats files, its process, its record and result.

    ``own_session`` puts the crawl in a session of its own, so a Ctrl-C on the service's terminal reaches
    the service only (which then stops its crawls itself: a second signal would make Scrapy stop
    uncleanly); ``scrapy crawlall`` leaves its crawls in its own process group instead.
    """

    def __init__(self, outlet: str, root: Path, overrides: list[str], *, timeout: float, grace: float = 60,
                 keep: int = 50, trigger: str = "schedule", history: RunHistory | None = None,
                 own_session: bool = True) -> None:
        self.outlet = outlet
        self.timeout = timeout
        self.grace = grace
        self.trigger = trigger
        self.history = history
        self.own_session = own_session
        self.log, self.summary_file = new_run_files(root, outlet, keep)
        self.command = crawl_command(outlet, self.summary_file, self.log, overrides)
        self.process: subprocess.Popen | None = None
        self.run_id: int | None = None
        self.reason: str | None = None  # why the service stopped it: "timeout" or "stopped"
        self._lock = threading.Lock()
        self._killer: threading.Timer | None = None
        self._started = 0.0

    def start(self) -> Crawl:
        with open(self.log, "ab") as out:  # anything the crawl prints before its logging is set up
            self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                            start_new_session=self.own_session)
        self._started = time.monotonic()
        if self.history is not None:
            self.run_id = self.history.start(self.outlet, self.trigger, log=self.log, pid=self.process.pid,
                                             summary_file=self.summary_file)
        return self

    def terminate(self, reason: str) -> None:
        """SIGTERM (once), then SIGKILL if the crawl is still there ``grace`` seconds later."""
        with self._lock:
            if self.process is None or self.reason is not None or self.process.poll() is not None:
                return
            self.reason = reason
            self.process.send_signal(signal.SIGTERM)
            self._killer = threading.Timer(self.grace, self.kill)
            self._killer.daemon = True
            self._killer.start()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            logger.warning("%s: crawl (pid %d) still running %gs after SIGTERM: SIGKILL",
                           self.outlet, self.process.pid, self.grace)
            self.process.kill()

    def run(self) -> dict[str, Any]:
        """Wait for the started crawl (stopping it at the time limit), record and return its result."""
        assert self.process is not None, "start() first"
        try:
            code = self.process.wait(self.timeout)
        except subprocess.TimeoutExpired:
            logger.warning("%s: crawl still running after %gs: SIGTERM", self.outlet, self.timeout)
            self.terminate("timeout")
            code = self.process.wait()
        if self._killer is not None:
            self._killer.cancel()
        return self.finish(code)

    def finish(self, code: int | None) -> dict[str, Any]:
        elapsed = time.monotonic() - self._started
        summary = read_summary(self.summary_file)
        stats = (summary or {}).get("stats", {})
        responses = stats.get("downloader/response_count", 0)
        if self.reason == "timeout":
            status, problem = "timeout", f"timed out after {self.timeout:g}s"
        elif self.reason == "stopped":
            status, problem = "stopped", "stopped: the service was shutting down"
        elif code != 0:
            status, problem = "failed", f"crawl process exited with status {code}"
        else:
            status = "ok"
            problem = "" if responses else "nothing could be fetched: " + fetch_failure(stats)
        if self.history is not None and self.run_id is not None:
            self.history.finish(self.run_id, status, exit_code=code, summary=summary, problem=problem)
        return {
            "outlet": self.outlet,
            "run_id": self.run_id,
            "status": status,
            "exit_code": code,
            "ok": status == "ok" and not problem,
            "requests": stats.get("downloader/request_count", 0),
            "responses": responses,
            "articles": stats.get("articles/archived", 0),
            "new_articles": stats.get("extraction/extracted", 0),
            "revisits": stats.get("revisit/unchanged", 0),
            "warc_bytes": stats.get("warc/bytes", 0),
            "seconds": elapsed,
            "problem": problem,
            "log": self.log,
        }


def crawl_alive(pid: int | None, summary_file: str | None) -> bool:
    """Is ``pid`` still the crawl that writes ``summary_file``? (Its command line names the file.)"""
    if not pid or not summary_file:
        return False
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return f"RUN_SUMMARY_FILE={summary_file}".encode() in arguments


def stop_process(pid: int, summary_file: str, grace: float) -> None:
    """SIGTERM a crawl that is not our child, SIGKILL it after ``grace`` seconds; wait until it is gone."""
    try:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while crawl_alive(pid, summary_file):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                deadline = float("inf")
            time.sleep(0.1)
    except ProcessLookupError:
        pass
