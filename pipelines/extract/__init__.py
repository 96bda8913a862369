"""Article extraction: a fetched page in, the article in the seed form and its metadata out.

The extractor never knows where a page came from (a live crawl or a WARC): it
takes a :class:`~pipelines.capture.Capture` (URL, payload, headers) or plain HTML.
A page that holds no article is not an error: :func:`extract_page` returns a
:class:`Rejection` with a short reason (counted by the pipelines), and
:func:`extract_article` returns ``None`` and logs the reason, as trafilatura does.

The body comes from trafilatura (its fast pass, the full cascade when that missed),
cleaned of boilerplate (:mod:`.body`) and completed where it stopped short
(:mod:`.completion`); the headline and standfirst from :mod:`.heading`; metadata
from structured data first (:mod:`.metadata`), the credited source from
:mod:`.syndication`, and the page text from :mod:`.page_text`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from importlib.metadata import version
from typing import Any

import trafilatura
from htmldate import find_date
from lxml import html as lxml_html
from w3lib.encoding import html_to_unicode, resolve_encoding

from pipelines import __version__
from pipelines.capture import HTML_MEDIA_TYPES, Capture
from pipelines.extract.authors import find_authors
from pipelines.extract.body import PRUNE_XPATHS, Block, PageLinks, body_blocks, clean_body, looks_like_navigation
from pipelines.extract.completion import continued_chunks, lines_in_article_body
from pipelines.extract.heading import choose_standfirst, choose_title, is_lede, stated_text, visible_h1
from pipelines.extract.metadata import PageMetadata, clean, dedupe, iso_datetime, names, read_metadata
from pipelines.extract.page_text import render_page_text
from pipelines.extract.parse import parse_html
from pipelines.extract.syndication import detect_source
from pipelines.payload import MAX_PAYLOAD, PayloadTooLarge

logger = logging.getLogger(__name__)

EXTRACTOR = "newsarchive"
EXTRACTOR_VERSION = f"{__version__} (trafilatura {version('trafilatura')})"
_CONTROL_BYTES = bytes([*range(9), *range(14, 32)])  # control characters no text file has
#: What the extractor reads: HTML, XHTML, HTML served as XML, and pages that name no type.
EXTRACTABLE_TYPES = (*HTML_MEDIA_TYPES, "application/xml", "text/xml", "")
#: A body this short may be all a bot challenge or access-denied page has to say...
WALL_MAX_WORDS = 150
#: ...and one this short, with a paywall prompt, is a teaser (a full brief is longer).
TEASER_MAX_WORDS = 80
#: A fast-pass body under this share of the page's words has likely missed the article.
FAST_MIN_PAGE_SHARE = 0.05

_CHALLENGE = re.compile(
    r"just a moment\.\.\.|checking your browser|cf-browser-verification|challenge-platform|"
    r"attention required! \| cloudflare|ddos protection by|please complete the security check|"
    r"captcha-delivery|px-captcha|verify (?:that )?you are (?:a )?human|are you a robot|"
    r"please enable js and disable any ad blocker|enable javascript and cookies to continue",
)  # searched in lowercased text: with re.I, scanning 20,000 characters of markup took ~7 times as long
_BOT_WALL = re.compile(
    r"access denied|request unsuccessful\. incapsula|pardon our interruption|you have been blocked|"
    r"error 1020|403 forbidden|request blocked",
    re.I,
)
_PAYWALL = re.compile(
    r"subscribe to (?:continue|keep) reading|sign up to read this article|subscribers only|"
    r"this (?:article|story|content) is (?:only )?(?:available|for) (?:to )?subscribers|"
    r"create a free account to (?:continue|read)|to continue reading,? (?:please )?(?:subscribe|log in|sign in)|"
    r"already a subscriber\?",
    re.I,
)
@dataclass(frozen=True)
class ExtractionHints:
    """Per-outlet help where generic extraction falls short (declared on the outlet)."""

    prune_xpaths: tuple[str, ...] = ()  # page parts to drop before extracting the body
    standfirst_xpath: str = ""  # where the outlet puts its standfirst/dek


@dataclass(frozen=True)
class Rejection:
    """Why a page gave no article: a short reason (counted) and a detail (logged)."""

    reason: str
    detail: str = ""


@dataclass
class Article:
    url: str
    canonical_url: str
    title: str
    standfirst: str
    authors: list[str]
    byline: str
    source: str
    site_name: str
    published: str
    modified: str
    language: str
    section: str
    tags: list[str]
    body: str  # paragraphs and subheadings, one per line
    text: str  # seed article-text form: headline, standfirst, body lines
    page_text: str  # seed page-text form
    word_count: int
    confidence: float  # share of the extractor's cross-checks that agreed (see _confidence)
    extractor: str = EXTRACTOR
    extractor_version: str = EXTRACTOR_VERSION

    def metadata(self) -> dict[str, Any]:
        """Every field but the texts, for the sidecar."""
        fields = asdict(self)
        for name in ("body", "text", "page_text"):
            fields.pop(name)
        return fields


def extract_article(
    html: str | bytes, url: str, *, site_name: str = "", hints: ExtractionHints | None = None
) -> Article | None:
    """The article on a page, or ``None`` (with the reason logged) when there is none."""
    if isinstance(html, bytes):
        result = extract_page(Capture.of_page(url, html, "text/html"), site_name=site_name, hints=hints)
    else:
        result = _extract(html, url, site_name, hints or ExtractionHints())
    if isinstance(result, Rejection):
        logger.info("No article at %s: %s (%s)", url, result.reason, result.detail)
        return None
    return result


def extract_page(
    page: Capture, *, site_name: str = "", hints: ExtractionHints | None = None, max_size: int = MAX_PAYLOAD
) -> Article | Rejection:
    """Check and decode a fetched page (at most ``max_size`` bytes once decoded), then extract its article."""
    content_type = page.headers.get("content-type", "")
    media_type = page.media_type
    if media_type not in EXTRACTABLE_TYPES:
        return Rejection("not-html", f"Content-Type {media_type}")
    try:
        body = page.body(max_size)
    except PayloadTooLarge as error:
        return Rejection("too-large", str(error))
    except ValueError as error:
        return Rejection("bad-encoding", str(error))
    if not body.strip():
        return Rejection("empty", "empty body")
    head = body[:4096]
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if head.count(b"\x00") > len(head) // 100 or controls > len(head) // 20:  # a stray NUL is not binary
        return Rejection("binary", f"binary content served as {media_type or 'unknown type'}")
    lowered = body[-4096:].lower()
    if b"</html" not in lowered and b"</body" not in lowered:
        return Rejection("truncated", "the document ends before </body> or </html>")
    declared = _declared_encoding(content_type)
    encoding, text = html_to_unicode(content_type, body)
    text = text.replace("\x00", "")  # a stray NUL is dropped, as browsers do; lxml refuses it
    bad = text.count("\ufffd")
    if bad > max(8, len(text) // 500):
        return Rejection("bad-charset", f"{bad} undecodable characters as {encoding} (declared: {declared or 'none'})")
    return _extract(text, page.url, site_name, hints or ExtractionHints())


def _declared_encoding(content_type: str) -> str:
    match = re.search(r"charset=([\w.:-]+)", content_type, re.I)
    return (resolve_encoding(match[1]) or match[1]) if match else ""


def _extract(html: str, url: str, site_name: str, hints: ExtractionHints) -> Article | Rejection:
    root = parse_html(html)  # parsed once, as trafilatura parses: it extracts from a copy
    if root is None:
        return Rejection("unparseable", "not an HTML document")
    meta = read_metadata(root)
    page_text = render_page_text(root)
    page_lines = page_text.split("\n")
    links = PageLinks(root)
    blocks, fell_back = _main_blocks(root, url, hints, links, page_text)
    words = sum(len(block.text.split()) for block in blocks)
    if words < WALL_MAX_WORDS:
        wall = _wall_reason(root, html, page_text, meta, words)
        if wall:
            return wall
    if not blocks:
        return Rejection("no-article", "no article body found")

    site = site_name or meta.first_meta("og:site_name") or _publisher(meta) or meta.first_meta("application-name")
    title = choose_title(root, meta, page_lines, site)
    body_lines = _body_lines(root, meta, blocks, links, title, page_lines)
    if not body_lines:
        return Rejection("no-article", "nothing but a headline")
    authors = find_authors(root, meta, site, page_lines, [*_header(page_lines, body_lines), *body_lines[:1]])
    standfirst = choose_standfirst(root, meta, title, page_lines, body_lines, authors, hints.standfirst_xpath)
    if standfirst and body_lines[0] == standfirst and page_lines.count(standfirst) < 2:
        if is_lede(root, body_lines):
            standfirst = ""  # stated as the description, but the page shows it as the first paragraph
        else:
            body_lines = body_lines[1:]  # the page shows it once, as a dek: trafilatura took it for the body
    source = detect_source(meta.article, _header(page_lines, body_lines), body_lines, authors, site)
    published, modified = _dates(root, meta)  # last: htmldate may run on the tree
    head = [line for line in (title, standfirst) if line]
    return Article(
        url=url,
        canonical_url=meta.canonical or meta.first_meta("og:url") or url,
        title=title,
        standfirst=standfirst,
        authors=authors,
        byline=", ".join(authors),
        source=source,
        site_name=site,
        published=published,
        modified=modified,
        language=_language(meta),
        section=clean(_first_text(meta.article.get("articleSection"))) or meta.first_meta("article:section"),
        tags=_tags(meta),
        body="\n".join(body_lines),
        text="\n".join(head + body_lines),
        page_text=page_text,
        word_count=sum(len(line.split()) for line in head + body_lines),
        confidence=_confidence(root, meta, title, fell_back),
    )


def _confidence(root: lxml_html.HtmlElement, meta: PageMetadata, title: str, fell_back: bool) -> float:
    """How sure the extractor can be, as the share of independent cross-checks that agreed.

    Each is a sign the page still has the layout the extractor reads well: trafilatura's fast pass found
    the body (no fallback to the full cascade), the headline chosen is one the page shows or states, and
    the page states its article metadata as structured data. A layout change tends to fail all three.
    """
    stated = {visible_h1(root), stated_text(meta.article.get("headline")), meta.first_meta("og:title")}
    checks = (not fell_back, bool(title) and title in stated, bool(meta.article))
    return round(sum(checks) / len(checks), 3)


def _main_blocks(
    root: lxml_html.HtmlElement, url: str, hints: ExtractionHints, links: PageLinks, page_text: str
) -> tuple[list[Block], bool]:
    """trafilatura's fast pass; its full cascade (compared with readability and jusText) when that missed.

    Also says whether it had to fall back to the full cascade.
    """
    blocks = _trafilatura_blocks(root, url, hints, fast=True)
    words = sum(len(block.text.split()) for block in blocks)
    if words < FAST_MIN_PAGE_SHARE * len(page_text.split()) or looks_like_navigation(blocks, links):
        return _trafilatura_blocks(root, url, hints, fast=False), True  # nothing, a menu, or a sliver of the page
    return blocks, False


def _trafilatura_blocks(root: lxml_html.HtmlElement, url: str, hints: ExtractionHints, fast: bool) -> list[Block]:
    """trafilatura's main content (comments left out, hidden and outlet-pruned parts removed) as blocks."""
    extracted = trafilatura.bare_extraction(  # "txt": only the body tree is read, so no text is built from it
        root, url=url, fast=fast, include_comments=False, prune_xpath=[*PRUNE_XPATHS, *hints.prune_xpaths],
        output_format="txt",
    )
    return body_blocks(extracted.body) if extracted is not None and extracted.body is not None else []


