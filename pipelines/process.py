"""The capture path: one archived response to text files and catalog rows, whoever calls it.

The crawl and replay (local processes or Dask) run the same three steps for every
article capture, in this order, so the catalog they write is the same row for row:

1. :func:`mark_fetched`: the seen-state, under every URL the fetch answered (the redirects
   that led to it too), with its revisit schedule. The crawl does it when the archiver has
   written the fetch, so the rest of the crawl already skips it.
2. :func:`extract`: decode and extract the page, write its three files. It needs no catalog,
   so replay runs it in worker processes or on other machines.
3. :func:`record`: the capture's catalog row, in capture order: a new version of the article
   (with the capture of the version before), an unchanged revisit, or a rejection with its
   reason; the canonical URL's seen-state; the article's entry in the search index
   (:mod:`pipelines.search`), which holds each article's latest version; and, from that version, the
   article's copy group and story (:mod:`pipelines.stories`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipelines.capture import REQUISITE, Capture, WarcLocation, warc_datetime
from pipelines.catalog import Catalog
from pipelines.extract import Rejection, extract_page
from pipelines.health import HealthSettings, PageCoverage
from pipelines.outlets import OutletProfile
from pipelines.output import CaptureNames, capture_names, write_outputs
from pipelines.payload import MAX_PAYLOAD
from pipelines.requisites import STYLESHEET_TYPE, stylesheet_requisites
from pipelines.stories import StoryArticle
from pipelines.stories.index import StoryFeatures, StoryIndex
from pipelines.urls import url_key

logger = logging.getLogger(__name__)

#: How a capture changed the archive (``Outcome.change``).
NEW, UPDATED, UNCHANGED, REJECTED, DUPLICATE = "new", "updated", "unchanged", "rejected", "duplicate"

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_durations(spec: str | list[str]) -> list[timedelta]:
    """``"1h,6h,24h,3d"`` -> timedeltas; raises ``ValueError`` on anything else."""
    items = spec.split(",") if isinstance(spec, str) else spec
    durations = []
    for item in (i for i in items if str(i).strip()):
        match = _DURATION.match(str(item))
        if not match:
            raise ValueError(f"not a duration: {item!r} (use e.g. 90s, 30m, 6h, 3d)")
        durations.append(timedelta(**{_UNIT[match[2]]: float(match[1])}))
    return durations


@dataclass(frozen=True)
class CaptureSettings:
    """What the capture path needs from the settings, the same for the crawl and for replay."""

    revisits: list[timedelta] = field(default_factory=list)  # REVISIT_AFTER: when to look at an article again
    max_size: int = MAX_PAYLOAD  # DOWNLOAD_MAXSIZE: the most a page may decode to
    health: HealthSettings = HealthSettings()
    redis_url: str = ""  # REDIS_URL: where story assignment's LSH index lives (else the catalog)

    @classmethod
    def from_settings(cls, settings: Any) -> CaptureSettings:
        """From anything with Scrapy's typed getters; ``ValueError`` on a malformed ``REVISIT_AFTER``."""
        return cls(parse_durations(settings.get("REVISIT_AFTER") or ""),
                   settings.getint("DOWNLOAD_MAXSIZE") or MAX_PAYLOAD, HealthSettings.from_settings(settings),
                   settings.get("REDIS_URL") or "")


@dataclass(frozen=True)
class Extracted:
    """What extraction made of one capture: its catalog columns and coverage; the texts are on disk."""

    columns: dict[str, Any]  # status and either the article's fields and files, or the reason and detail
    canonical_url: str = ""
    coverage: PageCoverage | None = None  # None: extraction found no article
    searchable: dict[str, Any] = field(default_factory=dict)  # what the search index needs that the row lacks
    story_features: StoryFeatures | None = None  # what story assignment compares (computed with the extraction)

    @property
    def rejected(self) -> bool:
        return self.columns["status"] == REJECTED


@dataclass(frozen=True)
class Outcome:
    """What a capture did to the archive: the crawl's item, replay's tally."""

    outlet: str
    url: str
    change: str  # new, updated (a new version), unchanged (a revisit), rejected, duplicate (another worker's)
    warc: dict[str, Any]  # the capture's WARC location
    title: str = ""
    published: str = ""
    source: str = ""
    reason: str = ""  # why it was rejected
    detail: str = ""
    files: dict[str, str] = field(default_factory=dict)  # page_text, article_text, metadata under the root
    coverage: PageCoverage | None = None


