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

from statistics import median
from typing import Any

from pipelines.extract import Article

FIELDS = ("title", "byline", "published", "body", "confidence")


def count(stats: Any, article: Article | None, body_min_words: int) -> None:
    """Count one article page in the crawl stats; ``None`` for a page extraction gave up on."""
    stats.inc_value("coverage/pages")
    if article is None:
        return
    present = {
        "title": bool(article.title),
        "byline": bool(article.byline),
        "published": bool(article.published),
        "body": len(article.body.split()) >= body_min_words,
    }
    for field in (name for name, found in present.items() if found):
        stats.inc_value(f"coverage/{field}")
    stats.inc_value("coverage/confidence", article.confidence)


def shares(stats: dict[str, Any]) -> tuple[int, dict[str, float]]:
    """Pages counted and the share of them with each field (confidence: the mean), from crawl stats."""
    pages = int(stats.get("coverage/pages", 0))
    return pages, {field: round(stats.get(f"coverage/{field}", 0) / pages, 3) if pages else 0.0 for field in FIELDS}


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
