"""robots.txt as RFC 9309 reads it: an unreachable robots.txt means "do not crawl this host".

Scrapy's RobotsTxtMiddleware treats a robots.txt it could not fetch (a reset
connection, a timeout, a 5xx after every retry) as permission to crawl
everything, so a site whose robots.txt is down would be crawled against rules
it may well have. RFC 9309 (2.3.1.3-4) says to assume complete disallow then,
and Heritrix does the same. This subclass does that for the rest of the crawl,
with a warning and a count; the articles it skipped are not marked as seen,
so the next crawl tries them again. A 4xx robots.txt still means "no rules".
"""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

logger = logging.getLogger(__name__)


class UnreachableRobots:
    """The robot parser of a host whose robots.txt could not be read: nothing is allowed."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False


class _WithoutTraceback(logging.Filter):
    """Scrapy logs a failed robots.txt fetch with its traceback; the error line says enough (and we add ours)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text = None, None
        return True


class RobotsPolicyMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        scrapy_logger = logging.getLogger(RobotsTxtMiddleware.__module__)
        if not any(isinstance(f, _WithoutTraceback) for f in scrapy_logger.filters):
            scrapy_logger.addFilter(_WithoutTraceback())

    def process_request_2(self, rp, request: Request) -> None:  # noqa: ANN001 - Scrapy's signature
        if isinstance(rp, UnreachableRobots):
            self._stats.inc_value("robotstxt/skipped_host_unreachable")
            raise IgnoreRequest(f"robots.txt unreachable ({rp.reason}): not crawling this host")
        super().process_request_2(rp, request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status < 500:
            await super()._parse_robots(response, netloc, request)
            return
        self._stats.inc_value("robotstxt/response_count")
        self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        self._unreachable(netloc, f"HTTP {response.status}")

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, IgnoreRequest):  # refused by our own rules (e.g. an unsafe target): no verdict
            super()._robots_error(exc, netloc)
            return
        self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        self._unreachable(netloc, type(exc).__name__)

    def _unreachable(self, netloc: str, reason: str) -> None:
        logger.warning("robots.txt of %s unreachable (%s): not crawling that host in this run (RFC 9309)",
                       netloc, reason)
        self._stats.inc_value("robotstxt/unreachable")
        parser = UnreachableRobots(reason)
        waiting = self._parsers[netloc]
        self._parsers[netloc] = parser
        waiting.callback(parser)