def article_keys(capture: Capture) -> list[str]:
    """The seen-state keys of an article fetch: its URL's and those of the redirects that led to it."""
    return [url_key(url) for url in (*capture.redirected_from, capture.url)]


def mark_fetched(catalog: Catalog, capture: Capture, outlet: str, revisits: list[timedelta],
                 commit: bool = True) -> None:
    """Step 1: the seen-state of an archived article fetch (``commit=False``: the caller batches)."""
    assert capture.location is not None, "only archived captures are marked as fetched"
    catalog.mark_fetched(outlet, article_keys(capture), capture.url, capture.location, revisits, commit=commit)


def mark_requisite(catalog: Catalog, capture: Capture, commit: bool = True) -> None:
    """The ``requisites`` row of an archived page requisite (crawl and replay alike; ``commit=False`` batches):
    when it was fetched (its WARC-Date), the capture holding its payload (a revisit's: the one it refers to),
    its validators and, of a stylesheet, the requisites it names (looked at again when it is unchanged)."""
    location = capture.location
    if capture.role != REQUISITE or location is None or not (capture.status == 200 or capture.is_revisit):
        return
    last: dict[str, Any] = {}
    uses = None
    if capture.is_revisit:  # unchanged: still the capture it refers to; a 304 may leave its validators out
        last = catalog.requisite(capture.outlet, capture.url) or {}
        if not last.get("record_id"):
            return  # the capture it refers to is not known here: nothing to point a later revisit at
        record_id, digest, date = last["record_id"], last["payload_digest"], last["warc_date"]
    else:
        record_id, digest, date = location.record_id, location.payload_digest, location.date
        if capture.media_type == STYLESHEET_TYPE:
            try:
                uses = stylesheet_requisites(capture.body(MAX_PAYLOAD), capture.url) or []
            except ValueError:  # an encoding that cannot be undone, too large: archived, not read
                uses = []
    etag = capture.headers.get("etag") or last.get("etag") or ""
    modified = capture.headers.get("last-modified") or last.get("last_modified") or ""
    catalog.save_requisite(capture.outlet, capture.url, location.date, record_id, digest, date, etag, modified,
                           uses, commit=commit)


def names_for(capture: Capture, outlet: str) -> CaptureNames:
    """Where the capture's texts go; ``ValueError`` for a capture that cannot be named (see pipelines.output)."""
    location = _location(capture)
    return capture_names(outlet, location.file, location.ordinal, location.record_id, location.date)


def extract(capture: Capture, outlet: OutletProfile, root: Path, max_size: int = MAX_PAYLOAD) -> Extracted:
    """Step 2: decode and extract the page (at most ``max_size`` bytes decoded), write its files under ``root``.

    A page with no article writes nothing and says why; so does a page the extractor fails on (logged with
    its traceback: a bug to fix, but never the end of a crawl or a replay).
    """
    try:
        result = extract_page(capture, site_name=outlet.site_name, hints=outlet.hints, max_size=max_size)
    except Exception as error:  # noqa: BLE001 - a page the extractor chokes on is that page's problem only
        logger.exception("Extraction failed on %s", capture.url)
        result = Rejection("extraction-error", f"{type(error).__name__}: {error}"[:500])
    if isinstance(result, Rejection):
        return Extracted({"status": REJECTED, "reason": result.reason, "detail": result.detail})
    names = names_for(capture, outlet.name)
    columns = write_outputs(root, names, result, outlet.name, _location(capture))
    searchable = {"standfirst": result.standfirst, "body": result.body, "section": result.section,
                  "authors": list(result.authors), "site_name": result.site_name}
    features = StoryFeatures.of(result.title or "", result.standfirst, result.body)
    return Extracted(columns, result.canonical_url, PageCoverage.of(result), searchable, features)


