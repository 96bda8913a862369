"""Page requisites: archive what an article page needs to replay as its reader saw it.

For every archived article page (``ARCHIVE_REQUISITES = "articles"``, the default;
``"all"`` adds front pages; ``"none"`` fetches none; an outlet may set its own in
``custom_settings``) the spider middleware :class:`PageRequisites` parses the page
(:mod:`pipelines.requisites`) and fetches its stylesheets, images, fonts, scripts
and icons through the same crawl, so robots.txt, politeness, retries and every
safety guard hold for them; they may live on other hosts (CDNs), which a requisite
may reach and a link never does. Stylesheets are parsed in turn (``@import``,
fonts, background images) up to ``REQUISITE_DEPTH``. Each fetch is archived like
any other, its metadata record saying ``role: requisite``, the page it was for
(``via``) and that page's record (``requisiteOf``).

Requisites are shared among an outlet's pages (each outlet's archive holds what its
pages need): one used by a thousand pages is fetched once in a run (a frontier
worker's round: claimed in Redis, so once across workers too) and,
with ``INCREMENTAL``, not again for ``REQUISITE_REFRESH`` seconds: the catalog's
``requisites`` table remembers it (written by the capture path's
:func:`~pipelines.process.mark_requisite`, as replay rebuilds it). After that it is
asked for again with its validators (``If-None-Match``, ``If-Modified-Since``);
unchanged (a ``304``, or the same payload digest), it is archived as a revisit
record of the capture that holds it, and an unchanged stylesheet's own requisites
are looked at in turn. They never enter the articles' seen-state, the catalog's
article rows, or extraction.

Limits: ``REQUISITES_MAX_PER_PAGE`` requisites a page, ``REQUISITE_MAXSIZE`` bytes
each and ``REQUISITES_PAGE_MAXSIZE`` bytes for all of a page's (the downloader
middleware :class:`RequisiteBudget` holds that one); ``data:`` and other non-HTTP
URLs are never fetched. Counted under ``requisites/...`` in the crawl's stats.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response, TextResponse

from crawler import signals as archive_signals
from crawler.outlets import outlet_for
from crawler.seen_state import SeenState
from pipelines.capture import HTML_MEDIA_TYPES, REQUISITE, Capture
from pipelines.process import mark_requisite
from pipelines.requisites import STYLESHEET_TYPE, page_requisites, stylesheet_requisites

logger = logging.getLogger(__name__)

MODES = ("none", "articles", "all")
_HTML_TYPES = (*HTML_MEDIA_TYPES, "")  # a page served without a Content-Type is read as HTML
#: Pages whose requisites' bytes are counted at once (their requisites follow them closely): a frontier worker
#: never closes, so the oldest are forgotten.
BUDGETED_PAGES = 10_000


def requisites_mode(settings: Any, outlet: Any = None) -> str:
    """``ARCHIVE_REQUISITES`` for an outlet: its own ``custom_settings`` first (a frontier worker serves many
    outlets with one set of settings), then the crawl's; a value that is none of :data:`MODES` is an error."""
    own = (getattr(outlet, "custom_settings", None) or {}).get("ARCHIVE_REQUISITES")
    mode = str(own if own is not None else settings.get("ARCHIVE_REQUISITES", "articles")).strip().lower()
    if mode not in MODES:
        raise ValueError(f"ARCHIVE_REQUISITES must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


class PageRequisites:
    """Spider middleware: after a page's own output, the requests for its requisites."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("WARC_ENABLED", True):
            raise NotConfigured("WARC_ENABLED is off: requisites are fetched only to be archived")
        requisites_mode(settings)  # a bad value fails the crawl at its start, with the message
        self.crawler = crawler
        self.stats = crawler.stats
        self.max_per_page = settings.getint("REQUISITES_MAX_PER_PAGE", 100)
        self.max_depth = settings.getint("REQUISITE_DEPTH", 3)
        self.refresh = timedelta(seconds=settings.getfloat("REQUISITE_REFRESH", 86400))
        self.remembered = settings.getbool("INCREMENTAL")  # across runs, in the catalog, as the seen-state is
        # the requisite URLs asked for in this run (a frontier worker's: in each round, the last two kept), fetched
        # once, whoever needs them
        self.requested: dict[str, set[tuple[str, str]]] = {}  # round -> (outlet, URL)
        if self.remembered:
            crawler.signals.connect(self.capture_archived, signal=archive_signals.capture_archived)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageRequisites:
        return cls(crawler)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        yield from result
        yield from self.requests_for(response, self.crawler.spider)

    async def process_spider_output_async(self, response: Response, result: Any) -> Any:
        async for output in result:
            yield output
        for request in self.requests_for(response, self.crawler.spider):
            yield request

    def requests_for(self, response: Response, spider: Spider) -> list[Request]:
        """The requisites of an archived page (an article; a front page with ``all``) or stylesheet."""
        discovery = response.meta.get("discovery") or {}
        role = discovery.get("role")
        outlet = outlet_for(response.request, spider) if response.request is not None else None
        if outlet is None or not hasattr(spider, "parse_requisite"):
            return []
        if role == REQUISITE and response.status in (200, 304):
            return self._of_stylesheet(response, spider, outlet.name, discovery)
        if response.status != 200:
            return []
        mode = requisites_mode(self.crawler.settings, outlet)
        callback = getattr(response.request, "callback", None)
        front_page = role == "discovery" and getattr(callback, "__name__", "") == "parse_front_page"
        if not (mode == "all" and (role == "article" or front_page) or mode == "articles" and role == "article"):
            return []
        if not isinstance(response, TextResponse) or _media_type(response) not in _HTML_TYPES:
            return []
        urls = page_requisites(response.body, response.url)
        capture: Capture | None = response.meta.get("capture")
        page_record = capture.location.record_id if capture is not None and capture.location else ""
        return self._requests(urls, response, spider, outlet.name, page_record, depth=1)

    def _of_stylesheet(self, response: Response, spider: Spider, outlet: str,
                       discovery: dict[str, Any]) -> list[Request]:
        depth = response.meta.get("requisite_depth", 1)
        if depth >= self.max_depth:
            return []
        if response.status == 304:  # unchanged: what it used when it was archived is looked at again
            row = self._archived(outlet, response.url)
            urls = (row.get("uses") or "").split() if row else []
        else:
            if _media_type(response) != STYLESHEET_TYPE:
                return []
            found = stylesheet_requisites(response.body, response.url)
            if found is None:
                self.stats.inc_value("requisites/css_not_css")
                logger.info("Not reading %s as a stylesheet: it is markup", response.url)
                return []
            urls = found
        return self._requests(urls, response, spider, outlet, response.meta.get("requisite_of", ""), depth + 1,
                              page=response.meta.get("requisite_page", discovery.get("via", "")))

    def _requests(self, urls: list[str], response: Response, spider: Spider, outlet: str, page_record: str,
                  depth: int, page: str = "") -> list[Request]:
        stats = self.stats
        stats.inc_value("requisites/found", len(urls))
        if len(urls) > self.max_per_page:
            stats.inc_value("requisites/over_page_limit", len(urls) - self.max_per_page)
            urls = urls[: self.max_per_page]
        hops = (response.meta.get("discovery") or {}).get("hops", 0) + 1
        requested = self._requested_in(response.meta.get("frontier_round", ""))
        requests = []
        for url in urls:
            if (outlet, url) in requested:
                stats.inc_value("requisites/shared")  # fetched for another page of this run
                continue
            requested.add((outlet, url))
            previous = self._archived(outlet, url)
            if previous is not None and datetime.fromisoformat(previous["checked"]) > datetime.now(UTC) - self.refresh:
                stats.inc_value("requisites/fresh")  # fetched by an earlier run, within REQUISITE_REFRESH
                continue
            meta: dict[str, Any] = {
                "discovery": {"kind": REQUISITE, "role": REQUISITE, "hops": hops, "via": response.url},
                "requisite_of": page_record,
                "requisite_page": page or response.url,
                "requisite_depth": depth,
                "allow_offsite": True,  # a CDN's; the safety guards and robots.txt still hold
            }
            for carried in ("outlet", "frontier_round"):
                if carried in response.meta:
                    meta[carried] = response.meta[carried]
            headers = {"Referer": response.url, "Accept": "*/*"}
            if previous is not None:  # looked at again: asked for only if changed, else archived as a revisit
                meta["previous_capture"] = {"record_id": previous["record_id"], "url": url,
                                            "payload_digest": previous["payload_digest"],
                                            "date": previous["warc_date"]}
                meta["handle_httpstatus_list"] = [304]
                if previous["etag"]:
                    headers["If-None-Match"] = previous["etag"]
                if previous["last_modified"]:
                    headers["If-Modified-Since"] = previous["last_modified"]
            stats.inc_value("requisites/requested")
            requests.append(Request(url, callback=spider.parse_requisite, errback=spider.requisite_failed,
                                    meta=meta, headers=headers, dont_filter=True, priority=1))
        return requests

    def _requested_in(self, round_: str) -> set[tuple[str, str]]:
        if round_ not in self.requested:
            for old in list(self.requested)[:-1]:  # a worker's rounds follow one another
                del self.requested[old]
            self.requested[round_] = set()
        return self.requested[round_]

    def _archived(self, outlet: str, url: str) -> dict[str, Any] | None:
        if not self.remembered:
            return None
        return SeenState.of(self.crawler).catalog.requisite(outlet, url)

    def capture_archived(self, capture: Capture, request: Request) -> None:
        """Remember an archived requisite (committed with the seen-state's next batch), as replay would."""
        mark_requisite(SeenState.of(self.crawler).catalog, capture, commit=False)


class RequisiteBudget:
    """Downloader middleware: a page's requisites together stay within ``REQUISITES_PAGE_MAXSIZE`` bytes, each
    within ``REQUISITE_MAXSIZE`` (a larger one is cancelled as its headers or body say so, never archived)."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.stats = crawler.stats
        self.each = settings.getint("REQUISITE_MAXSIZE", 10 * 1024 * 1024)
        self.per_page = settings.getint("REQUISITES_PAGE_MAXSIZE", 30 * 1024 * 1024)
        self.spent: OrderedDict[str, int] = OrderedDict()  # page URL -> bytes of its requisites so far

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RequisiteBudget:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        page = request.meta.get("requisite_page")
        if page is None:
            return
        left = self.per_page - self.spent.get(page, 0)
        if left <= 0:
            self.stats.inc_value("requisites/over_page_budget")
            raise IgnoreRequest(f"the requisites of {page} reached REQUISITES_PAGE_MAXSIZE")
        request.meta["download_maxsize"] = min(self.each, left)

    def process_response(self, request: Request, response: Response) -> Response:
        if (page := request.meta.get("requisite_page")) is not None:
            self.spent[page] = self.spent.pop(page, 0) + len(response.body)  # now the most recent
            if len(self.spent) > BUDGETED_PAGES:
                self.spent.popitem(last=False)
        return response


def _media_type(response: Response) -> str:
    return response.headers.get(b"Content-Type", b"").decode("latin-1").split(";")[0].strip().lower()
