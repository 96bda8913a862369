"""Per-host politeness across every worker of the shared frontier, kept in Redis.

Scrapy's download slots live in one process: with N workers a host would get N times the concurrency and
1/N of the delay. Here each request first takes a slot of its host in Redis, atomically (a Lua script on
the Redis clock, so the machines' clocks do not matter):

- at most ``FRONTIER_HOST_CONCURRENCY`` requests to a host are in flight across all workers;
- consecutive requests to a host start at least ``FRONTIER_HOST_DELAY`` seconds apart across all workers.

An outlet's ``custom_settings`` ``DOWNLOAD_DELAY`` / ``CONCURRENT_REQUESTS_PER_DOMAIN`` apply to its requests.
The slot is given back when the response or the error arrives; a worker that dies holding one loses it
after ``DOWNLOAD_TIMEOUT`` + 10 seconds (the slot's lease). Waiting happens on the reactor, not by blocking.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from crawler.frontier import POLITENESS_KEY, connect
from crawler.outlets import outlet_for

# KEYS: holders (sorted set: token -> lease end), next start time. ARGV: token, limit, delay, lease.
# Returns "0" (slot taken), "-1" (host full) or the seconds to wait before the next start (as text: Lua
# numbers would come back truncated to integers).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local limit, delay, lease = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= limit then return '-1' end
local ready = tonumber(redis.call('GET', KEYS[2]) or '0')
if ready > now then return tostring(ready - now) end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(lease) + 1)
redis.call('SET', KEYS[2], tostring(now + delay), 'EX', math.ceil(delay) + 1)
return '0'
"""
POLL = 0.02  # seconds between tries while a host is full


class SharedPolitenessMiddleware:
    """Downloader middleware: a host slot from Redis before each download (only with ``REDIS_URL``)."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.get("REDIS_URL"):
            raise NotConfigured("no shared frontier (REDIS_URL is not set)")
        self.crawler = crawler
        self.server = connect(settings)
        self.acquire = self.server.register_script(_ACQUIRE)
        self.delay = settings.getfloat("FRONTIER_HOST_DELAY")
        self.concurrency = settings.getint("FRONTIER_HOST_CONCURRENCY")
        self.lease = settings.getfloat("DOWNLOAD_TIMEOUT") + 10

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedPolitenessMiddleware:
        return cls(crawler)

    def policy(self, request: Request) -> tuple[float, int]:
        """(delay, concurrency) for the request's host: its outlet's own, else the frontier's."""
        own: dict[str, Any] = getattr(outlet_for(request, self.crawler.spider), "custom_settings", None) or {}
        return (float(own.get("DOWNLOAD_DELAY", self.delay)),
                int(own.get("CONCURRENT_REQUESTS_PER_DOMAIN", self.concurrency)))

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        host = urlparse_cached(request).hostname or ""
        delay, limit = self.policy(request)
        token = uuid.uuid4().hex
        keys = [f"{POLITENESS_KEY}:{host}:holders", f"{POLITENESS_KEY}:{host}:next"]
        while (wait := float(self.acquire(keys=keys, args=[token, limit, delay, self.lease]))) != 0:
            self.crawler.stats.inc_value("frontier/politeness_waits")
            await asyncio.sleep(POLL if wait < 0 else wait)
        request.meta["frontier_slot"] = (keys[0], token)
        # it may have waited long for the slot (a host blocked by a dead worker's lease), and another copy of
        # it (a later round's) may have been archived meanwhile: asked again, now that it would go out
        still_wanted = getattr(self.crawler.spider, "still_wanted", None)
        if still_wanted is not None and not still_wanted(request):
            self.release(request)
            self.crawler.stats.inc_value("frontier/dropped_already_archived")
            raise IgnoreRequest(f"{request.url} was archived while it waited for its host")

    def release(self, request: Request) -> None:
        if slot := request.meta.pop("frontier_slot", None):
            self.server.zrem(*slot)

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        self.release(request)
        return response

    def process_exception(self, request: Request, exception: Exception, spider: Spider | None = None) -> None:
        self.release(request)