def record(catalog: Catalog, capture: Capture, outlet: str, extracted: Extracted | None,
           commit: bool = True) -> Outcome:
    """Step 3: the capture's catalog row (``extracted`` is None for a revisit record: nothing was extracted;
    ``commit=False``: the caller batches). Story assignment uses the catalog's :meth:`StoryIndex.of` (to keep
    its LSH index in Redis, attach it first with the Redis URL).

    Extracted captures are versions of their article (by URL key): the first is version 1, each later
    one the next, pointing at the one before; a capture recorded before (replayed again, re-extracted)
    keeps its version. A capture another worker already recorded as this version is a duplicate and
    records nothing.
    """
    location = _location(capture)
    key = url_key(capture.url)
    row: dict[str, Any] = {
        "record_id": location.record_id, "outlet": outlet, "url": capture.url, "fetched": location.date,
        "warc_file": location.file, "warc_offset": location.offset, "warc_length": location.length,
        "payload_digest": location.payload_digest, "url_key": key,
    }
    warc = location.as_dict()
    if extracted is None:
        catalog.record(commit, **row, status=UNCHANGED, revisit_of=location.revisit_of)
        return Outcome(outlet, capture.url, UNCHANGED, warc)
    if extracted.rejected:
        catalog.record(commit, **row, **extracted.columns)
        return Outcome(outlet, capture.url, REJECTED, warc, reason=extracted.columns["reason"],
                       detail=extracted.columns["detail"])
    version, previous = catalog.version_of(location.record_id) or _next_version(catalog, outlet, key)
    columns = extracted.columns
    if not catalog.record(commit, **row, **columns, version=version, previous_record_id=previous or None):
        return Outcome(outlet, capture.url, DUPLICATE, warc, coverage=extracted.coverage)
    canonical = url_key(extracted.canonical_url) if extracted.canonical_url else key
    if canonical != key and catalog.seen(outlet, canonical) is None:
        catalog.mark_fetched(outlet, [canonical], extracted.canonical_url, location, [], commit=commit)
    if _index(catalog, capture, outlet, key, version, extracted, commit):
        _assign_story(StoryIndex.of(catalog), capture, outlet, key, extracted, commit)
    files = {kind: columns[f"{kind}_path"] for kind in ("page_text", "article_text", "metadata")}
    return Outcome(outlet, capture.url, UPDATED if version > 1 else NEW, warc, columns["title"], columns["published"],
                   columns["source"], files=files, coverage=extracted.coverage)


def _index(catalog: Catalog, capture: Capture, outlet: str, key: str, version: int, extracted: Extracted,
           commit: bool) -> bool:
    """Put the version in the search index (where a later one of the article is not already); whether it went in."""
    location = _location(capture)
    columns, searchable = extracted.columns, extracted.searchable
    first_fetched = location.date if version == 1 else catalog.first_fetched(outlet, key) or location.date
    published = columns["published"] or ""
    day = published[:10] if _DAY.match(published) else (warc_datetime(first_fetched) or _EPOCH).date().isoformat()
    return catalog.index_article({
        "outlet": outlet, "url_key": key, "record_id": location.record_id, "version": version, "url": capture.url,
        "title": columns["title"], "standfirst": searchable.get("standfirst", ""),
        "body": "\n".join(searchable.get("body", "").splitlines()), "byline": columns["byline"],
        "source": columns["source"], "section": searchable.get("section", ""), "language": columns["language"],
        "published": published, "fetched": location.date, "first_fetched": first_fetched, "day": day,
        "word_count": columns["word_count"],
    }, searchable.get("authors", []), commit=commit)


def _assign_story(stories: StoryIndex, capture: Capture, outlet: str, key: str, extracted: Extracted,
                  commit: bool) -> None:
    """The article's copy group and story (pipelines.stories), from its latest version."""
    location = _location(capture)
    columns, searchable = extracted.columns, extracted.searchable
    stories.add(StoryArticle(
        outlet=outlet, url_key=key, record_id=location.record_id, url=capture.url,
        published=columns["published"] or "", fetched=location.date, title=columns["title"] or "",
        standfirst=searchable.get("standfirst", ""), body=searchable.get("body", ""), source=columns["source"] or "",
        site_name=searchable.get("site_name", "")), commit=commit, features=extracted.story_features)


def _next_version(catalog: Catalog, outlet: str, key: str) -> tuple[int, str]:
    """The version a new capture of the article becomes, and the record id of the one before it."""
    latest, previous = catalog.previous_version(outlet, key)
    return latest + 1, previous


def _location(capture: Capture) -> WarcLocation:
    if capture.location is None:
        raise ValueError(f"{capture.url} is in no archive: nothing to name or record it by")
    return capture.location
