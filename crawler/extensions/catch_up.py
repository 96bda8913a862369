"""Catch-up: what a killed crawl archived but did not get to record, run through the capture path.

A crawl killed mid-run leaves fetches in its WARCs that the seen-state or the catalog
never heard of (their batch was not committed, their item never reached the pipeline).
When a crawl of the same outlet opens, after recovery has closed the killed crawl's
files, this extension replays (:mod:`pipelines.replay`) the files recovery closed and
the files holding fetched articles with no catalog row, skipping what the catalog has:
the seen-state and the catalog end as if the killed crawl had finished its work.
A killed run's extraction coverage is not recorded (its counts died with it).
"""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler import signals as archive_signals
from crawler.outlets import registry, served
from crawler.seen_state import SeenState
from pipelines.replay import replay

logger = logging.getLogger(__name__)


class CatchUp:
    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("WARC_ENABLED", True):
            raise NotConfigured("WARC_ENABLED is off")
        self.crawler = crawler
        self.root = Path(crawler.settings.get("ARCHIVE_ROOT", "archive"))
        self.recovered: dict[str, list[Path]] = {}
        crawler.signals.connect(self.warc_recovered, signal=archive_signals.warc_recovered)
        # after WarcRecovery's spider_opened (EXTENSIONS order), which announces what it recovered
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CatchUp:
        return cls(crawler)

    def warc_recovered(self, path: Path, outlet: str) -> None:
        self.recovered.setdefault(outlet, []).append(path)

    def spider_opened(self, spider: Spider) -> None:
        seen = SeenState.of(self.crawler)
        for outlet in served(spider):
            directory = self.root / outlet / "warc"
            unextracted = [directory / name for name in seen.catalog.unextracted_files(outlet)]
            files = sorted({*self.recovered.pop(outlet, []), *(path for path in unextracted if path.exists())})
            if not files:
                continue
            seen.commit()
            stats = replay(files, self.root, registry(self.crawler.settings), seen.settings, workers=1,
                           catalog=seen.catalog, skip_recorded=True, coverage=False)
            logger.warning("Caught up with an interrupted crawl of %s: %d article(s) extracted from %s",
                           outlet, stats.extracted, ", ".join(path.name for path in files))
