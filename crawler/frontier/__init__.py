"""The shared frontier: many crawl workers, on one or many machines, on one Redis request queue (scrapy-redis).

- The scheduler node puts each outlet's due discovery requests (feeds, sitemaps, robots.txt, front pages,
  due revisits) into the queue, one *round* per scheduled run (:mod:`crawler.frontier.enqueue`).
- Every worker (``scrapy worker``, :mod:`crawler.frontier.worker`) serves every outlet: it takes requests,
  fetches them, writes its own WARC files and puts what it discovers back into the queue.
- Duplicates are filtered per round (:mod:`crawler.frontier.dupefilter`); across rounds the catalog's seen-state
  decides, checked again when a request leaves the queue (:mod:`crawler.frontier.scheduler`).
- Each article is fetched once a round across workers, whatever spelling of its URL they take: a worker claims
  the article's URL key for the round before fetching it (:mod:`crawler.frontier.claims`).
- Politeness holds across all workers: per-host slots and spacing in Redis (:mod:`crawler.frontier.politeness`).
- A worker that dies loses only the requests it had taken; their articles are not in the seen-state, so the
  next round finds them again.
"""

from __future__ import annotations

from typing import Any

import redis
from scrapy_redis.connection import get_redis_from_settings

#: Redis keys, shared by the scheduler node and every worker.
QUEUE_KEY = "newsarchive:frontier:requests"
DUPEFILTER_KEY = "newsarchive:frontier:seen"
WORKERS_KEY = "newsarchive:frontier:workers"
POLITENESS_KEY = "newsarchive:frontier:host"
CLAIMS_KEY = "newsarchive:frontier:claim"

#: What a worker needs on top of the project settings (scrapy-redis's scheduler on the shared keys).
WORKER_SETTINGS: dict[str, Any] = {
    "SCHEDULER": "crawler.frontier.scheduler.FrontierScheduler",
    "DUPEFILTER_CLASS": "crawler.frontier.dupefilter.RoundDupeFilter",
    # FIFO: requests of many hosts come interleaved as discovered (a sorted set orders ties by their bytes,
    # which groups one host's requests and leaves a worker waiting on that host's politeness)
    "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.FifoQueue",
    "SCHEDULER_QUEUE_KEY": QUEUE_KEY,
    "SCHEDULER_DUPEFILTER_KEY": DUPEFILTER_KEY,
    "SCHEDULER_PERSIST": True,  # the queue outlives every worker
    # Politeness is shared (crawler.frontier.politeness): no per-process delays on top of it.
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
}


def connect(settings: Any) -> redis.Redis:
    """The Redis client for ``REDIS_URL`` (scrapy-redis's connection settings)."""
    return get_redis_from_settings(settings)


def round_id(outlet: str, when: str) -> str:
    """The identifier of one scheduled run of ``outlet`` in the frontier."""
    return f"{outlet}@{when}"
