"""The generic frontier worker: one spider that serves every outlet from the shared queue.

It holds one instance of each outlet spider (``frontier=True``) and its own callbacks only pass each
response on to the outlet named in ``meta["outlet"]``: requests in Redis must name their callbacks as
methods of the spider that takes them. What an outlet discovers goes back into the queue, in the same
round, bound to the worker's callbacks again. The worker never closes when the queue is empty; it waits for
the next round, registered in Redis with a heartbeat.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.spiderloader import get_spider_loader
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from crawler.frontier import WORKER_SETTINGS, WORKERS_KEY, connect
from crawler.outlet import OutletSpider
from crawler.warc.writer import worker_label

HEARTBEAT = 2.0  # seconds; a worker silent for 5 heartbeats is gone


def worker_health(settings: Any) -> tuple[bool, str]:
    """Whether a worker on this host beat recently (``scrapy worker --health``, the container health check)."""
    host = worker_label().split("~", 1)[1]
    beats = {key.decode(): float(value) for key, value in connect(settings).hgetall(WORKERS_KEY).items()}
    ages = {key: time.time() - beat for key, beat in beats.items() if key.endswith(f"~{host}")}
    if not ages:
        return False, f"unhealthy: no worker of host {host} in the frontier"
    key, age = min(ages.items(), key=lambda item: item[1])
    healthy = age < 5 * HEARTBEAT
    return healthy, f"{'healthy' if healthy else 'unhealthy'}: worker {key}, last beat {age:.1f}s ago"


class FrontierWorker(scrapy.Spider):
    name = "frontier"
    custom_settings = WORKER_SETTINGS

    outlets: dict[str, OutletSpider]

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> FrontierWorker:
        worker = super().from_crawler(crawler, *args, **kwargs)
        loader = get_spider_loader(crawler.settings)
        worker.outlets = {name: loader.load(name).from_crawler(crawler, frontier=True) for name in loader.list()}
        worker.server = connect(crawler.settings)
        worker.heartbeat = LoopingCall(worker.beat)
        crawler.signals.connect(worker.idle, signal=signals.spider_idle)
        # registered once the engine runs: after spider_opened, when the WARCs of a dead worker are recovered
        crawler.signals.connect(worker.opened, signal=signals.engine_started)
        return worker

    async def start(self) -> Any:
        return
        yield  # the work comes from the queue

    def opened(self) -> None:
        self.heartbeat.start(HEARTBEAT)
        self.logger.info("Frontier worker %s serving %d outlets", worker_label(), len(self.outlets))

    def beat(self) -> None:
        self.server.hset(WORKERS_KEY, worker_label(), f"{time.time():.3f}")

    def closed(self, reason: str) -> None:
        if self.heartbeat.running:
            self.heartbeat.stop()
        self.server.hdel(WORKERS_KEY, worker_label())

    def idle(self, spider: scrapy.Spider) -> None:
        raise DontCloseSpider("waiting for the next round")

    def still_wanted(self, request: scrapy.Request) -> bool:
        """Whether an article request is still to be fetched (see :mod:`crawler.frontier.scheduler`)."""
        outlet = self.outlets.get(request.meta.get("outlet", ""))
        if outlet is None or outlet.seen is None or not self.is_article(request):
            return True
        fetch, _ = outlet.seen.decide(outlet.name, request.url)
        return fetch

    def is_article(self, request: scrapy.Request) -> bool:
        """Whether a request fetches an article of a known outlet (not a feed, a sitemap or a front page)."""
        return request.meta.get("outlet") in self.outlets and \
            (request.meta.get("discovery") or {}).get("role") == "article"

    def adopt(self, outlet: str, request: scrapy.Request, round_: str) -> scrapy.Request:
        """An outlet's request, bound to this spider's callbacks, in ``round_``."""
        return request.replace(
            callback=getattr(self, request.callback.__name__),
            errback=getattr(self, request.errback.__name__) if request.errback else None,
            meta={**request.meta, "outlet": outlet, "frontier_round": round_},
        )

    def _pass_on(self, method: str, arg: Any, meta: dict[str, Any]) -> Iterator[Any]:
        outlet = self.outlets[meta["outlet"]]
        for output in getattr(outlet, method)(arg) or ():
            yield self._adopted(outlet.name, output, meta)

    def _adopted(self, outlet: str, output: Any, meta: dict[str, Any]) -> Any:
        if isinstance(output, scrapy.Request):
            return self.adopt(outlet, output, meta.get("frontier_round", ""))
        return output

    async def parse_discovery(self, response: scrapy.http.Response) -> AsyncIterator[Any]:
        outlet = self.outlets[response.meta["outlet"]]
        async for output in outlet.parse_discovery(response):
            yield self._adopted(outlet.name, output, response.meta)

    def parse_robots(self, response: scrapy.http.Response) -> Iterable[Any]:
        return self._pass_on("parse_robots", response, response.meta)

    def parse_front_page(self, response: scrapy.http.Response) -> Iterable[Any]:
        return self._pass_on("parse_front_page", response, response.meta)

    def parse_article(self, response: scrapy.http.Response) -> Iterable[Any]:
        return self._pass_on("parse_article", response, response.meta)

    def parse_requisite(self, response: scrapy.http.Response) -> Iterable[Any]:
        return self._pass_on("parse_requisite", response, response.meta)

    def requisite_failed(self, failure: Failure) -> Iterable[Any]:
        return self._pass_on("requisite_failed", failure, failure.request.meta)

    def fetch_failed(self, failure: Failure) -> Iterable[Any]:
        return self._pass_on("fetch_failed", failure, failure.request.meta)