def _body_lines(
    root: lxml_html.HtmlElement,
    meta: PageMetadata,
    blocks: list[Block],
    links: PageLinks,
    title: str,
    page_lines: list[str],
) -> list[str]:
    """The body without boilerplate, with what trafilatura missed of the article recovered."""
    headlines = (title, visible_h1(root), stated_text(meta.article.get("headline")), meta.first_meta("og:title"))
    lines = clean_body(blocks, links, headlines)
    lines += clean_body(continued_chunks(root, lines), links, headlines)
    article_body = stated_text(meta.article.get("articleBody"))
    return lines_in_article_body(article_body, page_lines, lines) if article_body else lines


def _wall_reason(
    root: lxml_html.HtmlElement, html: str, page_text: str, meta: PageMetadata, words: int
) -> Rejection | None:
    title = clean(root.findtext(".//title") or "")
    sample = f"{title}\n{page_text[:3000]}"
    if _CHALLENGE.search(sample.lower()) or _CHALLENGE.search(html[:20000].lower()):  # the markup: its scripts
        return Rejection("challenge", f"a bot challenge page ({title or 'untitled'})")
    if _BOT_WALL.search(sample):
        return Rejection("bot-wall", f"an access-denied page ({title or 'untitled'})")
    free = str(meta.article.get("isAccessibleForFree", "")).lower()
    if words < TEASER_MAX_WORDS and (free == "false" or _PAYWALL.search(page_text)):
        return Rejection("paywall", "the article is behind a paywall")
    return None


