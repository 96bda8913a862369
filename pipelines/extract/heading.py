"""The article's head: its headline and its standfirst (dek), chosen among what the page states and shows.

A page states its headline several times: the visible ``<h1>``, the JSON-LD
``headline``, ``og:title``, ``twitter:title`` and ``<title>``, the last three
often decorated with the site's name. Structured data comes first, the visible
headline arbitrates: a stated title the page also shows is the headline, in the
spelling the publisher stated. The standfirst is a stated description or the
block under the headline, never a byline, a dateline, a caption, a prompt or a
link to another story.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from html import unescape
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from pipelines.extract.body import is_prompt
from pipelines.extract.completion import find_paragraph
from pipelines.extract.metadata import PageMetadata, clean
from pipelines.extract.page_text import BULLET

#: The rules of this module by name, switchable so that ``python -m evaluation --rules headline`` measures what
#: each does on every publisher of the shared corpora.
RULES: dict[str, str] = {
    "site-label-h1": "an h1 that is the site's name or its page title's decoration is not the headline",
    "title-tag": "the page title less its site decoration is a stated title too",
}
#: The rules in force (the evaluation switches some off to measure them).
ENABLED: frozenset[str] = frozenset(RULES)
#: Where a title's decoration starts: a separator with space around it ("Headline | Site").
_SEPARATOR = re.compile(r"\s+[|\-–—:·»*]\s+")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"', "″": '"'})
_STANDFIRST_CLASS = re.compile(
    r"standfirst|\bdek\b|sub-?head(?:line)?|subtitle|summary|synopsis|\blede\b|intro|excerpt|strapline|kicker-text|"
    r"article-description",
)  # searched in lowercased class and id names
_CREDIT = re.compile(
    r"^\W*(?:by|written by|words by|reported by|published|updated|posted|last updated)\b|"
    r"\b\d{1,2}:\d{2}\b|\b\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.)|"
    r"\b\d+\s*(?:min(?:ute)?s?|hours?|hrs?|days?)(?:\s+ago)?$",
    re.I,
)
#: The blocks that may be a dek by their class or id, in page order (only those with either: most have neither).
_MARKED_BLOCKS = etree.XPath("//*[self::p or self::div or self::h2 or self::span or self::header][@class or @id]")
#: Elements a dek never contains: media with their captions, and dates.
_NOT_IN_DEK = ("figure", "figcaption", "img", "picture", "time")
#: A dek is a sentence or two.
STANDFIRST_MIN_CHARS = 20
STANDFIRST_MAX_CHARS = 600
#: A byline or dateline is short; a longer line naming the author is prose.
CREDIT_MAX_WORDS = 15


def stated_text(value: Any) -> str:
    """A string from structured data, entities decoded (JSON-LD often carries HTML-escaped text)."""
    if isinstance(value, list):
        value = next((item for item in value if isinstance(item, str) and item.strip()), "")
    return clean(unescape(value)) if isinstance(value, str) else ""


def visible_h1(root: lxml_html.HtmlElement) -> str:
    """The first headline the page shows."""
    return next(iter(_h1s(root)), "")


def _h1s(root: lxml_html.HtmlElement) -> list[str]:
    """The page's ``<h1>`` texts."""
    return [text for text in (clean(h1.text_content()) for h1 in root.iter("h1")) if text]


def choose_title(root: lxml_html.HtmlElement, meta: PageMetadata, page_lines: list[str], site_name: str = "") -> str:
    """The headline: the h1 a stated title confirms (or the h1 alone, where nothing is stated), else a stated
    title the page shows as a line of its own, else the first stated one, else the page title less its
    decoration. With several h1s, the one the stated titles or the page title confirm."""
    html_title = clean(root.findtext(".//title") or "")
    headline = stated_text(meta.article.get("headline"))
    raw = [headline, stated_text(meta.first_meta("og:title")), stated_text(meta.first_meta("twitter:title"))]
    h1s = _h1s(root)
    if "site-label-h1" in ENABLED:
        labels = {_folded(name) for name in (site_name, meta.first_meta("og:site_name"),
                                             meta.first_meta("application-name")) if name}
        h1s = [h1 for h1 in h1s if not _site_label(h1, html_title, labels)]
    confirming = [*raw, html_title] if "title-tag" in ENABLED else raw
    h1 = next((h1 for h1 in h1s if any(_titled(text, h1) for text in confirming)), h1s[0] if h1s else "")
    bases = [text for text in (h1, headline) if text]
    og_title, twitter_title = (undecorated(text, bases) for text in raw[1:])
    stated = [text for text in (headline, og_title, twitter_title) if text]
    page_title = (undecorated(html_title, bases) if bases else _title_core(html_title)) \
        if "title-tag" in ENABLED and html_title else ""
    # a page title shown as a line of its own, where no title confirms the h1: the h1 is a section's name
    shown_title = page_title if page_title in page_lines and not any(
        same_title(text, h1) for text in [*stated, page_title]) else ""
    if h1 and (any(text.casefold() == h1.casefold() for text in stated) or not stated and not shown_title):
        spelled = [text for text in (og_title, twitter_title) if text and same_title(text, h1)]
        return spelled[0] if spelled else h1  # confirmed; in the spelling (quotes) the publisher states
    for text in [*stated, shown_title]:
        if text and text in page_lines:
            return text
    if stated:
        return stated[0]
    return h1 or (_title_core(html_title) if "title-tag" in ENABLED else _SEPARATOR.split(html_title)[0])


