"""Off-domain means off-limits: for retried requests, and for every outlet a frontier worker serves.

Scrapy's OffsiteMiddleware lets every ``dont_filter`` request through, and
Scrapy marks each retry ``dont_filter`` and passes that on to the retry's
redirects: a page that fails once and then redirects off the site would be
followed wherever it points. Here only an explicit ``allow_offsite`` meta key
opens the way; ``dont_filter`` keeps its one job, the duplicate filter.

A frontier worker (:mod:`crawler.frontier.worker`) is one spider serving every
outlet, with no ``allowed_domains`` of its own: a request it carries for an
outlet (``meta["outlet"]``) is held to that outlet's ``allowed_domains``.

The robots.txt Scrapy fetches before a host's first request goes wherever that
request was allowed to go: a page requisite on a CDN (``allow_offsite``,
:mod:`crawler.requisites`) is fetched only as the CDN's robots.txt allows.
"""

from __future__ import annotations

import re

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.http.request import NO_CALLBACK
from scrapy.statscollectors import StatsCollector
from scrapy.utils.httpobj import urlparse_cached

from crawler.outlets import outlet_for


class StrictOffsiteMiddleware(OffsiteMiddleware):
    def __init__(self, stats: StatsCollector) -> None:
        super().__init__(stats)
        self._outlet_hosts: dict[str, re.Pattern[str]] = {}  # outlet name -> its allowed_domains as a regex

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if _robots_check(request):
            return  # asked for by RobotsTxtMiddleware, after this middleware let the request it checks through
        if request.dont_filter and not request.meta.get("allow_offsite"):
            request = request.replace(dont_filter=False)
        super().process_request(request)

    def should_follow(self, request: Request, spider: Spider) -> bool:
        outlet = outlet_for(request, spider) if request.meta.get("outlet") else None
        if outlet is None:
            return super().should_follow(request, spider)
        if outlet.name not in self._outlet_hosts:
            self._outlet_hosts[outlet.name] = self.get_host_regex(outlet)
        return bool(self._outlet_hosts[outlet.name].search(urlparse_cached(request).hostname or ""))


def _robots_check(request: Request) -> bool:
    return (request.callback is NO_CALLBACK and bool(request.meta.get("dont_obey_robotstxt"))
            and urlparse_cached(request).path == "/robots.txt")
