"""Outlet schedules as APScheduler triggers.

An outlet declares *when* it is crawled (``schedule``, a string) and nothing about how that is done; this
module is the one place that reads those declarations, and ``SCHEDULE_OVERRIDE`` / ``SCHEDULE_OUTLETS``
/ ``SCHEDULE_JITTER`` on top of them, so the outlets, the service and ``scrapy schedule --list`` agree.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from scrapy.settings import BaseSettings
from scrapy.spiderloader import get_spider_loader

from crawler.outlet import OutletSpider

logger = logging.getLogger(__name__)

_INTERVAL = re.compile(r"^every\s+(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def schedule_trigger(spec: str) -> CronTrigger | IntervalTrigger:
    """The trigger for a schedule: a five-field cron expression (UTC) or ``"every 15m"`` (s, m, h, d).

    Raises ``ValueError`` if it is malformed.
    """
    spec = spec.strip()
    if match := _INTERVAL.match(spec):
        return IntervalTrigger(**{_UNITS[match[2]]: int(match[1])})
    return CronTrigger.from_crontab(spec, timezone="UTC")


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
        if not spec or not issubclass(spidercls, OutletSpider):
            logger.warning("%s: no schedule declared; not scheduled", name)
            continue
        try:
            trigger = schedule_trigger(spec)
        except ValueError as error:
            logger.error("%s: malformed schedule %r (%s); not scheduled", name, spec, error)
            continue
        trigger.jitter = jitter or None
        schedules[name] = (trigger, f"{spec}" + (f" ~{jitter:g}s" if jitter else ""))
    return schedules


def job_schedule(job: Any) -> str:
    """The schedule description kept in a job's name."""
    return str(job.name).partition(": ")[2] or str(job.name)
