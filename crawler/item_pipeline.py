"""The Scrapy item pipeline: each archived article capture to text files, a sidecar and a catalog row.

Extraction itself (:mod:`pipelines.extract`) knows nothing of Scrapy or WARCs;
this adapter feeds it the capture's payload and writes what comes back under
``ARCHIVE_ROOT`` (see :mod:`pipelines.output` for the names). A page with no
article gives no files, a catalog row with the reason, a stat
``extraction/rejected/<reason>``, and the item is dropped with that reason.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import ArchivedArticle, ArticleCapture
from pipelines.urls import url_key
from pipelines import health
from pipelines.catalog import Catalog, catalog_url
from pipelines.extract import Article, ExtractionHints, Page, Rejection, extract_page
from pipelines.output import capture_names, write_outputs

logger = logging.getLogger(__name__)


class ArticleExtractionPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.root = Path(crawler.settings.get("ARCHIVE_ROOT", "archive"))
        self.catalog_url = catalog_url(crawler.settings)
        self.body_min_words = crawler.settings.getint("HEALTH_BODY_MIN_WORDS", 80)
        self.catalog: Catalog | None = None
        self._own_catalog = True

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticleExtractionPipeline:
        return cls(crawler)

    def open_spider(self, spider: Spider | None = None) -> None:
        spider = spider or self.crawler.spider
        outlets = getattr(spider, "outlets", None) or {spider.name: spider}  # a frontier worker serves many
        seen = next((o.seen for o in outlets.values() if getattr(o, "seen", None) is not None), None)
        # one connection per crawl process: the crawl batches its seen-state writes on the spider's
        self.catalog = seen.catalog if seen is not None else Catalog(self.catalog_url)
        self._own_catalog = seen is None

    def close_spider(self, spider: Spider | None = None) -> None:
        if self.catalog is not None and self._own_catalog:
            self.catalog.close()

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if not isinstance(item, ArticleCapture):
            return item
        assert self.catalog is not None
        spider = spider or self.crawler.spider
        spider = getattr(spider, "outlets", {}).get(item.outlet, spider)  # a frontier worker serves many
        warc = item.warc
        stats = self.crawler.stats
        if not warc.get("file"):
            stats.inc_value("extraction/not_archived")
            raise DropItem(f"{item.url} is in no WARC (WARC writing is off): nothing to extract it for",
                           log_level="DEBUG")
        if warc.get("revisit_of"):
            stats.inc_value("revisit/unchanged")
            return self._archived(item, None, {}, "unchanged")
        if item.refused:
            result: Article | Rejection = Rejection("too-large", item.refused)
        else:
            page = Page(item.url, item.body, item.headers, warc.get("date", ""))
            hints = getattr(spider, "extraction_hints", None) or ExtractionHints()
            result = extract_page(page, site_name=getattr(spider, "site_name", ""), hints=hints)
        provenance = {
            "record_id": warc.get("record_id"),
            "outlet": item.outlet,
            "url": item.url,
            "fetched": warc.get("date"),
            "warc_file": warc.get("file"),
            "warc_offset": warc.get("offset"),
            "warc_length": warc.get("length"),
            "payload_digest": warc.get("payload_digest"),
        }
        health.count(stats, None if isinstance(result, Rejection) else result, self.body_min_words)
        if isinstance(result, Rejection):
            self.catalog.record(**provenance, status="rejected", reason=result.reason, detail=result.detail)
            stats.inc_value(f"extraction/rejected/{result.reason}")
            raise DropItem(f"no article at {item.url}: {result.reason} ({result.detail})", log_level="INFO")
        names = capture_names(item.outlet, warc["file"], warc["ordinal"], warc["record_id"], warc.get("date", ""))
        key = url_key(item.url)
        version, previous = self.catalog.previous_version(item.outlet, key)
        recorded = self.catalog.record(
            **provenance, **write_outputs(self.root, names, result, item.outlet, provenance),
            url_key=key, version=version + 1, previous_record_id=previous or None,
        )
        if not recorded:
            stats.inc_value("extraction/recorded_by_another_worker")
            raise DropItem(f"{item.url}: version {version + 1} was recorded by another worker", log_level="INFO")
        canonical = url_key(result.canonical_url)
        if canonical != key and self.catalog.seen(item.outlet, canonical) is None:
            self.catalog.mark_fetched(item.outlet, [canonical], result.canonical_url, warc, [])
        stats.inc_value("extraction/extracted")
        if version:
            stats.inc_value("revisit/changed")
        files = {"page_text": str(names.page_text), "article_text": str(names.article_text),
                 "metadata": str(names.metadata)}
        return self._archived(item, result, files, "updated" if version else "new")

    @staticmethod
    def _archived(item: ArticleCapture, article: Any, files: dict[str, str], change: str) -> ArchivedArticle:
        return ArchivedArticle(
            outlet=item.outlet,
            url=item.url,
            title=article.title if article else "",
            published=article.published if article else "",
            source=article.source if article else "",
            files=files,
            warc=item.warc,
            discovery=item.discovery,
            change=change,
        )