def _titled(title: str, h1: str) -> bool:
    """Whether a stated title is the h1, perhaps followed by the site's name ("Headline | Site")."""
    key, base = title.translate(_QUOTES).casefold(), h1.translate(_QUOTES).casefold()
    return bool(base) and (key == base or key.startswith(base) and _SEPARATOR.match(title, len(h1)) is not None)


def _site_label(h1: str, html_title: str, sites: set[str]) -> bool:
    """Whether an h1 is the site's name or label: a stated site name, or the decoration after the headline in
    the page title ("Headline · Site")."""
    if _folded(h1) in sites:
        return True
    return h1 in _SEPARATOR.split(html_title)[1:]


def _title_core(html_title: str) -> str:
    """The page title less its site decoration: its longest part ("Site - Headline" -> "Headline")."""
    return max(_SEPARATOR.split(html_title), key=len) if html_title else ""


def _folded(name: str) -> str:
    return re.sub(r"\W+", " ", name.casefold()).strip()


def same_title(one: str, other: str) -> bool:
    """Equal but for case and typographic quotes."""
    return one.translate(_QUOTES).casefold() == other.translate(_QUOTES).casefold()


def undecorated(title: str, bases: Iterable[str]) -> str:
    """``title`` without the site decoration around one of ``bases`` ("Site: Headline | Section - Site")."""
    key = title.translate(_QUOTES).casefold()
    for base in bases:
        start = key.find(base.translate(_QUOTES).casefold())
        if start < 0 or len(base) == len(title):
            continue
        before, after = title[:start], title[start + len(base):]
        if (not before or _SEPARATOR.search(before + " ")) and (not after or _SEPARATOR.match(" " + after)):
            return title[start:start + len(base)]
    return title


def choose_standfirst(
    root: lxml_html.HtmlElement,
    meta: PageMetadata,
    title: str,
    page_lines: list[str],
    body: list[str],
    authors: list[str],
    xpath: str = "",
) -> str:
    """The dek: a stated description, or a block by the headline, shown as a line of its own above the body."""
    between = _between_headline_and_body(page_lines, title, body)
    for candidate in _standfirst_candidates(root, meta, title, xpath):
        if (
            STANDFIRST_MIN_CHARS <= len(candidate) <= STANDFIRST_MAX_CHARS
            and candidate in between
            and candidate not in body[1:]
            and not _is_credit(candidate, authors)
            and not is_prompt(candidate)
        ):
            return candidate
    return ""


def is_lede(root: lxml_html.HtmlElement, body: list[str]) -> bool:
    """Whether the first body line is a paragraph among the article's paragraphs (a dek stands apart)."""
    if len(body) < 2:
        return False
    first = find_paragraph(root, body[0])
    parent = first.getparent() if first is not None else None
    return parent is not None and any(clean(p.text_content()) == body[1] for p in parent.iterchildren("p"))


def _between_headline_and_body(page_lines: list[str], title: str, body: list[str]) -> set[str]:
    """The page lines from the headline to the first body line the page shows (where a dek sits)."""
    page_lines = [line.strip().removeprefix(BULLET).strip() for line in page_lines]  # list items too
    positions = {line: index for index, line in reversed(list(enumerate(page_lines)))}  # first occurrences
    start = positions.get(title, 0)
    end = next((positions[line] for line in body if positions.get(line, -1) >= start), len(page_lines) - 1)
    return set(page_lines[start:end + 1])


def _is_credit(text: str, authors: list[str]) -> bool:
    """A byline or dateline: names the author, or says by whom or when, and little else."""
    if len(text.split()) > CREDIT_MAX_WORDS:
        return False
    return _CREDIT.search(text) is not None or any(author in text for author in authors)


def _standfirst_candidates(root: lxml_html.HtmlElement, meta: PageMetadata, title: str, xpath: str) -> Iterator[str]:
    """Candidates, most trusted first, produced lazily (the page scan is the costly part)."""
    if xpath:
        yield from (clean(el.text_content()) for el in root.xpath(xpath) if hasattr(el, "text_content"))
    yield stated_text(meta.article.get("description"))
    yield stated_text(meta.first_meta("og:description"))
    yield stated_text(meta.first_meta("description"))
    yield from _after_headline(root, title)
    for element in _MARKED_BLOCKS(root):
        marks = f"{element.get('class', '')} {element.get('id', '')}".lower()
        if len(marks) > 1 and len(element) < 12 and _STANDFIRST_CLASS.search(marks) and _may_be_dek(element):
            yield clean(element.text_content())


def _after_headline(root: lxml_html.HtmlElement, title: str) -> list[str]:
    """The text block right after the headline (where most outlets put the dek), if any."""
    h1s = [h1 for h1 in root.iter("h1") if clean(h1.text_content())]
    shown = [h1 for h1 in h1s if same_title(clean(h1.text_content()), title)]
    for h1 in (shown or h1s)[:1]:
        node: Any = h1
        for _ in range(3):  # the headline's siblings, then its wrapper's, then the wrapper's wrapper's
            for sibling in node.itersiblings():
                if isinstance(sibling.tag, str) and sibling.tag in {"h2", "p", "div"}:
                    text = clean(sibling.text_content())
                    if text:
                        return [text] if _may_be_dek(sibling) else []
            node = node.getparent()
            if node is None:
                break
    return []


def _may_be_dek(element: lxml_html.HtmlElement) -> bool:
    """Neither a media block with its caption, nor a date line, nor a link to another story."""
    return next(element.iter(*_NOT_IN_DEK), None) is None and next(element.iterancestors("a"), None) is None
