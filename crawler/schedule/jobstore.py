"""The persistent job store, and the scheduler on it that the service and ``scrapy schedule`` share.

Every outlet is a job of an APScheduler ``BackgroundScheduler`` whose job store is SQLite (SQLAlchemy,
or ``SCHEDULE_DB_URL``), so schedules, next run times and paused state outlive the process, and
``scrapy schedule --pause`` ... in another process can steer a running service. Missed runs are
coalesced into one, and at most one crawl of an outlet runs at a time.
"""

from __future__ import annotations

import logging
import pickle
from datetime import UTC
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.util import datetime_to_utc_timestamp
from scrapy.settings import BaseSettings

from crawler.schedule.crawl_process import archive_root

logger = logging.getLogger(__name__)

#: Suffix of the id of a one-off job (``scrapy schedule --run-now OUTLET``): ``"<outlet>#now"``.
RUN_NOW = "#now"


def job_store_url(settings: BaseSettings) -> str:
    return settings.get("SCHEDULE_DB_URL") or f"sqlite:///{archive_root(settings) / 'schedule.sqlite'}"


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
        timezone=UTC,
    )
