"""The base of every outlet spider: an outlet is declared, not programmed.

An outlet file sets a handful of class attributes (see :class:`OutletSpider`)
and nothing else. Discovery follows them: feeds and sitemaps (sitemap indexes,
Google News sitemaps, the sitemaps a robots.txt names) yield article URLs with
their feed date and title, front and section pages yield links matching the
article pattern. Each request carries how it was found in ``meta["discovery"]``,
which the WARC archiver writes into a ``metadata`` record; each archived article
(the archiver's :class:`~pipelines.capture.Capture`) goes to the item pipeline.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import deferred_to_future
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from crawler.discovery import (
    FEED,
    SITEMAP,
    SITEMAP_INDEX,
    UNREADABLE,
    Link,
    parse_date,
    read_document,
    sitemaps_in_robots,
)
from crawler.seen_state import SeenState
from pipelines.capture import ARTICLE, Capture
from pipelines.extract import ExtractionHints


class OutletSpider(scrapy.Spider):
    """Base spider; it has no ``name``, so Scrapy does not list it.

    Declare on a subclass:

    - ``name``: the outlet identifier (also its file, fixtures and archive folder);
    - ``allowed_domains``: domains whose pages may be fetched, discovery hosts included;
    - ``feeds``: RSS, Atom or JSON feed URLs;
    - ``sitemaps``: sitemap, sitemap index or Google News sitemap URLs;
    - ``robots_sitemaps``: follow the ``Sitemap:`` lines of the front pages' robots.txt;
    - ``front_pages``: front and section pages scanned for article links;
    - ``article_pattern``: regular expression an article URL must match (searched);
    - ``schedule``: a five-field cron expression or ``"every 15m"`` (s, m, h, d);
    - ``custom_settings``: politeness overrides (``DOWNLOAD_DELAY``, ...);
    - ``site_name``: the outlet's name as it credits itself (the ``source`` of its own stories);
    - ``extraction_hints``: :class:`~pipelines.extract.ExtractionHints` where generic extraction falls short.
    """

    allowed_domains: ClassVar[list[str]] = []
    feeds: ClassVar[tuple[str, ...]] = ()
    sitemaps: ClassVar[tuple[str, ...]] = ()
    robots_sitemaps: ClassVar[bool] = True
    front_pages: ClassVar[tuple[str, ...]] = ()
    article_pattern: ClassVar[str] = ""
    schedule: ClassVar[str] = "every 30m"
    site_name: ClassVar[str] = ""
    extraction_hints: ClassVar[ExtractionHints] = ExtractionHints()

    seen: SeenState | None = None
    frontier: bool = False  # served by a worker of the shared frontier (crawler.frontier), not crawled alone

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._article_re = re.compile(self.article_pattern)
        self._validators: dict[str, tuple[str, str]] = {}
        self._article_failures = 0
        self._links = LinkExtractor(allow=self.article_pattern, allow_domains=self.allowed_domains, unique=True)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> OutletSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.seen = SeenState.of(crawler) if crawler.settings.getbool("INCREMENTAL") else None
        if spider.seen is not None:
            crawler.signals.connect(spider._save_validators, signal=signals.spider_closed)
        if spider.robots_sitemaps and crawler.settings.getbool("ROBOTSTXT_OBEY") and not spider.frontier:
            # Scrapy fetches (and archives) each host's robots.txt anyway: read its sitemaps from there.
            crawler.signals.connect(spider.robots_parsed, signal=signals.robots_parsed)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        requests = self.seed_requests(robots=not self.settings.getbool("ROBOTSTXT_OBEY"),
                                      revisits=self.settings.getint("REVISIT_MAX_PER_RUN"))
        for request in requests:
            if request.meta["discovery"]["kind"] == "revisit":
                self.crawler.stats.inc_value("incremental/revisit")
            yield request

    def seed_requests(self, robots: bool, revisits: int) -> list[scrapy.Request]:
        """One run's first requests: discovery documents (robots.txt too if ``robots``), then due revisits.

        A crawl yields them from :meth:`start`; in distributed mode the scheduler node puts them in the
        shared frontier (:mod:`crawler.frontier.enqueue`).
        """
        seeds = [(url, self.parse_discovery) for url in self.feeds + self.sitemaps]
        if self.robots_sitemaps and robots:
            seeds += [(url, self.parse_robots) for url in self.robots_urls()]
        seeds += [(url, self.parse_front_page) for url in self.front_pages]
        requests = [request for url, callback in seeds if (request := self._request(url, "seed", callback))]
        if self.seen is not None:
            for url, previous in self.seen.due(self.name, revisits):
                requests.append(scrapy.Request(url, self.parse_article, errback=self.fetch_failed, meta={
                    "discovery": {"kind": "revisit", "hops": 0, "role": "article"}, "previous_capture": previous}))
        return requests

    def robots_urls(self) -> list[str]:
        """The robots.txt of each host that serves a front page."""
        hosts = dict.fromkeys(f"{p.scheme}://{p.netloc}" for p in map(urlsplit, self.front_pages))
        return [f"{host}/robots.txt" for host in hosts]

    def is_article(self, url: str) -> bool:
        return bool(self._article_re.search(url))

    def robots_parsed(self, robotparser: Any, request: scrapy.Request) -> None:
        """``robots_parsed`` signal: follow the sitemaps a front-page host's robots.txt names."""
        parts = urlsplit(request.url)  # the request that made Scrapy fetch the robots.txt
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        if robots_url not in self.robots_urls():
            return
        for url in getattr(getattr(robotparser, "rp", None), "sitemaps", ()):
            if sitemap := self._request(urljoin(robots_url, url), "robots", self.parse_discovery, robots_url, 1):
                self.crawler.engine.crawl(sitemap)

    def parse_robots(self, response: Response) -> Iterable[scrapy.Request]:
        for url in sitemaps_in_robots(response.body, response.url):
            if request := self._follow(response, url, "robots", self.parse_discovery):
                yield request

    async def parse_discovery(self, response: Response) -> AsyncIterator[scrapy.Request]:
        if self._not_modified(response):
            return
        # read in a thread: a large feed takes seconds to parse (feedparser: 3 s for 20,000 entries, measured),
        # and on the reactor's thread every download in flight meanwhile would wait, and time out
        document = await deferred_to_future(
            deferToThread(read_document, response.body, response.url, self.settings.getint("DOWNLOAD_MAXSIZE"))
        )
        stats = self.crawler.stats
        if document.kind == UNREADABLE:
            stats.inc_value("discovery/unreadable")
            self.logger.warning("Cannot read discovery document %s: %s", response.url, document.error)
            return
        stats.inc_value(f"discovery/documents/{document.kind}")
        too_old = self._too_old_before()
        for link in document.links:
            when = parse_date(link.published or link.lastmod)
            if too_old and when and when < too_old:
                stats.inc_value("discovery/too_old")
                continue
            if document.kind == SITEMAP_INDEX:
                request = self._follow(response, link.url, SITEMAP_INDEX, self.parse_discovery, link)
            elif self.is_article(link.url):
                kind = FEED if document.kind == FEED else SITEMAP
                request = self._follow(response, link.url, kind, self.parse_article, link)
            else:
                stats.inc_value("discovery/not_article")
                continue
            if request is not None:
                yield request

    def parse_front_page(self, response: Response) -> Iterable[scrapy.Request]:
        if self._not_modified(response):
            return
        if not hasattr(response, "text"):
            self.logger.warning("Front page %s is not HTML (%s)", response.url, response.headers.get("Content-Type"))
            return
        for link in self._links.extract_links(response):
            found = Link(link.url, title=link.text)
            if request := self._follow(response, link.url, "front-page", self.parse_article, found):
                yield request

    def parse_article(self, response: Response) -> Iterable[Capture]:
        """The archived article goes to the item pipeline (as the archiver, or the archive source, made it)."""
        self.crawler.stats.inc_value("articles/archived")
        yield from self._archived(response.meta)

    def parse_requisite(self, response: Response) -> Iterable[Any]:
        """A page requisite was archived: nothing to parse here (:mod:`crawler.requisites` reads stylesheets)."""
        self.crawler.stats.inc_value("requisites/archived")
        return ()

    def requisite_failed(self, failure: Failure) -> Iterable[Any]:
        """A requisite not fetched (refused, too large, an HTTP error, a dead host): counted, the page stays."""
        self.crawler.stats.inc_value(f"requisites/failed/{_failure_reason(failure)}")
        self.logger.info("Requisite not archived: %s (%s)", failure.request.url, failure.getErrorMessage())
        return ()

    def _archived(self, meta: dict[str, Any]) -> Iterable[Capture]:
        capture: Capture | None = meta.get("capture")
        if capture is None:
            self.crawler.stats.inc_value("extraction/not_archived")  # WARC writing is off: nothing to extract for
        elif capture.status == 200 and (capture.outlet, capture.role) == (self.name, ARTICLE):
            yield capture
        elif capture.status == 200:  # answered from the archive (ARCHIVE_SOURCE): the crawl says what it is
            yield replace(capture, outlet=self.name, role=ARTICLE)

    def _follow(
        self, response: Response, url: str, kind: str, callback: Any, link: Link | None = None
    ) -> scrapy.Request | None:
        hops = response.meta.get("discovery", {}).get("hops", 0) + 1
        return self._request(url, kind, callback, response.url, hops, link)

    def _request(
        self, url: str, kind: str, callback: Any, via: str = "", hops: int = 0, link: Link | None = None
    ) -> scrapy.Request | None:
        """The request for a discovered URL, or None when a scheduled run has nothing to fetch there."""
        role = "article" if callback == self.parse_article else "discovery"
        discovery: dict[str, Any] = {"kind": kind, "hops": hops, "role": role}
        if via:
            discovery["via"] = via
        if link is not None:
            discovery.update({k: v for k, v in (("published", link.published), ("title", link.title)) if v})
        meta: dict[str, Any] = {"discovery": discovery}
        headers: dict[str, str] = {}
        if self.seen is not None and role == "article":
            fetch, previous = self.seen.decide(self.name, url)
            if not fetch:
                self.crawler.stats.inc_value("incremental/already_archived")
                return None
            if previous is not None:
                meta["previous_capture"] = previous
                self.crawler.stats.inc_value("incremental/revisit")
        elif self.seen is not None:
            headers = self.seen.validator_headers(url)
            meta["handle_httpstatus_list"] = [304]
        return scrapy.Request(url, callback, errback=self.fetch_failed, meta=meta, headers=headers)

    def _not_modified(self, response: Response) -> bool:
        """True for a 304 (nothing to parse); else remember the document's validators for next time."""
        if response.status == 304:
            self.crawler.stats.inc_value("discovery/not_modified")
            return True
        if self.seen is not None:
            etag = response.headers.get(b"ETag", b"").decode("latin-1")
            modified = response.headers.get(b"Last-Modified", b"").decode("latin-1")
            if etag or modified:
                self._validators[response.url] = (etag, modified)
        return False

    def _save_validators(self, reason: str) -> None:
        """Keep the discovery documents' validators only if every article they listed was fetched.

        Otherwise (the run was stopped, or article fetches failed) the next run must parse them again
        rather than get a 304, or the articles not fetched this time would never be. A frontier worker
        has no runs of its own, so it never knows that: it keeps none.
        """
        assert self.seen is not None
        if reason == "finished" and not self._article_failures and not self.frontier:
            for url, (etag, modified) in self._validators.items():
                self.seen.catalog.save_validators(url, etag, modified)
        elif not self.frontier:
            self.logger.info("Not keeping feed/sitemap validators: %s, %d article fetch(es) failed",
                             reason, self._article_failures)

    def fetch_failed(self, failure: Failure) -> Iterable[Capture]:
        """A fetch that got no usable response: one log line and a count, not a traceback.

        An article whose 200 response was archived but then refused (a body that decodes to more than
        ``DOWNLOAD_MAXSIZE``: a compression bomb; an encoding that cannot be undone) still goes to the item
        pipeline, so the catalog says what the WARC holds and why it has no text, as replay would say it.
        """
        discovery = failure.request.meta.get("discovery") or {}
        if discovery.get("role") == "article":
            self._article_failures += 1
        self.crawler.stats.inc_value(f"fetch_failed/{_failure_reason(failure)}")
        self.logger.warning("Could not fetch %s: %s", failure.request.url, failure.getErrorMessage())
        if discovery.get("role") == "article":
            yield from self._archived(failure.request.meta)

    def _too_old_before(self) -> datetime | None:
        days = self.settings.getfloat("DISCOVERY_MAX_AGE_DAYS")
        return datetime.now(UTC) - timedelta(days=days) if days > 0 else None


def _failure_reason(failure: Failure) -> str:
    """A failed fetch's reason as counted in the stats: the HTTP status, else the error's type."""
    error = failure.value
    return f"HTTP {error.response.status}" if isinstance(error, HttpError) else type(error).__name__
