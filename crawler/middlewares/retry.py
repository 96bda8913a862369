"""Retries that back off: exponential delays with jitter, and ``Retry-After`` honoured.

Scrapy's own RetryMiddleware retries at once, which hammers a server that has
just said it is overloaded (429/503) or is failing to answer. This one waits
before handing the retry back: as long as the server asked (capped), else
``RETRY_BACKOFF_BASE * 2**n`` seconds with jitter.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.utils.defer import deferred_to_future
from scrapy.utils.response import response_status_message
from twisted.internet import reactor
from twisted.internet.task import deferLater

logger = logging.getLogger(__name__)


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler.settings)
        self.crawler = crawler
        self.base = crawler.settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.max_delay = crawler.settings.getfloat("RETRY_BACKOFF_MAX", 120.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        await self._wait(
            self.delay_for(response, request.meta.get("retry_times", 0)), request, f"HTTP {response.status}"
        )
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if request.meta.get("dont_retry") or not isinstance(exception, self.exceptions_to_retry):
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            await self._wait(
                self.delay_for(None, request.meta.get("retry_times", 0)), request, type(exception).__name__
            )
        return retry

    async def _wait(self, delay: float, request: Request, reason: str) -> None:
        if delay > 0:
            logger.info("Waiting %.1fs before retrying %s (%s)", delay, request.url, reason)
            self.crawler.stats.inc_value("retry/backoff_seconds", round(delay, 3))
            await deferred_to_future(deferLater(reactor, delay, lambda: None))

    def delay_for(self, response: Response | None, attempt: int) -> float:
        """Seconds to wait: the server's ``Retry-After`` if it gave one, else backoff."""
        asked = retry_after_seconds(response.headers.get(b"Retry-After")) if response is not None else None
        if asked is not None:
            return min(asked, self.max_delay)
        if self.base <= 0:
            return 0.0
        backoff = self.base * 2**attempt
        return min(backoff * random.uniform(0.5, 1.0), self.max_delay)


def retry_after_seconds(value: bytes | None) -> float | None:
    """``Retry-After`` as seconds from now (it is either seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
