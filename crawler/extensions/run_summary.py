"""Leave a crawl's final stats as JSON, for the process that started the crawl.

Enabled by ``RUN_SUMMARY_FILE``; the file is written (atomically) when the
spider closes, with the finish reason and every stat, so a parent process can
report on a crawl it ran as a subprocess.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class RunSummary:
    def __init__(self, crawler: Crawler, path: Path) -> None:
        self.crawler = crawler
        self.path = path
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunSummary:
        path = crawler.settings.get("RUN_SUMMARY_FILE")
        if not path:
            raise NotConfigured  # off unless asked for: nothing to report
        return cls(crawler, Path(path))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = {key: value for key, value in self.crawler.stats.get_stats().items()}
        summary = {"outlet": spider.name, "finish_reason": reason, "stats": stats}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".part")
        partial.write_text(json.dumps(summary, default=str, indent=1, sort_keys=True), "utf-8")
        os.replace(partial, self.path)
