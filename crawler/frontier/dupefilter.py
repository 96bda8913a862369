"""Duplicate filter of the shared frontier: one Redis set of fingerprints per round, expiring.

scrapy-redis's filter keeps every fingerprint forever, which would stop the next round from fetching the
same feed again, a revisit from refetching an article, and a request lost with a dead worker from ever
being found again. Here a request is a duplicate only within its round (``meta["frontier_round"]``): a feed
listed twice, an article both in a feed and a sitemap, a sitemap named by robots.txt and declared.
Across rounds the catalog's seen-state decides what is fetched (:mod:`crawler.frontier.scheduler`).
"""

from __future__ import annotations

from scrapy import Request
from scrapy_redis.dupefilter import RFPDupeFilter

ROUND_TTL = 2 * 24 * 3600  # seconds a round's fingerprints are kept after its last new request


class RoundDupeFilter(RFPDupeFilter):
    def request_seen(self, request: Request) -> bool:
        key = f"{self.key}:{request.meta.get('frontier_round', '')}"
        pipe = self.server.pipeline()
        pipe.sadd(key, self.request_fingerprint(request))
        pipe.expire(key, ROUND_TTL)
        added, _ = pipe.execute()
        return added == 0

    def clear(self) -> None:
        for key in self.server.scan_iter(f"{self.key}:*"):
            self.server.delete(key)
