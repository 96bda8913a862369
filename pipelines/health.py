"""Extraction health: how many of an outlet's article pages gave each field, run after run.

A site redesign rarely breaks a crawl: pages still download and extraction still
"works", but bylines, dates or whole bodies quietly go missing. So each crawl
counts, per article page, which fields extraction found (:func:`count`, as crawl
stats ``coverage/*``); at the end the shares of its pages with a title, byline,
publication time, a body of some length and the extractor's mean confidence are
compared with the median of the outlet's own previous runs (:func:`assess`).
A share clearly below that baseline flags the outlet.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median
from typing import Any

from pipelines.capture import warc_datetime
from pipelines.extract import Article

FIELDS = ("title", "byline", "published", "body", "confidence")


@dataclass(frozen=True)
class PageCoverage:
    """Which fields extraction found on one article page (small: it travels back from replay's workers)."""

    title: bool
    byline: bool
    published: bool
    body_words: int
    confidence: float

    @classmethod
    def of(cls, article: Article) -> PageCoverage:
        return cls(bool(article.title), bool(article.byline), bool(article.published), len(article.body.split()),
                   article.confidence)


class RunStats:
    """Stats of a run that is not a Scrapy crawl (a replayed run): the two methods :func:`count` uses."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()
        self.latest: dict[str, str] = {}

    def inc_value(self, key: str, count: float = 1) -> None:
        self.values[key] += count

    def max_value(self, key: str, value: str) -> None:
        self.latest[key] = max(self.latest.get(key, value), value)

    def get_stats(self) -> dict[str, Any]:
        return {**self.values, **self.latest}


def count(stats: Any, page: PageCoverage | None, fetched: str, body_min_words: int) -> None:
    """Count one article page of a run (``stats``: Scrapy's, or :class:`RunStats`); ``None`` for a page
    extraction gave up on. ``fetched`` (its WARC-Date) dates the run: its latest article page."""
    stats.inc_value("coverage/pages")
    if fetched:
        stats.max_value("coverage/last_fetched", fetched)
    if page is None:
        return
    present = {"title": page.title, "byline": page.byline, "published": page.published,
               "body": page.body_words >= body_min_words}
    for field in (name for name, found in present.items() if found):
        stats.inc_value(f"coverage/{field}")
    stats.inc_value("coverage/confidence", page.confidence)


def shares(stats: dict[str, Any]) -> tuple[int, dict[str, float]]:
    """Pages counted and the share of them with each field (confidence: the mean), from a run's stats."""
    pages = int(stats.get("coverage/pages", 0))
    return pages, {field: round(stats.get(f"coverage/{field}", 0) / pages, 3) if pages else 0.0 for field in FIELDS}


@dataclass(frozen=True)
class HealthSettings:
    """When a run's coverage is judged, and how far it may fall (the ``HEALTH_*`` settings)."""

    body_min_words: int = 80
    baseline_runs: int = 10
    min_runs: int = 3
    min_pages: int = 3
    max_drop: float = 0.25

    @classmethod
    def from_settings(cls, settings: Any) -> HealthSettings:
        """From anything with Scrapy's typed getters."""
        return cls(settings.getint("HEALTH_BODY_MIN_WORDS"), settings.getint("HEALTH_BASELINE_RUNS"),
                   settings.getint("HEALTH_MIN_RUNS"), settings.getint("HEALTH_MIN_PAGES"),
                   settings.getfloat("HEALTH_MAX_DROP"))


def record_run(catalog: Any, outlet: str, stats: dict[str, Any], health: HealthSettings) -> list[str]:
    """Store one run's coverage (dated by its latest article page) against the outlet's baseline in the
    catalog; returns what fell below it, in words. A run with no article page records nothing.

    The crawl calls it when it ends, replay when it has read a run's WARCs: the rows are the same.
    """
    pages, current = shares(stats)
    if not pages:
        return []
    latest = warc_datetime(str(stats.get("coverage/last_fetched", ""))) or datetime.now(UTC)
    finished = latest.isoformat(timespec="microseconds")
    history = catalog.coverage_before(outlet, finished, health.baseline_runs)
    baseline, fallen = assess(pages, current, history, min_runs=health.min_runs, min_pages=health.min_pages,
                              max_drop=health.max_drop)
    catalog.record_coverage(outlet, pages, current, baseline, "; ".join(fallen), finished)
    return fallen


def assess(
    pages: int, current: dict[str, float], history: list[dict[str, Any]], *, min_runs: int, min_pages: int,
    max_drop: float,
) -> tuple[dict[str, float] | None, list[str]]:
    """The baseline (median of earlier runs with at least ``min_pages``) and the fields that fell below it.

    No baseline, and so no verdict, until ``min_runs`` such runs exist or when this run has too few pages
    to say anything: a small run's shares swing too much. A field falls when its share is more than
    ``max_drop`` below the baseline's.
    """
    earlier = [row for row in history if row["pages"] >= min_pages]
    if pages < min_pages or len(earlier) < min_runs:
        return None, []
    baseline = {field: round(median(row[field] for row in earlier), 3) for field in FIELDS}
    fallen = [f"{field} {current[field]:.0%} (usually {baseline[field]:.0%})"
              for field in FIELDS if current[field] < baseline[field] - max_drop]
    return baseline, fallen


def describe(row: dict[str, Any] | None) -> str:
    """One line on an outlet's latest assessed run, for status listings."""
    if row is None:
        return "extraction health: not enough runs yet"
    if row["degraded"]:
        return f"EXTRACTION DEGRADED since {row['finished'][:16].replace('T', ' ')}: {row['degraded']}"
    return "extraction ok: " + ", ".join(f"{field} {row[field]:.0%}" for field in FIELDS)
