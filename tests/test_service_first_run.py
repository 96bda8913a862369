"""A fresh service starts working at once: an outlet the archive has never crawled gets a first run at start.

"Never crawled": no run of the outlet in the run history and no WARC in ``<ARCHIVE_ROOT>/<outlet>/warc/``.
The first runs are one-off jobs in the job store (trigger ``first-run``), one after another; the outlets'
schedules are untouched. The tests run with a daily cron twelve hours away, so every run they see is a first run.
"""

from __future__ import annotations

import re
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from apscheduler.triggers.date import DateTrigger
from scrapy.settings import Settings

from crawler.frontier import QUEUE_KEY
from crawler.schedule.jobstore import RUN_NOW
from crawler.schedule.service import FIRST_RUN, Service, scheduled_crawl
from pipelines.catalog.runs import RunHistory
from tests.conftest import run_crawl
from tests.localweb import LocalWeb
from tests.servers import redis_server
from tests.test_service import BASE, ServiceProcess, finished, next_run_times, runs, wait_for

FIRST_RUN_ON = {"SCHEDULE_FIRST_RUN_AT_ONCE": "True"}  # the default, which tests/test_service.py turns off
PLANNED = re.compile(r"(\w+): never crawled: first run at (\S+)")


def far_daily_cron() -> str:
    """A daily cron whose next tick is 11 to 12 hours away: none falls during a test."""
    return f"0 {(datetime.now(UTC).hour + 12) % 24} * * *"


def in_process(archive: Path, settings: dict[str, str]) -> Service:
    """The service's object, its job store brought in line with the registry; nothing runs."""
    merged = Settings()
    merged.setmodule("settings", priority="project")
    for name, value in {**BASE, "ARCHIVE_ROOT": str(archive), **settings}.items():
        merged.set(name, value, priority="cmdline")
    service = Service(merged)
    service.scheduler.start(paused=True)
    service.sync_jobs()
    return service


def pending(service: Service) -> dict[str, tuple[str, datetime]]:
    """The one-off jobs in the store: outlet -> (trigger, run time)."""
    return {job.id.removesuffix(RUN_NOW): (job.kwargs["trigger"], job.next_run_time)
            for job in service.scheduler.get_jobs() if job.id.endswith(RUN_NOW)}


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_fresh_service_crawls_each_never_crawled_outlet_at_once_and_once_only(
    tmp_path: Path, local_web: LocalWeb
) -> None:
    archive = tmp_path / "archive"
    settings = {**FIRST_RUN_ON, "SCHEDULE_OUTLETS": "ndtv,axios,npr,jns", "SCHEDULE_OVERRIDE": far_daily_cron()}
    # before the service ever ran: npr crawled by hand (WARCs, no run in the history), jns set up and paused
    crawl = run_crawl("npr", archive, local_web)
    assert crawl.returncode == 0 and crawl.warcs("npr"), crawl.log[-3000:]
    setup = in_process(archive, settings)
    setup.scheduler.pause_job("jns")
    setup.scheduler.shutdown()

    first = ServiceProcess(archive, local_web.proxy_url, settings)
    spawned = datetime.now(UTC)
    first.start()
    try:
        wait_for(lambda: finished(archive, "ndtv") and finished(archive, "axios"), 60, "the first runs", first)
        listing, text = first.listing(), first.cli("--list").stdout
        after_first = next_run_times(archive)
        assert first.signal(signal.SIGTERM) == 0, first.log()[-3000:]
    finally:
        first.close()
    first_log = first.log()

    second = ServiceProcess(archive, local_web.proxy_url, settings).start()  # a restart: nothing is crawled
    try:
        wait_for(lambda: "Scheduler running" in second.log()[len(first_log):], 30, "the restart", second)
        time.sleep(2)  # two gaps between first runs: one planned at start would have begun by now
        after_restart = next_run_times(archive)
        assert second.signal(signal.SIGTERM) == 0, second.log()[-3000:]
    finally:
        second.close()
    second_log = second.log()[len(first_log):]

    # the never-crawled, active outlets: planned one after another (SCHEDULE_JITTER 0: a second apart), each
    # crawled once, within seconds of the start, recorded as a first run
    assert "outlet(s) never crawled (no run in the history, no WARC in the archive): axios, ndtv" in first_log
    planned = {outlet: datetime.fromisoformat(at) for outlet, at in PLANNED.findall(first_log)}
    assert set(planned) == {"axios", "ndtv"}, first_log[-3000:]
    assert planned["ndtv"] - planned["axios"] == timedelta(seconds=1)
    for outlet in ("ndtv", "axios"):
        [run] = runs(archive, outlet)
        assert (run["trigger"], run["status"]) == (FIRST_RUN, "ok"), run
        assert run["new_articles"] > 0 and run["errors"] == 0, run
        started = datetime.fromisoformat(run["started"])
        assert planned[outlet] <= started < spawned + timedelta(seconds=30), (planned, run)
        assert listing[outlet]["last_run"]["trigger"] == FIRST_RUN and not listing[outlet]["run_requested"]
        assert re.search(rf"^{outlet} .* first-run: ok ", text, re.MULTILINE), text
    # crawled before (WARCs of a `scrapy crawl`) or paused: not started
    assert runs(archive, "npr") == [] and runs(archive, "jns") == []
    assert "jns: never crawled, but paused: no first run" in first_log
    assert listing["jns"]["paused"] and not listing["jns"]["run_requested"]
    # the schedules are unchanged: the next tick is the daily one, for all, and the restart kept it
    assert not any(job.endswith(RUN_NOW) for job in after_first), after_first
    for outlet in ("ndtv", "axios", "npr"):
        assert 11 * 3600 - 60 < after_first[outlet] - time.time() <= 12 * 3600, after_first
    assert after_first["jns"] is None
    assert after_restart == after_first
    # restarted: nothing planned, nothing crawled again
    assert "never crawled: first run" not in second_log and "Starting at once" not in second_log, second_log
    assert [len(runs(archive, outlet)) for outlet in ("ndtv", "axios", "npr", "jns")] == [1, 1, 0, 0]


