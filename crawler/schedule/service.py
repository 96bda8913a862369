"""The scheduling service (``scrapy schedule``): every outlet crawled on its schedule, until SIGTERM.

It keeps the job store (:mod:`crawler.schedule.jobstore`) in line with the outlets' schedules
(:mod:`crawler.schedule.triggers`) and runs each due job as a crawl subprocess
(:mod:`crawler.schedule.crawl_process`), from a thread pool with a thread for every job, so a slow or hung
outlet never holds up another. One service per archive (a lock file); a run left ``running`` by a service
that died is settled at the next start.

The main thread wakes the scheduler every ``SCHEDULE_POLL`` seconds, so changes made to the job store by
another process (``scrapy schedule --pause`` ...) take effect within that time, and leaves a heartbeat file
for health checks. SIGTERM or SIGINT: no new run starts, running crawls get SIGTERM, the service waits for
them and exits 0.

At start, an outlet the archive has never crawled (no run in the history, no WARC in its folder) gets a
first run at once rather than at its next tick (``SCHEDULE_FIRST_RUN_AT_ONCE``): a one-off job in the job
store, like ``--run-now``, so a crash before it starts does not lose it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import logging.handlers
import os
import select
import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from scrapy.settings import BaseSettings
from scrapy.spiderloader import get_spider_loader

from crawler.frontier.enqueue import enqueue_round
from crawler.schedule.crawl_process import (
    Crawl,
    archive_root,
    cmdline_overrides,
    crawl_alive,
    read_summary,
    stop_process,
)
from crawler.schedule.jobstore import RUN_NOW, job_store_url, make_scheduler
from crawler.schedule.packages import missing_packages, package_day, previous_day
from crawler.schedule.triggers import job_schedule, outlet_schedules
from pipelines.catalog import catalog_url
from pipelines.catalog.runs import RunHistory

logger = logging.getLogger(__name__)

#: Trigger of the run a never-crawled outlet gets when the service starts (``SCHEDULE_FIRST_RUN_AT_ONCE``).
FIRST_RUN = "first-run"
#: Triggers of the runs this service starts (``crawlall`` runs are not its to stop).
SERVICE_TRIGGERS = ("schedule", "run-now", FIRST_RUN)
#: First runs start one after another, spread evenly over ``SCHEDULE_JITTER`` but at least this many seconds
#: apart: no more crawl processes start at once than a regular tick starts, and never two in the same second.
FIRST_RUN_MIN_GAP = 1.0
#: Files in ``<ARCHIVE_ROOT>/<outlet>/warc/`` that show the outlet was crawled (an open one: a killed crawl).
WARC_SUFFIXES = (".warc", ".warc.gz", ".warc.gz.open")
#: The daily packages' job (``WACZ_DAILY``) lives in memory, beside the job store: it is the service's own work,
#: not an outlet's schedule (``scrapy schedule --pause`` and the reading room list outlets).
PACKAGES_STORE, PACKAGES_JOB = "service", "wacz-daily"


def scheduled_crawl(outlet: str, trigger: str = "schedule") -> None:
    """The job function (stored by reference in the job store): one crawl of ``outlet``.

    Jobs written by versions before :mod:`crawler.schedule` refer to it in :mod:`crawler.service`, which
    re-exports it.
    """
    if _SERVICE is None:
        logger.error("%s: no service running in this process; crawl not started", outlet)
        return
    _SERVICE.crawl(outlet, trigger)


_SERVICE: Service | None = None


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
        if trigger == FIRST_RUN and not self.first_run_still_due(outlet):
            return
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
        jobs = {job.id: job for job in self.scheduler.get_jobs(jobstore="default")}
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

    # -- first runs
    def crawled_before(self, outlet: str, recorded: set[str] | None = None) -> str | None:
        """What shows the archive has crawled ``outlet`` (a run in the history, a WARC file), or None.

        Any run counts, whatever its trigger (``crawlall`` too) and outcome (a failing outlet is retried by its
        schedule, not by every restart); WARCs count without a run, for an archive rebuilt from its WARCs or
        crawled with ``scrapy crawl``. ``recorded``: the outlets with runs, if already read.
        """
        has_run = outlet in recorded if recorded is not None else bool(self.history.runs(outlet, limit=1))
        if has_run:
            return "a run in the history"
        folder = self.root / outlet / "warc"
        if folder.is_dir() and any(path.name.endswith(WARC_SUFFIXES) for path in folder.iterdir()):
            return f"WARCs in {folder}"
        return None

    def start_never_crawled(self) -> None:
        """Give every active outlet the archive has never crawled a first run now, one after another.

        The runs are one-off jobs (``<outlet>#now``, trigger ``first-run``) in the job store, so a service
        that dies before they start runs them at its next start; the outlet's own job is untouched, so its
        regular schedule carries on. An operator's pending ``--run-now`` is left as it is: it is the first run.
        """
        if not self.settings.getbool("SCHEDULE_FIRST_RUN_AT_ONCE"):
            return
        jobs = {job.id: job for job in self.scheduler.get_jobs(jobstore="default")}
        recorded = set(self.history.last_runs())
        due = []
        for outlet in sorted(self.schedules):
            pending = jobs.get(outlet + RUN_NOW)
            if pending is not None and pending.kwargs.get("trigger") != FIRST_RUN:
                continue
            evidence = self.crawled_before(outlet, recorded)
            paused = outlet not in jobs or jobs[outlet].next_run_time is None
            if evidence is None and paused:
                logger.info("%s: never crawled, but paused: no first run", outlet)
            if evidence is None and not paused:
                due.append(outlet)
            elif pending is not None:  # left by a service that died before it ran
                self.scheduler.remove_job(pending.id)
                logger.info("%s: first run dropped (%s)", outlet, f"crawled: {evidence}" if evidence else "paused")
        if not due:
            return
        gap = max(FIRST_RUN_MIN_GAP, self.settings.getfloat("SCHEDULE_JITTER") / len(due))
        now = datetime.now(UTC)
        logger.info("Starting at once, %gs apart, the outlet(s) never crawled (no run in the history, no WARC "
                    "in the archive): %s", gap, ", ".join(due))
        for index, outlet in enumerate(due):
            when = now + timedelta(seconds=index * gap)
            self.scheduler.add_job(scheduled_crawl, DateTrigger(when), id=outlet + RUN_NOW, name="first run",
                                   args=[outlet], kwargs={"trigger": FIRST_RUN}, replace_existing=True)
            logger.info("%s: never crawled: first run at %s", outlet, when.isoformat(timespec="milliseconds"))

    def first_run_still_due(self, outlet: str) -> bool:
        """At its time, a first run is skipped if the outlet has been paused or crawled since it was planned."""
        job = self.scheduler.get_job(outlet)
        if job is None or job.next_run_time is None:
            logger.info("%s: paused meanwhile; first run not started", outlet)
            return False
        evidence = self.crawled_before(outlet)
        if evidence:
            logger.info("%s: crawled meanwhile (%s); first run not needed", outlet, evidence)
            return False
        return True

    # -- daily packages
    def schedule_packages(self) -> None:
        """With ``WACZ_DAILY``: package each outlet's previous day at ``WACZ_DAILY_AT`` UTC, and at once if that
        hour has passed today without the packages (the service was down at it)."""
        if not self.settings.getbool("WACZ_DAILY"):
            return
        at = str(self.settings.get("WACZ_DAILY_AT") or "")
        try:
            hour, minute = (int(part) for part in at.split(":"))
            trigger = CronTrigger(hour=hour, minute=minute, timezone=UTC)
        except ValueError:
            logger.error("WACZ_DAILY_AT must be a UTC time HH:MM (00:30), not %r: no daily packages", at)
            return
        self.scheduler.add_jobstore(MemoryJobStore(), PACKAGES_STORE)
        name = f"{PACKAGES_JOB}: daily at {hour:02d}:{minute:02d} UTC"
        self.scheduler.add_job(self.package_previous_day, trigger, id=PACKAGES_JOB, name=name,
                               jobstore=PACKAGES_STORE)
        now = datetime.now(UTC)
        if (now.hour, now.minute) >= (hour, minute) and missing_packages(self.root, sorted(self.schedules),
                                                                         previous_day(now)):
            self.scheduler.add_job(self.package_previous_day, DateTrigger(now), id=PACKAGES_JOB + RUN_NOW,
                                   name=f"{PACKAGES_JOB}: missed", jobstore=PACKAGES_STORE)

    def package_previous_day(self) -> None:
        day = previous_day()
        results = package_day(self.root, sorted(self.schedules), day, self.overrides,
                              self.settings.getfloat("WACZ_DAILY_TIMEOUT"))
        made = sum(result.startswith("packaged") for result in results.values())
        logger.info("Daily packages of %s: %d made, %d outlet(s) with nothing to package", day, made,
                    sum(result == "nothing to package" for result in results.values()))

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
            self.start_never_crawled()
            self.schedule_packages()
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
        self.history.close()
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
