"""How long the crawler waits before retrying."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.middlewares.retry import BackoffRetryMiddleware, retry_after_seconds


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after_seconds(b"120") == 120.0
    soon = datetime.now(UTC) + timedelta(seconds=30)
    assert 28 <= retry_after_seconds(format_datetime(soon, usegmt=True).encode()) <= 30
    assert retry_after_seconds(format_datetime(soon - timedelta(hours=1), usegmt=True).encode()) == 0.0
    assert retry_after_seconds(b"soon, maybe") is None
    assert retry_after_seconds(None) is None


def test_backoff_doubles_from_the_base_and_is_capped() -> None:
    crawler = get_crawler(settings_dict={"RETRY_BACKOFF_BASE": 2.0, "RETRY_BACKOFF_MAX": 10.0})
    middleware = BackoffRetryMiddleware.from_crawler(crawler)
    for attempt, (low, high) in enumerate([(1, 2), (2, 4), (4, 8), (5, 10), (10, 10)]):
        assert low <= middleware.delay_for(None, attempt) <= high
    asked = Response("https://e.com/", status=429, headers={"Retry-After": "600"})
    assert middleware.delay_for(asked, 0) == 10.0  # a server asking for too long gets the cap
