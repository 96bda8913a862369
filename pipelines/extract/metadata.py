"""Article metadata from what the page states, structured data first.

Order of trust: JSON-LD (``NewsArticle`` and kin, also inside ``@graph`` or
lists), then OpenGraph and other ``<meta>`` tags, then microdata and
``<time>`` elements, then page heuristics. Nothing here raises on odd input:
a value that cannot be read is simply absent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from lxml import html as lxml_html

ARTICLE_TYPES = {
    "newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "askpublicnewsarticle", "blogposting", "liveblogposting",
    "socialmediaposting", "report", "scholarlyarticle", "techarticle", "satiricalarticle", "medicalscholarlyarticle",
}
_BY = re.compile(r"^\s*(?:by|written by|words by|reported by|von|par|por)\s*[:\-]?\s+", re.I)
_NOT_A_NAME = re.compile(r"https?://|www\.|@|\d{3,}|^\W*$")


def clean(text: Any) -> str:
    """Whitespace collapsed and trimmed; non-strings become ''.

    ``str.split`` splits at exactly what ``\\s`` matches, ~4 times as fast as a regular expression."""
    return " ".join(text.split()) if isinstance(text, str) else ""


@dataclass
class PageMetadata:
    """What the page says about itself, as found (before any choice between sources)."""

    ld_articles: list[dict[str, Any]] = field(default_factory=list)
    ld_nodes: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, list[str]] = field(default_factory=dict)
    canonical: str = ""
    html_lang: str = ""

    @property
    def article(self) -> dict[str, Any]:
        """The main article node of the JSON-LD, or {}."""
        return self.ld_articles[0] if self.ld_articles else {}

    def first_meta(self, *names: str) -> str:
        for name in names:
            for value in self.meta.get(name, []):
                if value := clean(value):
                    return value
        return ""

    def all_meta(self, *names: str) -> list[str]:
        return [clean(v) for name in names for v in self.meta.get(name, []) if clean(v)]


def read_metadata(root: lxml_html.HtmlElement) -> PageMetadata:
    data = PageMetadata()
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() == "application/ld+json":
            for node in _json_ld_nodes(script.text or ""):
                data.ld_nodes.append(node)
    data.ld_articles = sorted(
        (node for node in data.ld_nodes if _types(node) & ARTICLE_TYPES),
        key=lambda node: (not node.get("headline"), not node.get("articleBody") and not node.get("datePublished")),
    )
    for meta in root.iter("meta"):
        content = meta.get("content", meta.get("value"))  # some pages (and savers) write value=
        if content is None:
            continue
        for attribute in ("property", "name", "itemprop"):
            if key := (meta.get(attribute) or "").strip().lower():
                data.meta.setdefault(key, []).append(content)
    for link in root.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            data.canonical = link.get("href", "").strip()
            break
    data.html_lang = clean(root.get("lang") or root.get("xml:lang") or "")
    return data


def _json_ld_nodes(text: str) -> Iterator[dict[str, Any]]:
    text = text.strip()
    if text.startswith("<!--"):
        text = text[4:].rstrip("->").strip()
    try:
        data = json.loads(text, strict=False)
    except ValueError:
        try:  # a common breakage: raw newlines or trailing commas
            data = json.loads(re.sub(r",\s*([}\]])", r"\1", text.replace("\n", " ")), strict=False)
        except ValueError:
            return
    yield from _flatten(data)


def _flatten(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item)
    elif isinstance(data, dict):
        yield data
        graph = data.get("@graph")
        if graph is not None:
            yield from _flatten(graph)
        main = data.get("mainEntity")
        if isinstance(main, dict) and _types(main) & ARTICLE_TYPES:
            yield main


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type", "")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.split("/")[-1].lower() for k in kinds if isinstance(k, str)}


def names(value: Any, split: Callable[[str], list[str]] | None = None) -> list[str]:
    """Names from a JSON-LD author-like value: a string, an object with ``name``, or a list of those (each
    string read as names by ``split``, :func:`split_names` by default)."""
    split = split or split_names
    found: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            found.extend(split(item))
        elif isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, list):
                name = " ".join(str(n) for n in name)
            if not name and (item.get("givenName") or item.get("familyName")):
                name = f"{item.get('givenName', '')} {item.get('familyName', '')}"
            found.extend(split(clean(name)))
    return dedupe(found)


def split_names(text: str) -> list[str]:
    """A credit line as names: 'By A, B and C' -> ['A', 'B', 'C']."""
    text = _BY.sub("", clean(text))
    if not text or _NOT_A_NAME.search(text) and "@" in text:
        return []
    parts = re.split(r"\s*(?:,|;|\band\b|&|\|)\s*", text)
    result = []
    for part in parts:
        part = _BY.sub("", part).strip(" .-–—")
        if part and not _NOT_A_NAME.search(part) and len(part) <= 80:
            result.append(part)
    return result


def dedupe(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for item in items:
        key = item.casefold()
        if item and key not in seen:
            seen.add(key)
            result.append(item)
    return result


def iso_datetime(value: str) -> str:
    """A stated date/time as ISO 8601, as precise as stated ('' if unreadable).

    Keeps the page's own offset; a date without time stays a date; a time
    without an offset stays without one (there is no honest way to add it).
    """
    text = clean(value)
    if not text:
        return ""
    text = re.sub(r"(?<=\d)\s*Z$", "+00:00", text)
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)  # +0530 -> +05:30
    text = text.replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} \d", text) else text
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:  # RFC 2822, as in "Tue, 07 Apr 2020 15:49:34 +0530"
            parsed = parsedate_to_datetime(clean(value))
        except (TypeError, ValueError, IndexError):
            return ""
        return parsed.isoformat(timespec="seconds")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return parsed.date().isoformat()
    has_seconds = re.search(r"T\d{2}:\d{2}:\d{2}", text) is not None
    timespec = "seconds" if has_seconds else "minutes"
    if parsed.microsecond and has_seconds:
        timespec = "milliseconds"
    return parsed.isoformat(timespec=timespec)
