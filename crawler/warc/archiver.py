"""Archive every HTTP exchange of a crawl into WARC files.

Scrapy sends ``response_downloaded`` before any downloader middleware runs, so
the body seen here is the payload as received: still content-encoded, already
de-chunked. Each fetch becomes a ``response`` (or, for an unchanged revisit, a
``revisit``), a ``request`` and a ``metadata`` record (how the URL was
discovered), written together. What was archived goes on as a
:class:`~pipelines.capture.Capture` in ``request.meta["capture"]`` (the spider hands
article captures to the item pipeline) and in the ``capture_archived`` signal.

This extension only builds and writes records. Around it, each a component of its
own: recovery of files a killed crawl left open (:mod:`crawler.warc.recovery`),
CDXJ indexes as files close (:mod:`crawler.warc.index`), the seen-state
(:mod:`crawler.extensions.seen_state`) and catch-up extraction
(:mod:`crawler.extensions.catch_up`).
"""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from warcio.statusandheaders import StatusAndHeaders

from crawler import __version__
from crawler import signals as archive_signals
from crawler.outlets import outlet_for, serves_many
from crawler.warc.records import (
    IDENTICAL_PAYLOAD_DIGEST,
    SERVER_NOT_MODIFIED,
    http_head,
    revisit_record,
    sha1_digest,
    warc_date,
    warc_record,
)
from crawler.warc.writer import GZIP_LEVEL, WarcFileWriter, gzip_level, warc_host_label, worker_label
from pipelines.capture import Capture
from pipelines.warc_reader import http_headers

#: Hop-by-hop framing the body no longer has once Twisted has de-chunked it.
DROPPED_RESPONSE_HEADERS = {b"transfer-encoding"}


