"""scrapy-redis's scheduler, with two checks when an article request leaves the shared queue.

A request may wait in the queue while another round's copy of it is fetched, or while another worker
revisits the same article. An article request is therefore asked again whether the catalog's seen-state
still wants it (new, or its revisit due) when a worker takes it; one that is no longer wanted is dropped.
Then the worker claims the article for the round (:mod:`crawler.frontier.claims`): another spelling of it,
taken by any worker in the same round, is dropped too; so is a page requisite another worker took in the round.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy_redis.scheduler import Scheduler

from crawler.frontier.claims import CLAIM_TTL, Claims
from crawler.warc.writer import worker_label


class FrontierScheduler(Scheduler):
    def open(self, spider: Any) -> Any:
        opened = super().open(spider)
        ttl = spider.settings.getint("FRONTIER_CLAIM_TTL", CLAIM_TTL)
        self.claims = Claims(self.server, worker_label(), ttl)
        return opened

    def next_request(self) -> Request | None:
        while (request := super().next_request()) is not None:
            if not self.spider.still_wanted(request):
                self._dropped("frontier/dropped_already_archived")
            elif self.spider.is_article(request) and not self.claims.claim(
                    request.meta.get("frontier_round", ""), request.meta["outlet"], request.url):
                self._dropped("frontier/dropped_claimed")
            elif _is_requisite(request) and not self.claims.claim_requisite(
                    request.meta.get("frontier_round", ""), request.meta.get("outlet", ""), request.url):
                self._dropped("frontier/dropped_claimed_requisite")
            else:
                return request
        return None

    def _dropped(self, stat: str) -> None:
        if self.stats:
            self.stats.inc_value(stat, spider=self.spider)


def _is_requisite(request: Request) -> bool:
    return (request.meta.get("discovery") or {}).get("role") == "requisite"
