"""``scrapy schedule``: the scheduling service, and the commands that look at and steer it.

Without options it runs the service in the foreground (see :mod:`crawler.schedule.service`)
until SIGTERM or SIGINT. The options work on the persistent job store, whether
or not the service runs (a running service notices within ``SCHEDULE_POLL``
seconds):

- ``--list`` (``--json``): every outlet, its schedule, next run, paused or not, last result (with its trigger
  unless it was the schedule: ``first-run``, ``run-now``, ``crawlall``), and its
  extraction health (flagged when its field coverage fell below its own baseline, :mod:`pipelines.health`);
- ``--run-now OUTLET``: one extra run as soon as possible (the schedule is unchanged);
- ``--pause OUTLET`` / ``--resume OUTLET``: stop / restart an outlet's scheduled runs;
- ``--health``: exit 0 if the service's heartbeat is recent (for container health checks).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.triggers.date import DateTrigger
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from crawler.commands import outlet_names
from crawler.schedule.crawl_process import archive_root
from crawler.schedule.jobstore import RUN_NOW, make_scheduler
from crawler.schedule.service import Service, configure_logging, scheduled_crawl
from crawler.schedule.triggers import job_schedule
from pipelines import health as extraction_health
from pipelines.catalog import Catalog, catalog_url
from pipelines.catalog.runs import RunHistory, describe


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[--list [--json] | --run-now OUTLET | --pause OUTLET | --resume OUTLET | --health]"

    def short_desc(self) -> str:
        return "Run the scheduling service (every outlet on its schedule), or list and steer its jobs"

    def long_desc(self) -> str:
        return (
            "Without options: run the scheduling service in the foreground until SIGTERM or SIGINT (every "
            "outlet on its schedule, each crawl in its own process, runs recorded in the catalog). The "
            "options read or change the persistent job store, whether or not the service is running; a "
            "running service notices changes within SCHEDULE_POLL seconds."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--list", action="store_true",
                            help="every outlet: schedule, next run, last result")
        parser.add_argument("--json", action="store_true", help="with --list: as JSON")
        parser.add_argument("--run-now", action="append", default=[], metavar="OUTLET",
                            help="run OUTLET once as soon as possible")
        parser.add_argument("--pause", action="append", default=[], metavar="OUTLET",
                            help="stop OUTLET's scheduled runs")
        parser.add_argument("--resume", action="append", default=[], metavar="OUTLET",
                            help="restart OUTLET's scheduled runs")
        parser.add_argument("--health", action="store_true",
                            help="exit 0 if the service's heartbeat is recent, else 1")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if args:
            raise UsageError(f"unexpected argument(s): {' '.join(args)}")
        settings = self.settings
        steering = opts.run_now or opts.pause or opts.resume
        if opts.health:
            self.exitcode = health(settings)
            return
        if not (steering or opts.list):
            configure_logging(settings, archive_root(settings))
            try:
                service = Service(settings)
            except ValueError as error:  # SCHEDULE_OUTLETS or SCHEDULE_OVERRIDE not understood
                raise UsageError(str(error)) from error
            self.exitcode = service.run()
            return
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
        known = set(outlet_names(settings, []))
        outlet_names(settings, opts.run_now + opts.pause + opts.resume)
        scheduler = make_scheduler(settings)
        scheduler.start(paused=True)  # reads and writes the job store; runs nothing
        try:
            self.exitcode = steer(scheduler, opts)
            if opts.list:
                list_outlets(settings, scheduler, known, as_json=opts.json)
        finally:
            scheduler.shutdown(wait=False)


def steer(scheduler: Any, opts: argparse.Namespace) -> int:
    failed = 0
    for outlet in opts.pause:
        try:
            scheduler.pause_job(outlet)
            print(f"{outlet}: paused")
        except JobLookupError:
            print(f"{outlet}: not scheduled yet (start `scrapy schedule` once)")
            failed = 1
    for outlet in opts.resume:
        try:
            job = scheduler.resume_job(outlet)
            print(f"{outlet}: resumed, next run {_when(job.next_run_time) if job else '-'}")
        except JobLookupError:
            print(f"{outlet}: not scheduled yet (start `scrapy schedule` once)")
            failed = 1
    for outlet in opts.run_now:
        scheduler.add_job(scheduled_crawl, DateTrigger(datetime.now(UTC)), id=outlet + RUN_NOW,
                          name="run now", args=[outlet], kwargs={"trigger": "run-now"}, replace_existing=True)
        print(f"{outlet}: run requested (starts within seconds if the service runs, else when it starts)")
    return failed


def schedule_rows(scheduler: Any, known: set[str], declared: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Each outlet's schedule as the job store has it: ``outlet``, ``schedule``, ``state`` (active, paused, not
    scheduled), ``paused``, ``next_run`` (ISO 8601) and ``run_requested`` (also what ``scrapy serve`` shows).

    ``declared``: the outlets' own schedules, shown for outlets the job store does not have yet."""
    jobs = {job.id: job for job in scheduler.get_jobs()}
    rows = []
    for outlet in sorted(known | {job_id.split(RUN_NOW)[0] for job_id in jobs}):
        job = jobs.get(outlet)
        if job is not None:
            schedule, state = job_schedule(job), "paused" if job.next_run_time is None else "active"
        else:
            schedule, state = (declared or {}).get(outlet, "-") if outlet in known else "-", "not scheduled"
        rows.append({
            "outlet": outlet,
            "schedule": schedule,
            "state": state,
            "paused": state == "paused",
            "next_run": job.next_run_time.isoformat() if job is not None and job.next_run_time else None,
            "run_requested": outlet + RUN_NOW in jobs,
        })
    return rows


