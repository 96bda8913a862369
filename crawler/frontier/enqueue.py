"""The scheduler node's part: one round of an outlet into the shared frontier.

A round is what a crawl of the outlet would start with (:meth:`OutletSpider.seed_requests`): its feeds,
sitemaps, front pages, the robots.txt of its hosts (a long-lived worker reads each robots.txt once, so
its sitemaps are asked for explicitly every round) and its due revisits. Requests are bound to the worker
spider's callbacks, as workers read them back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scrapy_redis.queue import FifoQueue

from crawler.frontier import DUPEFILTER_KEY, QUEUE_KEY, connect, round_id
from crawler.frontier.dupefilter import RoundDupeFilter
from crawler.frontier.worker import FrontierWorker
from crawler.outlet import OutletSpider
from crawler.seen_state import SeenState


def enqueue_round(outlet_class: type[OutletSpider], settings: Any) -> int:
    """Put one round of the outlet in the frontier; returns how many requests went in."""
    outlet = outlet_class(frontier=True)
    outlet.seen = SeenState.open(settings) if settings.getbool("INCREMENTAL") else None
    try:
        requests = outlet.seed_requests(robots=True, revisits=settings.getint("REVISIT_MAX_PER_RUN"))
    finally:
        if outlet.seen is not None:
            outlet.seen.close()
    server = connect(settings)
    worker = FrontierWorker()  # only to name the callbacks
    queue = FifoQueue(server, worker, QUEUE_KEY)
    dupes = RoundDupeFilter(server, DUPEFILTER_KEY)
    when = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    count = 0
    for request in requests:
        request = worker.adopt(outlet.name, request, round_id(outlet.name, when))
        if not dupes.request_seen(request):
            queue.push(request)
            count += 1
    return count
