"""Scrapy with nothing of ours: the most a Scrapy crawl of the bench site reaches (bench/crawl_throughput.py).

Fetches the link page and every article it links, keeps nothing, and writes Scrapy's final stats as JSON to
the file named by the STATS_FILE setting. Run with ``scrapy runspider`` outside the project (no project
settings, middlewares or pipelines), through the local web's proxy (``https_proxy``), with the project's
CONCURRENT_ITEMS (bench/crawl_throughput.py passes it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import scrapy


class PlainSpider(scrapy.Spider):
    name = "plain"

    def __init__(self, url: str, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.start_urls = [url]

    def parse(self, response: scrapy.http.Response) -> Iterator[scrapy.Request]:
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, callback=self.article)

    def article(self, response: scrapy.http.Response) -> None:
        return None

    def closed(self, reason: str) -> None:
        stats = self.crawler.stats.get_stats()
        elapsed = (datetime.now(UTC) - stats["start_time"]).total_seconds()  # closed() runs before Scrapy's own
        stats = {key: value for key, value in stats.items() if isinstance(value, (int, float, str))}
        stats["elapsed_time_seconds"] = elapsed
        with open(self.settings["STATS_FILE"], "w", encoding="utf-8") as sink:
            json.dump(stats, sink)