def list_outlets(settings: Any, scheduler: Any, known: set[str], as_json: bool = False) -> None:
    history = RunHistory(catalog_url(settings))
    try:
        last = history.last_runs()
    finally:
        history.close()
    catalog = Catalog(catalog_url(settings))
    try:
        assessed = catalog.assessed_coverage()
    finally:
        catalog.close()
    loader = get_spider_loader(settings)
    declared = {outlet: getattr(loader.load(outlet), "schedule", "-") for outlet in known}
    rows = []
    for row in schedule_rows(scheduler, known, declared):
        outlet = row["outlet"]
        runs = last.get(outlet, {})
        rows.append({
            **row,
            "running_since": runs["running"]["started"] if "running" in runs else None,
            "last_run": runs.get("last"),
            "extraction_degraded": bool(assessed.get(outlet, {}).get("degraded")),
            "extraction_health": assessed.get(outlet),
        })
    if as_json:
        print(json.dumps(rows, indent=1, default=str))
        return
    print(f"{'outlet':<15} {'schedule':<22} {'next run (UTC)':<20} {'state':<13} last result")
    for row in rows:
        state = row["state"] + (" +run" if row["run_requested"] else "")
        result = describe(row["last_run"])
        if row["last_run"] and row["last_run"]["trigger"] != "schedule":  # run-now, first-run, crawlall
            result = f"{row['last_run']['trigger']}: {result}"
        if row["running_since"]:
            result = f"running since {row['running_since'][11:19]}; last: {result}"
        next_run = _when(row["next_run"]) or "-"
        print(f"{row['outlet']:<15} {row['schedule']:<22} {next_run:<20} {state:<13} {result}")
        if row["extraction_health"] is not None:
            print(f"{'':<15} {extraction_health.describe(row['extraction_health'])}")


def _when(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def health(settings: Any) -> int:
    beat_file = archive_root(settings) / "schedule.heartbeat"
    max_age = settings.getfloat("SCHEDULE_HEALTH_MAX_AGE")
    try:
        beat = json.loads(beat_file.read_text("utf-8"))
    except (OSError, ValueError):
        print(f"unhealthy: no heartbeat at {beat_file} (is `scrapy schedule` running?)")
        return 1
    age = time.time() - float(beat.get("time", 0))
    if age > max_age:
        print(f"unhealthy: last heartbeat {age:.0f}s ago (pid {beat.get('pid')})")
        return 1
    running = ", ".join(beat.get("running", [])) or "none"
    print(f"healthy: heartbeat {age:.0f}s ago (pid {beat.get('pid')}); crawls running: {running}")
    return 0