class WarcArchiver:
    """Scrapy extension writing ``<ARCHIVE_ROOT>/<outlet>/warc/*.warc.gz``."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("WARC_ENABLED", True):
            raise NotConfigured("WARC_ENABLED is off")
        self.crawler = crawler
        self.root = Path(settings.get("ARCHIVE_ROOT", "archive"))
        self.max_size = settings.getint("WARC_MAX_SIZE", 1024**3)
        self.gzip_level = gzip_level(settings.get("WARC_GZIP_LEVEL", GZIP_LEVEL))
        self.writers: dict[str, WarcFileWriter] = {}
        self.host_label = warc_host_label()
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcArchiver:
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        # A frontier worker serves many outlets and is one of many writers: its process id goes into the
        # host part of its file names, as in Heritrix's (<pid>~<host>).
        if serves_many(spider):
            self.host_label = worker_label()

    def _writer(self, outlet: str) -> WarcFileWriter:
        if outlet not in self.writers:
            send = self.crawler.signals.send_catch_log
            self.writers[outlet] = WarcFileWriter(
                self.root / outlet / "warc", outlet, self._warcinfo(outlet), max_size=self.max_size,
                host=self.host_label, level=self.gzip_level,
                on_closing=lambda path: send(archive_signals.warc_closing, path=path),
                on_close=lambda path: send(archive_signals.warc_closed, path=path),
            )
        return self.writers[outlet]

    def spider_closed(self, spider: Spider) -> None:
        for writer in self.writers.values():
            writer.close()
        self.crawler.stats.set_value("warc/files", sum(len(w.closed_files) for w in self.writers.values()))

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        outlet = outlet_for(request, spider)
        if outlet is None:
            return
        writer = self._writer(outlet.name)
        latency = request.meta.get("download_latency") or 0.0
        date = warc_date(datetime.fromtimestamp(time.time() - latency, UTC))
        common = {"WARC-Date": date}
        if response.ip_address is not None:
            common["WARC-IP-Address"] = str(response.ip_address)

        head = _response_head(response, request.meta.get("http_reason"))
        head_bytes = http_head(f"{head.protocol} {head.statusline}", head.headers)
        previous = request.meta.get("previous_capture")
        not_modified = bool(previous) and response.status == 304
        unchanged = (bool(previous) and response.status == 200
                     and sha1_digest(response.body) == previous.get("payload_digest"))
        if unchanged:
            # identical-payload-digest profile: the headers of this fetch, the payload by reference
            response_record = revisit_record(response.url, head_bytes, previous["payload_digest"], previous,
                                             IDENTICAL_PAYLOAD_DIGEST, common)
        elif not_modified:
            # a conditional request answered 304: server-not-modified profile, headers and payload both by
            # reference (an empty block, as WARC 1.1 allows): replay tools serve the capture it refers to
            response_record = revisit_record(response.url, b"", previous["payload_digest"], previous,
                                             SERVER_NOT_MODIFIED, common)
        else:
            response_record = warc_record("response", response.url, head_bytes + response.body, dict(common),
                                          payload_from=len(head_bytes),
                                          encoded=bool(response.headers.get(b"Content-Encoding")))
        response_id = response_record.record_id
        request_head = _request_head(request)
        request_record = warc_record("request", response.url, request_head + request.body,
                                     {**common, "WARC-Concurrent-To": response_id}, payload_from=len(request_head))
        discovery = request.meta.get("discovery") or {}
        fields = _discovery_fields(request, latency)
        metadata_record = warc_record("metadata", response.url, fields, {
            "WARC-Date": date, "WARC-Refers-To": response_id, "WARC-Concurrent-To": response_id,
        })
        locations = writer.write([response_record, request_record, metadata_record], rotate=False)
        capture = Capture(
            url=response.url,
            status=response.status,
            headers=http_headers(head.headers),
            payload=b"" if unchanged or not_modified else response.body,
            location=locations[0],
            reason=head.statusline.partition(" ")[2],
            outlet=outlet.name,
            role=discovery.get("role") or None,
            redirected_from=tuple(request.meta.get("redirect_urls", ())),
            refers_to_url=previous["url"] if unchanged or not_modified else "",
        )
        request.meta["capture"] = capture
        self.crawler.signals.send_catch_log(archive_signals.capture_archived, capture=capture, request=request)
        writer.rotate_if_full()
        stats = self.crawler.stats
        if unchanged or not_modified:
            stats.inc_value("warc/revisit_records")
        stats.inc_value("warc/records", 3)
        stats.inc_value("warc/bytes", sum(location.length for location in locations))
        stats.inc_value(f"warc/response_status_count/{response.status}")

    def _warcinfo(self, outlet: str) -> dict[str, str]:
        settings = self.crawler.settings
        return {
            "software": f"newsarchive/{__version__} (Scrapy {scrapy.__version__})",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": socket.gethostname(),
            "operator": settings.get("OPERATOR_CONTACT", ""),
            "isPartOf": outlet,
            "description": f"Crawl of outlet {outlet!r}",
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            "http-header-user-agent": settings.get("USER_AGENT", ""),
        }


def _response_head(response: Response, reason: str | None) -> StatusAndHeaders:
    if reason is None:
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
    headers = [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in response.headers.items()
        if name.lower() not in DROPPED_RESPONSE_HEADERS
        for value in values
    ]
    protocol = response.protocol or "HTTP/1.1"
    return StatusAndHeaders(f"{response.status} {reason}".strip(), headers, protocol=protocol)


def _request_head(request: Request) -> bytes:
    """The request as sent (a proxy's credentials left out), its head serialised."""
    parts = urlsplit(request.url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    headers = [("Host", parts.netloc)]
    headers += [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in request.headers.items()
        if name.lower() not in {b"host", b"proxy-authorization"}
        for value in values
    ]
    return http_head(f"{request.method} {target} HTTP/1.1", headers)


def _discovery_fields(request: Request, latency: float) -> bytes:
    """Heritrix-style ``application/warc-fields``: how and why this URL was fetched."""
    discovery = request.meta.get("discovery") or {}
    fields = {
        "via": discovery.get("via", ""),
        "discoveredBy": discovery.get("kind", "seed" if not request.meta.get("redirect_urls") else ""),
        "role": discovery.get("role", "robots" if request.meta.get("dont_obey_robotstxt") else ""),
        "hopsFromSeed": str(discovery.get("hops", 0)),
        "redirectedFrom": (request.meta.get("redirect_urls") or [""])[-1],
        "feedPublished": discovery.get("published", ""),
        "feedTitle": discovery.get("title", ""),
        "requisiteOf": request.meta.get("requisite_of", ""),  # the page's response record (WARC-Concurrent-To's)
        "fetchTimeMs": str(round(latency * 1000)),
    }
    lines = (f"{name}: {_one_line(value)}\r\n" for name, value in fields.items() if value)
    return "".join(lines).encode("utf-8")


def _one_line(value: str) -> str:
    return " ".join(str(value).split())
