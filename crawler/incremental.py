"""Incremental crawling: what a scheduled run may skip, and when an archived article is due a revisit.

The seen-state lives in the catalog (``seen`` and ``validators`` tables), not in
memory, so it survives restarts and grows without slowing lookups (primary-key
reads). An article URL is fetched when its key (:func:`crawler.urls.url_key`) is
new, or when its next revisit (``REVISIT_AFTER`` after the first capture) is due.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from scrapy.settings import BaseSettings

from pipelines.urls import url_key
from pipelines.catalog import Catalog, catalog_url

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


class SeenState:
    """The catalog's view for one outlet's crawl: skip what is known, revisit what is due."""

    def __init__(self, catalog: Catalog, outlet: str, revisits: list[timedelta]) -> None:
        self.catalog = catalog
        self.outlet = outlet
        self.revisits = revisits
        self.closed = False

    @classmethod
    def from_settings(cls, settings: BaseSettings, outlet: str) -> SeenState:
        return cls(Catalog(catalog_url(settings)), outlet, parse_durations(settings.get("REVISIT_AFTER", "")))

    def decide(self, url: str) -> tuple[bool, dict[str, Any] | None]:
        """(fetch?, the previous capture to compare with when this is a revisit)."""
        row = self.catalog.seen(self.outlet, url_key(url))
        if row is None:
            return True, None
        due = row["next_revisit"]
        if due and datetime.fromisoformat(due) <= datetime.now(timezone.utc):
            return True, _previous(row)
        return False, None

    def due(self, limit: int) -> list[tuple[str, dict[str, Any]]]:
        """(URL, previous capture) of the archived articles due a revisit, however they are linked today."""
        rows = self.catalog.due_revisits(self.outlet, datetime.now(timezone.utc), limit)
        return [(row["url"], _previous(row)) for row in rows]

    def fetched(self, urls: list[str], capture: dict[str, Any], unchanged: bool, commit: bool = True) -> None:
        keys = [url_key(url) for url in urls]
        self.catalog.mark_fetched(self.outlet, keys, urls[-1], capture, self.revisits, unchanged, commit)

    def commit(self) -> None:
        """Commit what :meth:`fetched` batched, if anything."""
        if self.catalog.pending:
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
            self.catalog.commit()
            self.catalog.close()
            self.closed = True


def _previous(row: dict[str, Any]) -> dict[str, Any]:
    return {"record_id": row["record_id"], "payload_digest": row["payload_digest"], "url": row["url"],
            "date": row["warc_date"]}
