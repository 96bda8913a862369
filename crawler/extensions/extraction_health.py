"""Record each crawl's extraction coverage in the catalog and warn when it falls below the outlet's baseline.

The item pipeline counts the fields of every article page (crawl stats
``coverage/*``, :func:`pipelines.health.count`); when the crawl ends this
extension stores the shares in the catalog's ``coverage`` table, compared with
the median of the outlet's earlier runs (:func:`pipelines.health.record_run`,
which replay calls too for each run it reads back) and, when a share fell
clearly, logs a warning and sets the stat ``health/degraded``. ``scrapy schedule
--list`` shows the flag.

It runs on ``engine_stopped``, after every ``spider_closed`` handler has
committed the crawl's own catalog writes, so its connection never waits on them.
"""

from __future__ import annotations

import logging

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.outlets import serves_many
from pipelines.catalog import Catalog, catalog_url
from pipelines.health import HealthSettings, record_run

logger = logging.getLogger(__name__)


class ExtractionHealth:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.outlet = ""
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionHealth:
        if not crawler.settings.getbool("HEALTH_ENABLED", True):
            raise NotConfigured("HEALTH_ENABLED is off")
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        # a frontier worker serves every outlet for as long as it lives: it has no runs to judge
        self.outlet = "" if serves_many(spider) else spider.name

    def engine_stopped(self) -> None:
        stats = self.crawler.stats.get_stats()
        if not stats.get("coverage/pages") or not self.outlet:
            return  # nothing new was extracted: nothing to judge extraction by
        catalog = Catalog(catalog_url(self.crawler.settings))
        try:
            fallen = record_run(catalog, self.outlet, stats, HealthSettings.from_settings(self.crawler.settings))
        finally:
            catalog.close()
        if fallen:
            pages = stats["coverage/pages"]
            self.crawler.stats.set_value("health/degraded", "; ".join(fallen))
            logger.warning("Extraction of %s degraded (%d article pages): %s - has the site's layout changed?",
                           self.outlet, pages, "; ".join(fallen))
