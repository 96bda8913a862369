"""scrapy-redis's scheduler, with one check when a request leaves the shared queue.

A request may wait in the queue while another round's copy of it is fetched, or while another worker
revisits the same article. An article request is therefore asked again whether the catalog's seen-state
still wants it (new, or its revisit due) when a worker takes it; one that is no longer wanted is dropped.
"""

from __future__ import annotations

from scrapy import Request
from scrapy_redis.scheduler import Scheduler


class FrontierScheduler(Scheduler):
    def next_request(self) -> Request | None:
        while (request := super().next_request()) is not None:
            if self.spider.still_wanted(request):
                return request
            if self.stats:
                self.stats.inc_value("frontier/dropped_already_archived", spider=self.spider)
        return None
