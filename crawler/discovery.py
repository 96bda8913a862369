"""Read discovery documents (RSS/Atom/JSON feeds, sitemaps, sitemap indexes) as they come.

Real outlets serve these with wrong content types, byte-order marks, relative
links and gzip, so the document kind is sniffed from the bytes, never taken
from the URL or the ``Content-Type``. Parsing never raises: a document that
cannot be read is :data:`UNREADABLE` with the reason in ``error``.
"""

from __future__ import annotations

import calendar
import codecs
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from urllib.parse import urljoin

import feedparser
import lxml.etree
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import sitemap_urls_from_robots

logger = logging.getLogger(__name__)

FEED = "feed"
SITEMAP = "sitemap"
SITEMAP_INDEX = "sitemap-index"
UNREADABLE = "unreadable"

_GZIP_MAGIC = b"\x1f\x8b"
_NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class Link:
    """A URL found in a discovery document, with what the document said about it."""

    url: str
    published: str = ""  # ISO 8601 as given by the feed or news sitemap
    title: str = ""
    lastmod: str = ""


@dataclass
class Document:
    kind: str
    links: list[Link] = field(default_factory=list)
    error: str = ""


def read_document(body: bytes, url: str, max_size: int = 50 * 1024 * 1024) -> Document:
    """Sniff and parse a feed, sitemap or sitemap index fetched from ``url``."""
    if body[:2] == _GZIP_MAGIC:
        try:
            body = gunzip(body, max_size=max_size)
        except Exception as exc:  # noqa: BLE001 - any failure means the same thing here
            return Document(UNREADABLE, error=f"bad gzip: {exc}")
    head = _strip_bom(body[:2048]).lstrip().lower()
    if head.startswith(b"{"):
        return _read_json_feed(body, url)
    root = _xml_root_name(body)
    if root in {"urlset", "sitemapindex"}:
        return _read_sitemap(body, url, root)
    if root in {"rss", "feed", "rdf"}:
        return _read_feed(body, url)
    return Document(UNREADABLE, error=f"not a feed or sitemap (root element {root or 'none'!r})")


def sitemaps_in_robots(body: bytes, url: str) -> list[str]:
    """Sitemap URLs named in a robots.txt, resolved against its URL."""
    return list(dict.fromkeys(sitemap_urls_from_robots(_strip_bom(body), base_url=url)))


def _strip_bom(data: bytes) -> bytes:
    for bom in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :]
    return data


def _safe_parser() -> lxml.etree.XMLParser:
    return lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, recover=True, huge_tree=False, remove_comments=True
    )


def _xml_root_name(body: bytes) -> str:
    try:
        for _, element in lxml.etree.iterparse(
            BytesIO(_strip_bom(body)), events=("start",), resolve_entities=False, no_network=True, recover=True
        ):
            return lxml.etree.QName(element).localname.lower()
    except lxml.etree.LxmlError:
        return ""
    return ""


def _read_sitemap(body: bytes, url: str, root_name: str) -> Document:
    try:
        root = lxml.etree.fromstring(_strip_bom(body), parser=_safe_parser())
    except lxml.etree.LxmlError as exc:
        return Document(UNREADABLE, error=f"bad sitemap XML: {exc}")
    if root is None:
        return Document(UNREADABLE, error="empty sitemap")
    is_index = root_name == "sitemapindex"
    links = []
    for entry in root:
        if not isinstance(entry.tag, str):
            continue
        loc = _child_text(entry, "loc")
        if not loc:
            continue
        news = next((el for el in entry if _localname(el) == "news"), None)
        published = title = ""
        if news is not None:
            published = _child_text(news, "publication_date")
            title = _child_text(news, "title")
        links.append(
            Link(urljoin(url, loc), published=published, title=title, lastmod=_child_text(entry, "lastmod"))
        )
    return Document(SITEMAP_INDEX if is_index else SITEMAP, links)


def _localname(element: lxml.etree._Element) -> str:
    return lxml.etree.QName(element).localname if isinstance(element.tag, str) else ""


def _child_text(element: lxml.etree._Element, name: str) -> str:
    for child in element:
        if _localname(child) == name:
            return " ".join((child.text or "").split())
    return ""


def _read_feed(body: bytes, url: str) -> Document:
    parsed = feedparser.parse(body, response_headers={"content-location": url})
    if not parsed.entries and parsed.bozo:
        return Document(UNREADABLE, error=f"bad feed: {parsed.get('bozo_exception')}")
    links = []
    for entry in parsed.entries:
        link = entry.get("feedburner_origlink") or entry.get("link") or ""
        if not link and str(entry.get("id", "")).startswith(("http://", "https://")):
            link = entry["id"]
        if not link:
            continue
        fields = entry.keys()  # plain keys: feedparser's own lookups warn about a legacy fallback
        stamp = entry["published_parsed"] if "published_parsed" in fields else entry.get("updated_parsed")
        links.append(Link(urljoin(url, link), published=_iso(stamp), title=entry.get("title", "")))
    return Document(FEED, links)


def _read_json_feed(body: bytes, url: str) -> Document:
    """JSON Feed (jsonfeed.org), which feedparser does not read."""
    try:
        data = json.loads(_strip_bom(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return Document(UNREADABLE, error=f"bad JSON feed: {exc}")
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return Document(UNREADABLE, error="JSON document without an 'items' list")
    links = []
    for item in items:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        if isinstance(link, str) and link:
            links.append(
                Link(
                    urljoin(url, link), published=str(item.get("date_published", "")), title=str(item.get("title", ""))
                )
            )
    return Document(FEED, links)


def _iso(stamp: object) -> str:
    if not stamp:
        return ""
    return datetime.fromtimestamp(calendar.timegm(stamp), UTC).isoformat()  # type: ignore[arg-type]


def parse_date(value: str) -> datetime | None:
    """A feed or sitemap date as an aware datetime, or ``None`` when unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
