"""Record every archived article fetch in the seen-state, committed in batches.

The WARC archiver announces each fetch it wrote (``capture_archived``); an article
fetch (status 200, discovered as an article) goes into the crawl's seen-state at
once, in a batch that is committed every ``COMMIT_EVERY`` seconds: batching keeps the
crawl's catalog writes cheap, the timer keeps the write lock short for the other
processes sharing the catalog and lets them see every capture soon, even when no
other capture follows (the crawl idles, a frontier worker waits for the next round).
The batch is also committed before any WARC file closes (``warc_closing``), so a
capture in a closed WARC is always in the seen-state, and when the spider closes.
"""

from __future__ import annotations

import logging

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall

from crawler import signals as archive_signals
from crawler.seen_state import SeenState
from pipelines.capture import ARTICLE, Capture

logger = logging.getLogger(__name__)

#: How often the seen-state batched since the last commit is committed (seconds).
COMMIT_EVERY = 0.5


class SeenStateRecorder:
    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("WARC_ENABLED", True):
            raise NotConfigured("WARC_ENABLED is off: nothing is archived, so nothing is fetched for good")
        self.crawler = crawler
        self.committer = LoopingCall(self.commit_safely)
        crawler.signals.connect(self.capture_archived, signal=archive_signals.capture_archived)
        crawler.signals.connect(self.commit, signal=archive_signals.warc_closing)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenStateRecorder:
        return cls(crawler)

    @property
    def seen(self) -> SeenState:
        return SeenState.of(self.crawler)

    def spider_opened(self, spider: Spider) -> None:
        self.committer.start(COMMIT_EVERY, now=False)

    def capture_archived(self, capture: Capture, request: Request) -> None:
        if capture.status == 200 and capture.role == ARTICLE:
            self.seen.fetched(capture, capture.outlet)

    def commit(self) -> None:
        self.seen.commit()

    def commit_safely(self) -> None:
        try:
            self.commit()
        except Exception:  # noqa: BLE001 - a busy catalog: the next tick tries again
            logger.warning("Could not commit the seen-state yet", exc_info=True)

    def spider_closed(self, spider: Spider) -> None:
        if self.committer.running:
            self.committer.stop()
        self.commit()
