"""Offline re-crawl: an outlet's own spider, answered from the archive instead of the network.

Set ``ARCHIVE_SOURCE`` (archive folders or WARC files, comma-separated) and the
:class:`ArchiveSourceAddon` swaps the HTTP download handler for
:class:`ArchiveSourceDownloadHandler`, which answers each request with the
archived capture of that URL nearest to ``ARCHIVE_SOURCE_TIME`` (default: the
latest), robots.txt included, and 404 (flagged ``archive-miss``) for a URL the
archive does not hold. Nothing is fetched and no new WARC is written; the
captures themselves (:class:`~pipelines.capture.Capture`, with their own WARC
locations) go to the pipelines, so the outputs are named as the original crawl
named them.
"""

from __future__ import annotations

import io
import json
import logging
import re
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import surt
from cdxj_indexer.main import CDXJIndexer
from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.settings import BaseSettings

from pipelines.payload import dechunk
from pipelines.warc_reader import read_capture

logger = logging.getLogger(__name__)

_WARC_NAME = re.compile(r"\.(?:warc|arc)(?:\.gz)?$", re.I)


class ArchiveSourceAddon:
    """Turns ``ARCHIVE_SOURCE`` into settings: the archive handler, no WARC writing, no politeness waits."""

    def update_settings(self, settings: BaseSettings) -> None:
        if not settings.get("ARCHIVE_SOURCE"):
            return
        priority = settings.getpriority("ARCHIVE_SOURCE")  # as strong as the request for it, so it wins
        handler = "crawler.archive_source.ArchiveSourceDownloadHandler"
        settings.set("DOWNLOAD_HANDLERS", {"http": handler, "https": handler}, priority=priority)
        for name, value in {"WARC_ENABLED": False, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                            "RETRY_ENABLED": False}.items():
            settings.set(name, value, priority=priority)


@dataclass(frozen=True)
class IndexEntry:
    timestamp: str
    path: Path
    offset: int
    length: int
    ordinal: int  # the response's position among the response records of its file


class CaptureIndex:
    """Every response capture in the archive by SURT key, from CDXJ indexes (made where missing)."""

    def __init__(self, sources: list[Path]) -> None:
        self.entries: dict[str, list[IndexEntry]] = defaultdict(list)
        warcs = [p for source in sources for p in ([source] if source.is_file() else sorted(source.rglob("*")))
                 if p.is_file() and _WARC_NAME.search(p.name)]
        for warc in warcs:
            self._add(warc)
        for captures in self.entries.values():
            captures.sort(key=lambda entry: entry.timestamp)
        logger.info("Archive source: %d WARC files, %d URLs", len(warcs), len(self.entries))

    def _add(self, warc: Path) -> None:
        index = warc.parent.parent / "indexes" / f"{warc.name}.cdxj"
        if index.is_file():
            lines = index.read_text("utf-8").splitlines()
        else:
            buffer = io.StringIO()
            CDXJIndexer(buffer, [str(warc)]).process_all()
            lines = buffer.getvalue().splitlines()
        rows = []
        for line in lines:
            key, timestamp, data = line.split(" ", 2)
            fields = json.loads(data)
            if fields.get("mime") in {"warc/revisit", "warc/request"} or "status" not in fields:
                continue
            rows.append((int(fields["offset"]), key, timestamp, int(fields["length"])))
        for ordinal, (offset, key, timestamp, length) in enumerate(sorted(rows)):
            self.entries[key].append(IndexEntry(timestamp, warc, offset, length, ordinal))

    def nearest(self, url: str, timestamp: str = "") -> IndexEntry | None:
        captures = self.entries.get(surt.surt(url))
        if not captures:
            return None
        if not timestamp:
            return captures[-1]
        stamps = [entry.timestamp for entry in captures]
        position = bisect_left(stamps, timestamp)
        around = captures[max(0, position - 1) : position + 1]
        return min(around, key=lambda entry: abs(int(entry.timestamp) - int(timestamp)))


@lru_cache(maxsize=4)
def _index_for(sources: tuple[Path, ...]) -> CaptureIndex:
    """One index per set of sources, shared by the http and https handlers."""
    return CaptureIndex(list(sources))


class ArchiveSourceDownloadHandler(BaseDownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        sources = [Path(p.strip()) for p in crawler.settings.getlist("ARCHIVE_SOURCE") if p.strip()]
        missing = [str(p) for p in sources if not p.exists()]
        if missing:
            raise FileNotFoundError(f"ARCHIVE_SOURCE not found: {', '.join(missing)}")
        self.index = _index_for(tuple(sources))
        self.timestamp = re.sub(r"\D", "", crawler.settings.get("ARCHIVE_SOURCE_TIME") or "")[:14]

    async def download_request(self, request: Request) -> Response:
        stats = self.crawler.stats
        entry = self.index.nearest(request.url, self.timestamp)
        if entry is None:
            stats.inc_value("archive_source/miss")
            return Response(request.url, status=404, request=request, flags=["archive-miss"])
        stats.inc_value("archive_source/hit")
        capture = read_capture(entry.path, entry.offset)
        capture = replace(capture, location=replace(capture.location, ordinal=entry.ordinal))
        request.meta["capture"] = capture
        headers = Headers()
        for name, value in capture.headers.items():
            if name != "transfer-encoding":
                headers[name] = value
        chunked = "chunked" in capture.headers.get("transfer-encoding", "")
        payload = dechunk(capture.payload) if chunked else capture.payload
        response_class = responsetypes.from_args(headers=headers, url=request.url, body=payload)
        return response_class(
            url=request.url,
            status=capture.status or 200,
            headers=headers,
            body=payload,
            request=request,
            flags=["archive"],
        )
