"""The Scrapy item pipeline: each archived article through the capture path (:mod:`pipelines.process`).

The spider hands over the :class:`~pipelines.capture.Capture` the archiver made; this
pipeline extracts it, writes its files and its catalog row, on the crawl's one
catalog connection (the seen-state's), exactly as replay does. An unchanged revisit
gets its row and no files; a page with no article gives no files, a catalog row with
the reason, a stat ``extraction/rejected/<reason>``, and the item is dropped with
that reason. What passes on is the :class:`~pipelines.process.Outcome`.

Extraction runs in a thread of its own, one page at a time in the order they came: a pathological page takes
seconds to extract (5,000 nested elements: over 3 s on a slow machine, measured), and on the reactor's thread every
download in flight meanwhile would wait, and time out. The catalog row is written back on the reactor's thread,
where the crawl's catalog connection lives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_to_future
from twisted.internet import reactor
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from crawler.outlets import profile, served
from crawler.seen_state import SeenState
from pipelines import health
from pipelines.capture import Capture
from pipelines.outlets import OutletProfile
from pipelines.process import DUPLICATE, REJECTED, UNCHANGED, UPDATED, Outcome, extract, record
from pipelines.stories.index import StoryIndex


class ArticleExtractionPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.root = Path(crawler.settings.get("ARCHIVE_ROOT", "archive"))
        self.profiles: dict[str, OutletProfile] = {}
        self.extraction = ThreadPool(minthreads=1, maxthreads=1, name="extraction")  # (one: pages in order)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticleExtractionPipeline:
        return cls(crawler)

    def open_spider(self, spider: Spider | None = None) -> None:
        self.profiles = {name: profile(outlet) for name, outlet in served(spider or self.crawler.spider).items()}
        seen = SeenState.of(self.crawler)
        StoryIndex.of(seen.catalog, seen.settings.redis_url, self.root)  # its LSH bands: in Redis, or in memory
        self.extraction.start()

    def close_spider(self, spider: Spider | None = None) -> None:
        self.extraction.stop()  # (every item is through by now)

    async def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if not isinstance(item, Capture):
            return item
        seen = SeenState.of(self.crawler)
        stats = self.crawler.stats
        outlet = self.profiles.get(item.outlet) or OutletProfile(item.outlet)
        extracted = None
        if not item.is_revisit:
            extracted = await deferred_to_future(deferToThreadPool(reactor, self.extraction, extract, item, outlet,
                                                                   self.root, seen.settings.max_size))
        outcome = record(seen.catalog, item, outlet.name, extracted)
        if extracted is not None:
            health.count(stats, outcome.coverage, item.date, seen.settings.health.body_min_words)
        return self._tally(outcome)

    def _tally(self, outcome: Outcome) -> Outcome:
        stats = self.crawler.stats
        if outcome.change == UNCHANGED:
            stats.inc_value("revisit/unchanged")
        elif outcome.change == REJECTED:
            stats.inc_value(f"extraction/rejected/{outcome.reason}")
            raise DropItem(f"no article at {outcome.url}: {outcome.reason} ({outcome.detail})", log_level="INFO")
        elif outcome.change == DUPLICATE:
            stats.inc_value("extraction/recorded_by_another_worker")
            raise DropItem(f"{outcome.url}: this version was recorded by another worker", log_level="INFO")
        else:
            stats.inc_value("extraction/extracted")
            if outcome.change == UPDATED:
                stats.inc_value("revisit/changed")
        return outcome
