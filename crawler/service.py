"""The scheduling service (``scrapy schedule``) and the crawl subprocess it shares with ``scrapy crawlall``.

Every outlet is a job of an APScheduler ``BackgroundScheduler`` whose job store
is SQLite (SQLAlchemy), so schedules, next run times and paused state outlive
the process. A job runs ``scrapy crawl <outlet>`` as a subprocess (a Twisted
reactor cannot be restarted, and one outlet's failure must not touch the
others) from a thread pool with a thread for every job, so a slow or hung
outlet never holds up another; a crawl past ``CRAWL_TIMEOUT`` gets SIGTERM
(Scrapy closes its WARC files) and SIGKILL ``CRAWL_KILL_GRACE`` seconds later.
Missed runs are coalesced into one, at most one crawl of an outlet runs at a
time, and every run is recorded in the ``runs`` table (:mod:`crawler.run_history`).

The main thread wakes the scheduler every ``SCHEDULE_POLL`` seconds, so changes
made to the job store by another process (``scrapy schedule --pause`` ...) take
effect within that time, and leaves a heartbeat file for health checks.
SIGTERM or SIGINT: no new run starts, running crawls get SIGTERM, the service
waits for them and exits 0.
"""

from __future__ import annotations

import fcntl
import json
import logging
import logging.handlers
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger
from apscheduler.util import datetime_to_utc_timestamp
from scrapy.settings import BaseSettings
from scrapy.spiderloader import get_spider_loader

from crawler.frontier.enqueue import enqueue_round
from pipelines.catalog.runs import RunHistory
from pipelines.catalog import catalog_url

logger = logging.getLogger("crawler.service")

#: Settings of the service (each overridable with ``-s NAME=VALUE``) and their defaults.
#: Settings the crawl subprocess gets from its parent, never passed through from the command line.
OWN_SETTINGS = {"LOG_FILE", "RUN_SUMMARY_FILE"}
#: Triggers of the runs this service starts (``crawlall`` runs are not its to stop).
SERVICE_TRIGGERS = ("schedule", "run-now")
RUN_NOW = "#now"


def archive_root(settings: BaseSettings) -> Path:
    return Path(settings.get("ARCHIVE_ROOT", "archive")).resolve()


def job_store_url(settings: BaseSettings) -> str:
    return settings.get("SCHEDULE_DB_URL") or f"sqlite:///{archive_root(settings) / 'schedule.sqlite'}"


def cmdline_overrides(settings: BaseSettings) -> list[str]:
    """The ``NAME=VALUE`` settings given on the command line, to pass on to each crawl."""
    return [
        f"{name}={value}"
        for name, value in settings.copy_to_dict().items()
        if settings.getpriority(name) == 40 and name not in OWN_SETTINGS  # 40: "cmdline"
    ]


# --- One crawl as a subprocess -------------------------------------------------------------------


def new_run_files(root: Path, outlet: str, keep: int) -> tuple[Path, Path]:
    """Log and stats file names for a new run of ``outlet``; the oldest runs' files beyond ``keep`` go."""
    logs = root / outlet / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc)
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


# --- Schedules -----------------------------------------------------------------------------------


def _overrides(settings: BaseSettings) -> tuple[str | None, dict[str, str]]:
    """SCHEDULE_OVERRIDE: one schedule for all outlets, or a JSON object of outlet -> schedule."""
    value = settings.get("SCHEDULE_OVERRIDE")
    if isinstance(value, str) and value.strip().startswith("{"):
        value = json.loads(value)
    if isinstance(value, dict):
        return None, {str(k): str(v) for k, v in value.items()}
    return (str(value) if value else None), {}


