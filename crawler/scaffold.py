"""Propose a new outlet's declaration from its front page: feeds, sitemaps, an article URL pattern.

:class:`ProbeSpider` fetches the front page and its host's robots.txt, then every
candidate discovery document: feeds the page announces (trafilatura's
``determine_feed``: ``<link rel="alternate">``, else feed-like links) or, failing
those, common feed paths; sitemaps robots.txt names (Scrapy's sitemap utilities)
or, failing those, common sitemap paths, Google News ones first. Each is read
with the crawler's own discovery reader, so only what a crawl could use is
proposed. :func:`infer_pattern` then generalises the article URLs those documents
list (or, without any, the front page's links that courlan deems content pages)
into ``article_pattern``; :func:`render` writes the outlet file, saying in its
docstring what was found where and what was not.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from courlan import check_url, is_navigation_page
from scrapy.http import Response
from scrapy.linkextractors import LinkExtractor
from trafilatura.feeds import FeedParameters, determine_feed
from trafilatura.sitemaps import GUESSES
from twisted.python.failure import Failure

from crawler.discovery import FEED, SITEMAP, SITEMAP_INDEX, UNREADABLE, read_document, sitemaps_in_robots
from crawler.fixtures import failure_reason

COMMON_FEEDS = ("/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml")
#: Google News sitemaps first: they list exactly the recent articles, with their dates and titles.
COMMON_SITEMAPS = ("/news-sitemap.xml", "/sitemap-news.xml", "/sitemap_news.xml", "/googlenews.xml",
                   *(f"/{guess}" for guess in GUESSES if "news" not in guess))
#: Sitemaps of an index fetched to see what it lists.
INDEX_CHILDREN = 3
#: Distinct first path segments an article pattern names one by one (more: any segment).
MAX_SECTIONS = 8


@dataclass
class Found:
    """A discovery document that a crawl could use."""

    url: str
    kind: str  # FEED, SITEMAP or SITEMAP_INDEX
    how: str  # where it was found, in words
    links: list[str] = field(default_factory=list)
    news: bool = False  # a Google News sitemap (or an index of them)


class ProbeSpider(scrapy.Spider):
    """Fetches a front page, its robots.txt and the discovery documents they lead to; archives nothing."""

    name = "scaffold-probe"
    custom_settings = {"EXTENSIONS": {}, "ITEM_PIPELINES": {}, "INCREMENTAL": False}

    def __init__(self, front_page: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.front_page = front_page
        parts = urlsplit(front_page)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.page: Response | None = None
        self.page_error = ""
        self.robots_sitemaps: list[str] = []
        self.found: dict[str, Found] = {}
        self.tried: dict[str, str] = {}  # candidate URL -> why it is no use

    async def start(self) -> Any:
        yield scrapy.Request(self.front_page, self.parse_front_page, errback=self.front_page_failed)
        yield scrapy.Request(f"{self.origin}/robots.txt", self.parse_robots, errback=self.robots_failed,
                             meta={"dont_obey_robotstxt": True})

    def parse_front_page(self, response: Response) -> Iterator[scrapy.Request]:
        if not hasattr(response, "text"):
            self.page_error = f"not an HTML page ({response.headers.get('Content-Type', b'').decode()})"
            return
        self.page = response
        parts = urlsplit(response.url)
        params = FeedParameters(f"{parts.scheme}://{parts.netloc}", parts.hostname or "", response.url)
        announced = determine_feed(response.text, params)
        yield from self._candidates(announced, FEED, "announced by the front page")
        if not announced:
            yield from self._candidates([self.origin + path for path in COMMON_FEEDS], FEED, "at a common path")

    def front_page_failed(self, failure: Failure) -> None:
        self.page_error = failure_reason(failure)

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        self.robots_sitemaps = sitemaps_in_robots(response.body, response.url)
        yield from self._candidates(self.robots_sitemaps, SITEMAP, "named in robots.txt")
        if not self.robots_sitemaps:
            yield from self._common_sitemaps()

    def robots_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        self.tried[f"{self.origin}/robots.txt"] = failure_reason(failure)
        yield from self._common_sitemaps()

    def _common_sitemaps(self) -> Iterator[scrapy.Request]:
        yield from self._candidates([self.origin + path for path in COMMON_SITEMAPS], SITEMAP, "at a common path")

    def _candidates(self, urls: Iterable[str], kind: str, how: str) -> Iterator[scrapy.Request]:
        for url in urls:
            yield scrapy.Request(url, self.parse_candidate, errback=self.candidate_failed,
                                 meta={"how": how})

    def parse_candidate(self, response: Response) -> Iterator[scrapy.Request]:
        document = read_document(response.body, response.url, self.settings.getint("DOWNLOAD_MAXSIZE"))
        url = response.request.url  # as proposed: a redirect's target may be a per-day URL
        if document.kind == UNREADABLE:
            self.tried[url] = document.error
            return
        parent = response.meta.get("index")
        news = any(link.published or link.title for link in document.links) and document.kind == SITEMAP
        if parent is not None:  # a sitemap of an index: its links and kind count for the index
            self.found[parent].links += [link.url for link in document.links]
            self.found[parent].news |= news
            return
        found = Found(url, document.kind, response.meta["how"], [link.url for link in document.links], news)
        self.found[url] = found
        if document.kind == SITEMAP_INDEX:
            for link in document.links[:INDEX_CHILDREN]:
                yield scrapy.Request(link.url, self.parse_candidate, errback=self.candidate_failed,
                                     meta={"how": "", "index": url})
            found.links = []

    def candidate_failed(self, failure: Failure) -> None:
        if "index" not in failure.request.meta:
            self.tried[failure.request.url] = failure_reason(failure)


# --- The article pattern -------------------------------------------------------------------------


def site_domain(url: str) -> str:
    """The registered domain of a URL (courlan), or its host without ``www.``."""
    checked = check_url(url)
    host = (urlsplit(url).hostname or "").lower()
    return checked[1] if checked else host.removeprefix("www.")


def looks_like_article(url: str) -> bool:
    """A front-page link courlan takes for a content page, with a slug or id a section page lacks."""
    if check_url(url, strict=True) is None or is_navigation_page(url):
        return False
    last = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    return last.count("-") >= 3 or bool(re.search(r"\d{5,}", last))


def _segment_shape(values: set[str], last: bool) -> str:
    if all(re.fullmatch(r"\d{4}", v) for v in values):
        return r"\d{4}"
    if all(re.fullmatch(r"\d{1,2}", v) for v in values):
        return r"\d{1,2}"
    if all(v.isdigit() for v in values):
        return r"\d+"
    suffix = ""
    if last and all(re.search(r"\.html?$", v) for v in values):
        suffix = r"\.html?" if any(v.endswith(".htm") for v in values) else r"\.html"
        values = {re.sub(r"\.html?$", "", v) for v in values}
    if last and all(re.fullmatch(r"[a-z0-9-]*-\d{4,}", v) for v in values):
        return r"[a-z0-9-]+-\d+" + suffix
    if all(re.fullmatch(r"[a-z0-9-]+", v) for v in values):
        return "[a-z0-9-]+" + suffix
    return r"[\w.~%-]+" + suffix


@dataclass(frozen=True)
class Pattern:
    regex: str
    covered: int  # of the examples it was inferred from
    examples: int


def infer_pattern(urls: list[str]) -> Pattern | None:
    """A regular expression for the commonest kind of article URL among ``urls``.

    URLs are grouped by host and path depth; the largest group is generalised segment by segment: dates
    and ids by their digits, a last segment by its slug form (with ``-<id>`` or ``.html`` kept), a first
    segment as the list of sections seen when there are few, anything else as a slug.
    """
    groups: dict[tuple[str, str, int], list[list[str]]] = {}
    slashes: Counter[tuple[str, str, int]] = Counter()
    for url in urls:
        parts = urlsplit(url)
        segments = [s for s in parts.path.split("/") if s]
        if not segments or parts.query:
            continue
        key = (parts.scheme, parts.netloc.lower(), len(segments))
        groups.setdefault(key, []).append(segments)
        slashes[key] += parts.path.endswith("/")
    if not groups:
        return None
    key = max(groups, key=lambda k: len(groups[k]))
    paths = groups[key]
    scheme, host, depth = key
    pieces = []
    for position in range(depth):
        values = {segments[position] for segments in paths}
        shape = _segment_shape(values, last=position == depth - 1)
        if position == 0 and depth > 1 and shape == "[a-z0-9-]+" and len(values) <= MAX_SECTIONS:
            shape = "(?:" + "|".join(re.escape(v) for v in sorted(values)) + ")" if len(values) > 1 else re.escape(
                next(iter(values)))
        pieces.append(shape)
    trailing = "/?" if slashes[key] else ""
    regex = f"^{re.escape(scheme)}://{re.escape(host)}/" + "/".join(pieces) + trailing + "$"
    compiled = re.compile(regex)
    return Pattern(regex, sum(bool(compiled.search(u)) for u in urls), len(urls))


# --- The outlet file -----------------------------------------------------------------------------


@dataclass
class Proposal:
    name: str
    front_page: str
    site_name: str
    feeds: list[Found]
    sitemaps: list[Found]
    pattern: Pattern | None
    front_links: int  # article-looking links on the front page
    front_matches: int  # front-page links the pattern matches
    allowed_domains: list[str]
    missing: list[str]  # what could not be found, in words


def propose(name: str, probe: ProbeSpider) -> Proposal:
    """What to declare for the outlet, from what the probe found."""
    assert probe.page is not None
    page = probe.page
    domain = site_domain(page.url)
    feeds = [f for f in probe.found.values() if f.kind == FEED]
    sitemaps = sorted((f for f in probe.found.values() if f.kind != FEED), key=lambda f: not f.news)
    listed = list(dict.fromkeys(url for found in feeds + sitemaps for url in found.links
                                if site_domain(url) == domain))
    links = [link.url for link in LinkExtractor(allow_domains=[domain], unique=True).extract_links(page)]
    pattern = infer_pattern(listed or [url for url in links if looks_like_article(url)])
    matches = sum(bool(re.search(pattern.regex, url)) for url in links) if pattern else 0
    missing = []
    if not feeds:
        missing.append("no feed: the front page announces none and none answers at "
                       + ", ".join(COMMON_FEEDS))
    if not sitemaps:
        where = "robots.txt names none that could be read" if probe.robots_sitemaps else "robots.txt names none"
        missing.append(f"no sitemap: {where}, and none answers at " + ", ".join(COMMON_SITEMAPS))
    elif not any(f.news for f in sitemaps):
        missing.append("no Google News sitemap (the sitemaps found list articles without news:publication_date)")
    if pattern is None:
        missing.append("no article URL pattern: no feed, sitemap or front-page link looks like an article")
    hosts = {site_domain(url) for url in [page.url, *(f.url for f in feeds + sitemaps)]}
    title = page.css('meta[property="og:site_name"]::attr(content)').get() or page.css("title::text").get() or ""
    return Proposal(name, page.url, " ".join(title.split()), feeds, sitemaps, pattern, len(links), matches,
                    sorted(hosts, key=lambda h: (h != domain, h)), missing)


def render(proposal: Proposal) -> str:
    """The outlet file: a declaration, and a docstring saying where each part came from."""
    p = proposal
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    notes = [f"- feed {f.url}: {f.how}, {len(f.links)} links" for f in p.feeds]
    notes += [f"- {'Google News sitemap' if f.news else 'sitemap index' if f.kind == SITEMAP_INDEX else 'sitemap'}"
              f" {f.url}: {f.how}" for f in p.sitemaps]
    if p.pattern is not None:
        notes.append(f"- article_pattern: inferred from {p.pattern.examples} article URLs, covers "
                     f"{p.pattern.covered}; matches {p.front_matches} of the front page's {p.front_links} links")
    notes += [f"- not found: {text}" for text in p.missing]
    lines = [
        f'"""{p.site_name or p.name}: proposed by `scrapy scaffold` from {p.front_page} on {today}.',
        "",
        "Found by the scaffold (review before relying on it):",
        "",
        *notes,
        '"""',
        "",
        "from crawler.outlet import OutletSpider",
        "",
        "",
        f"class {_class_name(p.name)}(OutletSpider):",
        f"    name = {_string(p.name)}",
        f"    allowed_domains = [{', '.join(map(_string, p.allowed_domains))}]",
        *_tuple("feeds", [f.url for f in p.feeds]),
        *_tuple("sitemaps", [f.url for f in p.sitemaps]),
        *_tuple("front_pages", [p.front_page]),
        f'    article_pattern = r"{p.pattern.regex if p.pattern else ""}"',  # re.escape keeps a raw string whole
        '    schedule = "every 30m"',
        f"    site_name = {_string(p.site_name)}",
        "",
    ]
    return "\n".join(lines)


def _string(value: str) -> str:
    """A double-quoted Python string literal, as the outlet files are written."""
    return json.dumps(value, ensure_ascii=False)


def _tuple(attribute: str, values: list[str]) -> list[str]:
    if not values:
        return []
    if len(values) == 1:
        return [f"    {attribute} = ({_string(values[0])},)"]
    return [f"    {attribute} = (", *(f"        {_string(value)}," for value in values), "    )"]


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Spider"