def test_first_runs_are_spread_over_the_jitter_and_outlive_a_crash_before_they_start(tmp_path: Path) -> None:
    """In-process: the plan in the job store, as a service that dies before running anything leaves it."""
    settings = {**FIRST_RUN_ON, "SCHEDULE_OUTLETS": "ndtv,axios,npr,jns,bbc,guardian,inkl",
                "SCHEDULE_OVERRIDE": far_daily_cron(), "SCHEDULE_JITTER": "9"}
    history = RunHistory(tmp_path / "catalog.sqlite")
    failed = history.start("axios", "crawlall")  # any run counts, whatever its trigger and outcome
    history.finish(failed, "failed", exit_code=1)
    warcs = tmp_path / "npr" / "warc"  # an archive rebuilt from its WARCs: no run in the history
    warcs.mkdir(parents=True)
    (warcs / "npr-20240101000000000-00000-host.warc.gz").write_bytes(b"")
    (tmp_path / "guardian" / "logs").mkdir(parents=True)  # a folder, but nothing archived

    before = in_process(tmp_path, settings)
    before.scheduler.pause_job("jns")
    before.scheduler.add_job(scheduled_crawl, DateTrigger(datetime.now(UTC)), id="inkl" + RUN_NOW,
                             name="run now", args=["inkl"], kwargs={"trigger": "run-now"})  # scrapy schedule --run-now
    before.scheduler.shutdown()

    crashed = in_process(tmp_path, settings)
    planned_at = datetime.now(UTC)
    crashed.start_never_crawled()
    plan = pending(crashed)
    crashed.scheduler.shutdown()  # dies before any first run started

    # never crawled and active: bbc, guardian, ndtv, 9 s / 3 = 3 s apart from now; the operator's run-now stands
    assert {outlet: trigger for outlet, (trigger, _) in plan.items()} == {
        "bbc": FIRST_RUN, "guardian": FIRST_RUN, "ndtv": FIRST_RUN, "inkl": "run-now"}
    times = [plan[outlet][1] for outlet in ("bbc", "guardian", "ndtv")]
    assert abs((times[0] - planned_at).total_seconds()) < 2
    assert [b - a for a, b in zip(times, times[1:], strict=False)] == [timedelta(seconds=3)] * 2

    # the next start finds the plan in the store: ndtv was crawled meanwhile (by hand), bbc has been paused
    (tmp_path / "ndtv" / "warc").mkdir(parents=True)
    (tmp_path / "ndtv" / "warc" / "ndtv-20240101000000000-00000-host.warc.gz.open").write_bytes(b"")
    restarted = in_process(tmp_path, settings)
    restarted.scheduler.pause_job("bbc")
    replanned_at = datetime.now(UTC)
    restarted.start_never_crawled()
    replanned = pending(restarted)
    restarted.scheduler.shutdown()
    assert {outlet: trigger for outlet, (trigger, _) in replanned.items()} == {"guardian": FIRST_RUN,
                                                                               "inkl": "run-now"}
    assert abs((replanned["guardian"][1] - replanned_at).total_seconds()) < 2  # re-planned: first in line now

    off = in_process(tmp_path / "off", {**settings, "SCHEDULE_FIRST_RUN_AT_ONCE": "False"})
    off.start_never_crawled()
    assert pending(off) == {}
    off.scheduler.shutdown()


def test_in_distributed_mode_a_first_run_is_a_round_in_the_frontier_and_happens_once(tmp_path: Path) -> None:
    with redis_server() as url:
        service = in_process(tmp_path, {**FIRST_RUN_ON, "REDIS_URL": url, "SCHEDULE_OUTLETS": "ndtv,axios",
                                        "SCHEDULE_OVERRIDE": far_daily_cron()})
        service.scheduler.pause_job("axios")
        try:
            service.crawl("ndtv", FIRST_RUN)
            queued = redis.Redis.from_url(url).llen(QUEUE_KEY)
            service.crawl("ndtv", FIRST_RUN)  # a first run planned before another run happened: not needed now
            service.crawl("axios", FIRST_RUN)  # paused after its first run was planned
            assert redis.Redis.from_url(url).llen(QUEUE_KEY) == queued > 0
        finally:
            service.scheduler.shutdown()
    [run] = RunHistory(tmp_path / "catalog.sqlite").runs()
    assert (run["outlet"], run["trigger"], run["status"]) == ("ndtv", FIRST_RUN, "ok")