def outlet_schedules(settings: BaseSettings) -> dict[str, tuple[BaseTrigger, str]]:
    """Outlet -> (APScheduler trigger with jitter, its description) for every outlet to schedule.

    The description (schedule and jitter) is kept in the job's name (``"<outlet>: <description>"``): a job
    whose name differs from it on start-up has a changed schedule.
    """
    loader = get_spider_loader(settings)
    known = sorted(loader.list())
    only = settings.getlist("SCHEDULE_OUTLETS")
    unknown = sorted(set(only) - set(known))
    if unknown:
        raise ValueError(f"SCHEDULE_OUTLETS names unknown outlet(s): {', '.join(unknown)}")
    every, per_outlet = _overrides(settings)
    jitter = settings.getfloat("SCHEDULE_JITTER")
    schedules = {}
    for name in only or known:
        spidercls = loader.load(name)
        spec = per_outlet.get(name) or every or getattr(spidercls, "schedule", None)
        if not spec or not hasattr(spidercls, "schedule_trigger"):
            logger.warning("%s: no schedule declared; not scheduled", name)
            continue
        try:
            if spec != spidercls.schedule:  # the outlet's own parser, on the overriding schedule
                spidercls = type(spidercls.__name__, (spidercls,), {"schedule": spec})
            trigger = spidercls.schedule_trigger()
        except ValueError as error:
            logger.error("%s: malformed schedule %r (%s); not scheduled", name, spec, error)
            continue
        trigger.jitter = jitter or None
        schedules[name] = (trigger, f"{spec}" + (f" ~{jitter:g}s" if jitter else ""))
    return schedules


def job_schedule(job: Any) -> str:
    """The schedule description kept in a job's name."""
    return str(job.name).partition(": ")[2] or str(job.name)


class Scheduler(BackgroundScheduler):
    """APScheduler's background scheduler, minus one pass over the job store after ``shutdown()``.

    APScheduler 3.11's main loop processes due jobs once more when ``shutdown()`` wakes it: with its
    executor already shut down, that pass would log errors and still advance (or, for a one-off run,
    delete) the due jobs in the persistent store without running them.
    """

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()


