"""The seen-state of a crawl: what a scheduled run may skip, and when an archived article is due a revisit.

It lives in the catalog (``seen`` and ``validators`` tables), not in memory, so it
survives restarts and grows without slowing lookups (primary-key reads). An article
URL is fetched when its key (:func:`pipelines.urls.url_key`) is new, or when its next
revisit (``REVISIT_AFTER`` after the first capture) is due. One :class:`SeenState` per
crawl process serves every outlet it crawls, on the process's one catalog connection
(the item pipeline writes through it too: SQLite locks the whole file, so a second
connection's open batch would block the first).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

from scrapy import signals
from scrapy.crawler import Crawler

from pipelines.capture import Capture
from pipelines.catalog import Catalog, catalog_url
from pipelines.process import CaptureSettings, mark_fetched
from pipelines.urls import url_key

_OF_CRAWLER: WeakKeyDictionary[Crawler, SeenState] = WeakKeyDictionary()


class SeenState:
    """The catalog's view for a crawl: skip what is known, revisit what is due, record what was fetched."""

    def __init__(self, catalog: Catalog, settings: CaptureSettings) -> None:
        self.catalog = catalog
        self.settings = settings
        self.closed = False

    @classmethod
    def open(cls, settings: Any) -> SeenState:
        """A seen-state on a connection of its own (the scheduler node, enqueueing a round)."""
        return cls(Catalog(catalog_url(settings)), CaptureSettings.from_settings(settings))

    @classmethod
    def of(cls, crawler: Crawler) -> SeenState:
        """The crawl's seen-state, opened on first use and closed when the engine stops."""
        if crawler not in _OF_CRAWLER:
            _OF_CRAWLER[crawler] = state = cls.open(crawler.settings)
            crawler.signals.connect(state.close, signal=signals.engine_stopped)
        return _OF_CRAWLER[crawler]

    def decide(self, outlet: str, url: str) -> tuple[bool, dict[str, Any] | None]:
        """(fetch?, the previous capture to compare with when this is a revisit)."""
        row = self.catalog.seen(outlet, url_key(url))
        if row is None:
            return True, None
        due = row["next_revisit"]
        if due and datetime.fromisoformat(due) <= datetime.now(UTC):
            return True, _previous(row)
        return False, None

    def due(self, outlet: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
        """(URL, previous capture) of the archived articles due a revisit, however they are linked today."""
        rows = self.catalog.due_revisits(outlet, datetime.now(UTC), limit)
        return [(row["url"], _previous(row)) for row in rows]

    def fetched(self, capture: Capture, outlet: str) -> None:
        """An article fetch was archived: record it (in the batch the next :meth:`commit` commits)."""
        mark_fetched(self.catalog, capture, outlet, self.settings.revisits, commit=False)

    def commit(self) -> None:
        """Commit what :meth:`fetched` batched, if anything."""
        if not self.closed and self.catalog.pending:
            self.catalog.commit()

    def validator_headers(self, url: str) -> dict[str, str]:
        etag, modified = self.catalog.validators(url)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        return headers

    def close(self) -> None:
        if not self.closed:
            self.catalog.close()  # commits
            self.closed = True


def _previous(row: dict[str, Any]) -> dict[str, Any]:
    return {"record_id": row["record_id"], "payload_digest": row["payload_digest"], "url": row["url"],
            "date": row["warc_date"]}
