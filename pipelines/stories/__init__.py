"""Stories: the same story across outlets, found as articles arrive (copies, syndication, updates).

Two levels, assigned to every article by the capture path (:mod:`pipelines.process`) as it is recorded, and
rebuilt by replay:

- a **copy group** holds the same text published again: wire copies, republishers, light rewrites, excerpts
  (MinHash over word shingles, with containment for a copy that is part of a longer text);
- a **story** holds the different write-ups of one event within a time window (headline, lede and key terms).

Attribution: in a copy group, the origin is the credited source when it is an archived outlet or a known news
agency, otherwise the member published first; every other member is "republished from" it, credited or not.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoryArticle:
    """An article as story assignment sees it (the latest version of one article: outlet and URL key)."""

    outlet: str
    url_key: str
    record_id: str
    url: str
    published: str  # ISO 8601 as the page states it, or ""
    fetched: str  # WARC-Date of this version
    title: str
    standfirst: str
    body: str  # paragraphs, one per line
    source: str = ""  # the credited source as extracted ("AFP", "Axios"), else the outlet's own name
    site_name: str = ""  # how the outlet credits itself


@dataclass(frozen=True)
class Assignment:
    """Where an article went."""

    story_id: int
    copy_group: int | None  # None: the text is nobody else's (yet)
    origin: str  # the copy group's (or the article's credited) origin: an outlet, an agency, or "" (its own)
    credited: bool  # whether the article credits its origin