class JobStore(SQLAlchemyJobStore):
    """The SQLite job store, where a job paused by another process stays paused.

    The scheduler reads a due job, runs it and writes back its next run time; a ``--pause`` that
    lands in between would be overwritten. With ``keep_pauses`` (the service's store) an update that
    would give a job a next run time is only made while the stored job is not paused.
    """

    def __init__(self, *args: Any, keep_pauses: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keep_pauses = keep_pauses

    def update_job(self, job: Any) -> None:
        if not self.keep_pauses or job.next_run_time is None:
            return super().update_job(job)
        update = (
            self.jobs_t.update()
            .values(next_run_time=datetime_to_utc_timestamp(job.next_run_time),
                    job_state=pickle.dumps(job.__getstate__(), self.pickle_protocol))
            .where(self.jobs_t.c.id == job.id, self.jobs_t.c.next_run_time.is_not(None))
        )
        with self.engine.begin() as connection:
            if connection.execute(update).rowcount:
                return
        if self.lookup_job(job.id) is None:
            raise JobLookupError(job.id)
        logger.info("%s: paused by another process meanwhile; it stays paused", job.id)


def make_scheduler(settings: BaseSettings, workers: int = 1, keep_pauses: bool = False) -> Scheduler:
    """A scheduler on the persistent job store; ``workers`` threads run crawls."""
    from sqlalchemy import create_engine, event

    url = job_store_url(settings)
    options: dict[str, Any] = {}
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        options["connect_args"] = {"timeout": 30}
    engine = create_engine(url, **options)
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _wal(connection: Any, _record: Any) -> None:
            connection.execute("PRAGMA journal_mode=WAL")

    return Scheduler(
        jobstores={"default": JobStore(engine=engine, keep_pauses=keep_pauses)},
        executors={"default": ThreadPoolExecutor(max(workers, 1))},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=timezone.utc,
    )


def scheduled_crawl(outlet: str, trigger: str = "schedule") -> None:
    """The job function (stored by reference in the job store): one crawl of ``outlet``."""
    if _SERVICE is None:
        logger.error("%s: no service running in this process; crawl not started", outlet)
        return
    _SERVICE.crawl(outlet, trigger)


_SERVICE: Service | None = None


# --- The service ---------------------------------------------------------------------------------


class Service:
    def __init__(self, settings: BaseSettings) -> None:
        self.settings = settings
        self.root = archive_root(settings)
        self.overrides = cmdline_overrides(settings)
        self.timeout = settings.getfloat("CRAWL_TIMEOUT")
        self.grace = settings.getfloat("CRAWL_KILL_GRACE")
        self.keep = settings.getint("LOG_KEEP")
        self.poll = settings.getfloat("SCHEDULE_POLL")
        self.heartbeat_file = self.root / "schedule.heartbeat"
        self.history = RunHistory(catalog_url(settings))
        self.schedules = outlet_schedules(settings)
        # a thread for every outlet's job and for every run-now job: nothing ever waits for a thread
        self.scheduler = make_scheduler(settings, workers=2 * len(self.schedules) + 2, keep_pauses=True)
        self._lock = threading.Lock()
        self._running: dict[str, Crawl] = {}
        self._stopping = False
        self._signals = 0
        self._lock_file: Any = None

    # -- crawls
    def crawl(self, outlet: str, trigger: str) -> None:
        if self.settings.get("REDIS_URL"):
            self.enqueue(outlet, trigger)
            return
        with self._lock:
            if self._stopping:
                logger.info("%s: not started, the service is stopping", outlet)
                return
            if outlet in self._running:
                logger.warning("%s: the previous crawl is still running; this %s run is skipped",
                               outlet, trigger)
                return
            try:
                crawl = Crawl(outlet, self.root, self.overrides, timeout=self.timeout, grace=self.grace,
                              keep=self.keep, trigger=trigger, history=self.history).start()
            except Exception:
                logger.exception("%s: could not start the crawl", outlet)
                return
            self._running[outlet] = crawl
        logger.info("%s: crawl started (%s, run %s, pid %d; log %s)", outlet, trigger, crawl.run_id,
                    crawl.process.pid, crawl.log)
        try:
            result = crawl.run()
        finally:
            with self._lock:
                self._running.pop(outlet, None)
        level = logging.INFO if result["ok"] else logging.WARNING
        logger.log(level, "%s: %s in %.1fs: %d requests, %d new articles, %d revisits, %.2f MB%s",
                   outlet, result["status"], result["seconds"], result["requests"], result["new_articles"],
                   result["revisits"], result["warc_bytes"] / 1e6,
                   f" - {result['problem']}" if result["problem"] else "")

    def enqueue(self, outlet: str, trigger: str) -> None:
        """Distributed mode (``REDIS_URL``): the run is a round in the shared frontier, for the workers."""
        run_id = self.history.start(outlet, trigger)
        try:
            count = enqueue_round(get_spider_loader(self.settings).load(outlet), self.settings)
        except Exception as error:
            logger.exception("%s: could not put the round in the shared frontier", outlet)
            self.history.finish(run_id, "failed", problem=f"could not enqueue: {error}")
            return
        self.history.finish(run_id, "ok", summary={"stats": {"frontier/enqueued": count}})
        logger.info("%s: %d requests queued in the shared frontier (%s)", outlet, count, trigger)

    # -- start-up
    def settle_unfinished(self) -> None:
        """Runs left ``running`` by a service that died: stop crawls still going, record what is known."""
        for run in self.history.unfinished():
            alive = crawl_alive(run["pid"], run["summary_file"])
            if alive and run["trigger"] not in SERVICE_TRIGGERS:
                continue  # e.g. a `scrapy crawlall` running now
            if alive:
                logger.warning("%s: crawl (pid %d) left running by an earlier service: SIGTERM",
                               run["outlet"], run["pid"])
                stop_process(run["pid"], run["summary_file"], self.grace)
            summary = read_summary(run["summary_file"])
            if (summary or {}).get("finish_reason") == "finished" and not alive:
                status, problem = "ok", "exit status unknown: the service stopped during this run"
            else:
                status, problem = "interrupted", "interrupted: the service stopped during this run"
            self.history.finish(run["id"], status, summary=summary, problem=problem)
            logger.info("%s: run %d recorded as %s", run["outlet"], run["id"], status)

    def sync_jobs(self) -> None:
        """Make the job store match the registry, keeping next run times of unchanged schedules."""
        jobs = {job.id: job for job in self.scheduler.get_jobs()}
        for outlet, (trigger, description) in self.schedules.items():
            job = jobs.get(outlet)
            if job is None:
                self.scheduler.add_job(scheduled_crawl, trigger, id=outlet, name=f"{outlet}: {description}",
                                       args=[outlet], kwargs={"trigger": "schedule"})
                logger.info("%s: scheduled (%s)", outlet, description)
            elif job_schedule(job) != description:
                if job.next_run_time is None:  # paused: stays paused
                    self.scheduler.modify_job(outlet, trigger=trigger, name=f"{outlet}: {description}")
                else:
                    self.scheduler.reschedule_job(outlet, trigger=trigger)
                    self.scheduler.modify_job(outlet, name=f"{outlet}: {description}")
                logger.info("%s: schedule changed from %s to %s", outlet, job_schedule(job), description)
        for job_id in jobs:
            if job_id.split(RUN_NOW)[0] not in self.schedules:
                self.scheduler.remove_job(job_id)
                logger.info("%s: no longer scheduled (not in the registry or SCHEDULE_OUTLETS)", job_id)

    # -- the main loop
    def run(self) -> int:
        global _SERVICE
        if not self._take_lock():
            return 1
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        previous_fd = signal.set_wakeup_fd(wake_w)
        try:
            self.scheduler.start(paused=True)
            self.settle_unfinished()
            self.sync_jobs()
            _SERVICE = self
            self.scheduler.resume()
            logger.info("Scheduler running: %d outlet(s), job store %s, crawl timeout %gs; archive %s",
                        len(self.schedules), job_store_url(self.settings), self.timeout, self.root)
            for job in sorted(self.scheduler.get_jobs(), key=lambda j: j.id):
                logger.info("  %s: %s, next run %s", job.id, job_schedule(job),
                            job.next_run_time.isoformat() if job.next_run_time else "paused")
            while not self._signals:
                self.heartbeat()
                ready, _, _ = select.select([wake_r], [], [], self.poll)
                if ready:
                    os.read(wake_r, 512)
                if not self._signals:
                    self.scheduler.wakeup()  # re-read the job store: another process may have changed it
            self.shutdown()
            return 0
        finally:
            signal.set_wakeup_fd(previous_fd)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            os.close(wake_r), os.close(wake_w)
            _SERVICE = None
            self.heartbeat_file.unlink(missing_ok=True)
            self._release_lock()

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self._signals += 1
        if self._signals == 1:
            logger.info("%s: stopping (no new runs; running crawls get SIGTERM)", signal.Signals(signum).name)
        else:
            logger.warning("%s again: killing running crawls", signal.Signals(signum).name)
            for crawl in list(self._running.values()):
                crawl.kill()

    def shutdown(self) -> None:
        with self._lock:
            self._stopping = True
            running = list(self._running.values())
        self.scheduler.pause()
        for crawl in running:
            logger.info("%s: SIGTERM to the running crawl (pid %d)", crawl.outlet, crawl.process.pid)
            crawl.terminate("stopped")
        self.scheduler.shutdown(wait=True)  # the job threads return once their crawls have exited
        logger.info("Scheduler stopped")

    def heartbeat(self) -> None:
        with self._lock:
            running = sorted(self._running)
        beat = {"pid": os.getpid(), "time": time.time(), "running": running}
        partial = self.heartbeat_file.with_name(self.heartbeat_file.name + ".part")
        partial.write_text(json.dumps(beat), "utf-8")
        os.replace(partial, self.heartbeat_file)

    def _take_lock(self) -> bool:
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.root / "schedule.lock", "a+")  # noqa: SIM115 - held while running
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock_file.seek(0)
            holder = self._lock_file.read().strip()
            logger.error("Another scheduler is running on %s (pid %s)", self.root, holder)
            self._lock_file.close()
            return False
        self._lock_file.truncate(0)
        self._lock_file.write(f"{os.getpid()}\n")
        self._lock_file.flush()
        return True

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()


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


def configure_logging(settings: BaseSettings, root: Path) -> None:
    """The service logs to stderr and to ``<root>/service.log`` (rotating)."""
    root.mkdir(parents=True, exist_ok=True)
    formatter = logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s", "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handlers: list[logging.Handler] = [
        logging.StreamHandler(sys.stderr),
        logging.handlers.RotatingFileHandler(
            root / "service.log", maxBytes=settings.getint("SERVICE_LOG_MAX_BYTES"),
            backupCount=settings.getint("SERVICE_LOG_BACKUPS"), encoding="utf-8",
        ),
    ]
    top = logging.getLogger()
    for handler in handlers:
        handler.setFormatter(formatter)
        top.addHandler(handler)
    level = logging.getLevelName(str(settings.get("LOG_LEVEL", "INFO")).upper())
    top.setLevel(level if isinstance(level, int) else logging.INFO)
    if top.level > logging.DEBUG:
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)  # "Running job ..." per run
