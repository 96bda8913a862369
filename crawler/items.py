"""What a spider hands to the pipelines for each article it fetched."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ArticleCapture:
    """An article page as archived: its payload, where it lives in the WARCs and how it was found.

    The extraction pipeline turns it into an :class:`ArchivedArticle` (the body bytes stay behind).
    """

    outlet: str
    url: str
    status: int
    body: bytes = field(repr=False)  # Content-Encoding undone (not in logs: it can be megabytes)
    headers: dict[str, str]  # lower-case names, first value of each
    warc: dict[str, Any] = field(default_factory=dict)
    discovery: dict[str, Any] = field(default_factory=dict)
    refused: str = ""  # why the archived payload was not usable (then ``body`` is empty), e.g. a compression bomb


@dataclass
class ArchivedArticle:
    """What the pipelines made of an article capture: files written, metadata, provenance."""

    outlet: str
    url: str
    title: str
    published: str
    source: str
    files: dict[str, str]  # page_text, article_text, metadata: paths relative to ARCHIVE_ROOT (none if unchanged)
    warc: dict[str, Any]
    discovery: dict[str, Any]
    change: str = "new"  # "new", "updated" (a new version) or "unchanged" (a revisit record, no new files)
