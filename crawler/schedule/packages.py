"""Daily WACZ packages (``WACZ_DAILY``): the service packages each outlet's previous UTC day on its own.

At ``WACZ_DAILY_AT`` (UTC, ``HH:MM``) every scheduled outlet's captures of the day before go into
``<ARCHIVE_ROOT>/<outlet>/wacz/<outlet>-<YYYY-MM-DD>.wacz``, each by a ``scrapy wacz`` subprocess (what a person
would run: the service never holds a package's work in its own process). A package that exists is not made
again, so a service that starts after the hour (or was down at it) makes the missing ones at once. An outlet
with nothing captured that day gets no package.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

logger = logging.getLogger(__name__)

def package_path(root: Path, outlet: str, day: date) -> Path:
    return root / outlet / "wacz" / f"{outlet}-{day.isoformat()}.wacz"


def previous_day(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(UTC).date() - timedelta(days=1)


def missing_packages(root: Path, outlets: list[str], day: date) -> list[str]:
    """The outlets whose package of ``day`` is not there yet."""
    return [outlet for outlet in outlets if not package_path(root, outlet, day).exists()]


def package_day(root: Path, outlets: list[str], day: date, overrides: list[str], timeout: float) -> dict[str, str]:
    """Package each outlet's captures of ``day`` (those not packaged yet); what happened, by outlet."""
    results = {}
    for outlet in missing_packages(root, outlets, day):
        output = package_path(root, outlet, day)
        output.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "scrapy", "wacz", outlet, "--since", day.isoformat(), "--until",
                   day.isoformat(), "-o", str(output), "-q", "-s", f"ARCHIVE_ROOT={root}"]
        for override in overrides:
            command += ["-s", override]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            results[outlet] = f"not packaged: stopped after {timeout:g}s"
            logger.warning("%s: the package of %s took over %gs: stopped", outlet, day, timeout)
            continue
        said = (done.stdout + done.stderr).strip()
        if done.returncode == 0:
            results[outlet] = f"packaged: {output}"
            logger.info("%s: %s packaged as %s", outlet, day, output)
        elif not output.exists():
            results[outlet] = "nothing to package" if "Nothing to package" in said else f"failed: {said[-300:]}"
            level = logging.INFO if "Nothing to package" in said else logging.WARNING
            logger.log(level, "%s: no package of %s: %s", outlet, day, said.splitlines()[-1] if said else "")
        else:
            results[outlet] = f"packaged without damaged WARCs: {output}"
            logger.warning("%s: %s packaged as %s, damaged WARCs left out: %s", outlet, day, output, said[-500:])
    return results
