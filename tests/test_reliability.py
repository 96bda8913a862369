"""Faults, hostile input and SIGKILLs lose nothing (issue 6): the checks of ``make reliability``, smaller budget.

The fault site is crawled once; each fault is one test, named after it. The SIGKILL trials run
``RELIABILITY_TRIALS`` crawls and as many replays (default 10 each; ``make reliability`` runs 25).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.localweb.faults import all_faults
from tests.reliability import Check, crawl_kill_trials, fault_checks, replay_kill_trials, run_fault_crawl

TRIALS = int(os.environ.get("RELIABILITY_TRIALS", "10"))
SEED = 20261122
SITE_CHECKS = ["external entities resolved", "sitemap-index cycle", "enormous feed", "the crawl itself",
               "every article served completely is in the archive exactly once"]


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Check]:
    results = fault_checks(run_fault_crawl(tmp_path_factory.mktemp("faults")))
    return {check.name: check for check in results[: len(all_faults())]} | {
        f"site: {check.name}": check for check in results[len(all_faults()):]}


@pytest.mark.parametrize("name", [f.kind for f in all_faults()] + [f"site: {name}" for name in SITE_CHECKS])
def test_fault(checks: dict[str, Check], name: str) -> None:
    check = checks[name]
    assert check.ok, f"{name}: must {check.expected}, did {check.observed}"


@pytest.mark.slow
@pytest.mark.parametrize("trials", [crawl_kill_trials, replay_kill_trials], ids=["crawl", "replay"])
def test_sigkill_at_random_points(tmp_path: Path, trials) -> None:  # noqa: ANN001 - one of the two functions
    report = trials(tmp_path, TRIALS, SEED)
    assert report.killed >= TRIALS // 2, f"most kills must land while the {report.kind} runs"
    for check in report.checks():
        assert check.ok, f"{check.name}: must {check.expected}, did {check.observed}"