def _first_text(value: Any) -> str:
    if isinstance(value, list):
        return next((v for v in value if isinstance(v, str) and v.strip()), "")
    return value if isinstance(value, str) else ""


def _publisher(meta: PageMetadata) -> str:
    publisher = meta.article.get("publisher")
    found = names(publisher) if isinstance(publisher, (dict, list, str)) else []
    return found[0] if found else ""


def _header(page_lines: list[str], body_lines: list[str]) -> list[str]:
    """The page lines over the body's first line (the article's header); [] if the page does not show it."""
    first = body_lines[0] if body_lines else None
    return page_lines[: page_lines.index(first)] if first in page_lines else []


def _dates(root: lxml_html.HtmlElement, meta: PageMetadata) -> tuple[str, str]:
    """Published and modified times as stated; htmldate's quick search (a day) when nothing is stated."""
    published = iso_datetime(_first_text(meta.article.get("datePublished") or meta.article.get("dateCreated")))
    for key in (
        "article:published_time",
        "og:published_time",
        "datepublished",
        "pubdate",
        "publishdate",
        "publish-date",
        "parsely-pub-date",
        "sailthru.date",
        "dc.date.issued",
        "dc.date",
        "date",
    ):
        if published:
            break
        published = iso_datetime(meta.first_meta(key))
    if not published:
        for element in root.xpath('//*[@itemprop="datePublished"] | //time[@datetime]'):
            published = iso_datetime(element.get("datetime") or element.get("content") or "")
            if published:
                break
    if not published:
        published = iso_datetime(find_date(root, extensive_search=False, original_date=True) or "")
    modified = iso_datetime(_first_text(meta.article.get("dateModified")))
    for key in ("article:modified_time", "og:updated_time", "datemodified", "last-modified"):
        if modified:
            break
        modified = iso_datetime(meta.first_meta(key))
    return published, modified


def _language(meta: PageMetadata) -> str:
    stated = meta.html_lang or clean(_first_text(meta.article.get("inLanguage"))) or meta.first_meta("og:locale")
    return stated.replace("_", "-")


def _tags(meta: PageMetadata) -> list[str]:
    tags = meta.all_meta("article:tag")
    if not tags:
        keywords = meta.article.get("keywords")
        if isinstance(keywords, str):
            tags = [clean(k) for k in keywords.split(",")]
        elif isinstance(keywords, list):
            tags = [clean(k) for k in keywords if isinstance(k, str)]
    if not tags:
        tags = [clean(k) for value in meta.all_meta("news_keywords", "keywords") for k in value.split(",")]
    return dedupe(tag for tag in tags if tag)
