"""Archive every HTTP exchange of a crawl into WARC files.

Scrapy sends ``response_downloaded`` before any downloader middleware runs, so
the body seen here is the payload as received: still content-encoded, already
de-chunked. Each fetch becomes a ``response``, a ``request`` and a ``metadata``
record (how the URL was discovered), written together. The location of the
response record is left in ``request.meta["warc"]`` for the pipelines.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
import warcio
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.url import url_is_from_any_domain
from twisted.internet.task import LoopingCall
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date

from crawler import __version__
from crawler.incremental import SeenState
from pipelines.urls import url_key
from pipelines.catalog import catalog_url
from pipelines.output import remove_stale_partials
from pipelines.replay import OutletInfo, replay
from pipelines.warc_reader import Capture, read_archive
from crawler.warc.recovery import recover_open_files
from crawler.warc.writer import WarcFileWriter, record_builder, warc_host_label, worker_label

logger = logging.getLogger(__name__)

#: How often the seen-state batched since the last commit is committed (seconds).
COMMIT_EVERY = 0.5
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
        self.writers: dict[str, WarcFileWriter] = {}
        self.outlets: dict[str, Spider] = {}
        self.host_label = warc_host_label()
        self.builder = record_builder()
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)
        self.indexers: list[subprocess.Popen] = []
        # The seen-state of captures is committed in batches, every COMMIT_EVERY seconds: batching keeps the
        # crawl's catalog writes cheap, the timer keeps the write lock short for the other processes sharing
        # the catalog and lets them see every capture soon, even when no other capture follows (the crawl
        # idles, a frontier worker waits for the next round).
        self.seen_committer = LoopingCall(self._commit_all_seen)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcArchiver:
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        # A frontier worker serves many outlets and is one of many writers: its process id goes into the
        # host part of its file names, as in Heritrix's (<pid>~<host>).
        self.outlets = getattr(spider, "outlets", None) or {spider.name: spider}
        if hasattr(spider, "outlets"):
            self.host_label = worker_label()
        for outlet in self.outlets.values():
            self._recover(outlet)
        self.seen_committer.start(COMMIT_EVERY, now=False)

    def _recover(self, outlet: Spider) -> None:
        """Close the WARCs a killed crawl of ``outlet`` left open; extract what it archived but did not."""
        directory = self.root / outlet.name / "warc"
        directory.mkdir(parents=True, exist_ok=True)
        recovered = recover_open_files(directory)
        if recovered and (removed := remove_stale_partials(self.root / outlet.name / "text")):
            logger.info("Removed %d unfinished temporary text file(s) of an interrupted crawl", removed)
        for open_file, final, cut in recovered:
            self.crawler.stats.inc_value("warc/recovered_files")
            logger.warning(
                "Recovered %s left by an interrupted crawl: %s (%d trailing bytes dropped)",
                open_file.name,
                f"closed as {final.name}" if final else "no complete record, removed",
                cut,
            )
            if final is not None:
                self._index(final)
                self._mark_seen(final, outlet)
        if getattr(outlet, "seen", None) is not None:
            self._extract_missing(outlet, directory)

    def _writer(self, outlet: str) -> WarcFileWriter:
        if outlet not in self.writers:
            self.writers[outlet] = WarcFileWriter(
                self.root / outlet / "warc", outlet, self._warcinfo(outlet), max_size=self.max_size,
                on_close=self._index, host=self.host_label,
            )
        return self.writers[outlet]

    def _mark_seen(self, warc: Path, spider: Spider) -> None:
        """Put the articles of a recovered WARC in the seen-state (the crawl may have died first)."""
        seen: SeenState | None = getattr(spider, "seen", None)
        if seen is None:
            return
        for capture in read_archive(warc):
            if isinstance(capture, Capture) and capture.status == 200 and capture.fields.get("role") == "article":
                if seen.catalog.seen(spider.name, url_key(capture.uri)) is None:
                    location = {"record_id": capture.record_id, "payload_digest": capture.payload_digest,
                                "date": capture.date, "file": capture.file}
                    seen.fetched([capture.uri], location, unchanged=capture.kind == "revisit")

    def _extract_missing(self, spider: Spider, directory: Path) -> None:
        """Extract the articles a killed crawl archived but never got to extract (as a replay would)."""
        files = [directory / name for name in spider.seen.catalog.unextracted_files(spider.name)]
        files = [path for path in files if path.exists()]
        if not files:
            return
        outlets = {spider.name: OutletInfo(getattr(spider, "site_name", ""), spider.extraction_hints)}
        stats = replay(files, self.root, outlets, workers=1, catalog_url=catalog_url(self.crawler.settings))
        logger.warning("Extracted %d article(s) an interrupted crawl had archived but not extracted (%s)",
                       stats.extracted, ", ".join(path.name for path in files))

    def _index(self, warc: Path) -> None:
        """Index a closed WARC (CDXJ) for pywb and the offline re-crawl, in a process of its own.

        Indexing re-reads the whole file (up to WARC_MAX_SIZE): done here it would stall the crawl. An index
        that is never written (the crawl was killed) is made when needed (make browse, ARCHIVE_SOURCE).
        """
        command = [sys.executable, "-m", "crawler.warc.index", str(warc), str(warc.parent.parent / "indexes")]
        self.indexers.append(subprocess.Popen(command, cwd=Path(__file__).resolve().parents[3]))

    def engine_stopped(self) -> None:
        """Wait for the indexers, so a crawl that ends has its indexes."""
        for indexer in self.indexers:
            if indexer.wait() != 0:
                logger.error("Indexing failed (%s): run it again with %s", indexer.returncode, " ".join(indexer.args))

    def spider_closed(self, spider: Spider) -> None:
        if self.seen_committer.running:
            self.seen_committer.stop()
        for outlet, writer in self.writers.items():
            self._commit_seen(outlet)
            writer.close()
        self.crawler.stats.set_value("warc/files", sum(len(w.closed_files) for w in self.writers.values()))

    def _outlet_of(self, request: Request, spider: Spider) -> str:
        """The outlet a fetch belongs to: its request says so, else (robots.txt) the one whose domain it is."""
        if outlet := request.meta.get("outlet"):
            return outlet
        for name, candidate in self.outlets.items():
            if url_is_from_any_domain(request.url, getattr(candidate, "allowed_domains", None) or []):
                return name
        return spider.name

    def _seen(self, outlet: str) -> SeenState | None:
        return getattr(self.outlets.get(outlet), "seen", None)

    def _commit_all_seen(self) -> None:
        for outlet in self.outlets:
            try:
                self._commit_seen(outlet)
            except Exception:  # noqa: BLE001 - a busy catalog: the next tick tries again
                logger.warning("Could not commit the seen-state of %s yet", outlet, exc_info=True)

    def _commit_seen(self, outlet: str) -> None:
        """Commit the seen-state batched since the last commit (the captures of a still-open file)."""
        seen = self._seen(outlet)
        if seen is not None and not seen.closed:
            seen.commit()

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        if not self.outlets:
            return
        outlet = self._outlet_of(request, spider)
        writer = self._writer(outlet)
        latency = request.meta.get("download_latency") or 0.0
        fetched = datetime.fromtimestamp(time.time() - latency, timezone.utc)
        warc_date = datetime_to_iso_date(fetched.replace(tzinfo=None), use_micros=True)
        common = {"WARC-Date": warc_date}
        if response.ip_address is not None:
            common["WARC-IP-Address"] = str(response.ip_address)

        head = _response_head(response, request.meta.get("http_reason"))
        response_record = self.builder.create_warc_record(
            response.url,
            "response",
            payload=BytesIO(response.body),
            length=len(response.body),
            warc_headers_dict=dict(common),
            http_headers=head,
        )
        digest = response_record.rec_headers.get_header("WARC-Payload-Digest")
        previous = request.meta.get("previous_capture")
        unchanged = bool(previous) and response.status == 200 and digest == previous.get("payload_digest")
        if unchanged:
            # identical-payload-digest profile: the headers of this fetch, the payload by reference
            response_record = self.builder.create_revisit_record(
                response.url, digest, previous["url"], previous["date"], http_headers=head,
                warc_headers_dict={**common, "WARC-Refers-To": previous["record_id"]},
            )
        response_id = response_record.rec_headers.get_header("WARC-Record-ID")
        request_record = self.builder.create_warc_record(
            response.url,
            "request",
            payload=BytesIO(request.body),
            length=len(request.body),
            warc_headers_dict={**common, "WARC-Concurrent-To": response_id},
            http_headers=_request_head(request),
        )
        fields = _discovery_fields(request, latency)
        metadata_record = self.builder.create_warc_record(
            response.url,
            "metadata",
            payload=BytesIO(fields),
            length=len(fields),
            warc_headers_dict={
                "WARC-Date": warc_date,
                "WARC-Refers-To": response_id,
                "WARC-Concurrent-To": response_id,
            },
        )
        locations = writer.write([response_record, request_record, metadata_record], rotate=False)
        where = locations[0]
        request.meta["warc"] = {
            "file": where.filename,
            "offset": where.offset,
            "length": where.length,
            "record_id": response_id,
            "ordinal": where.ordinal,
            "date": warc_date,
            "payload_digest": digest,
            "status": response.status,
        }
        stats = self.crawler.stats
        if unchanged:
            request.meta["warc"]["revisit_of"] = previous["record_id"]
            stats.inc_value("warc/revisit_records")
        seen = self._seen(outlet)
        if seen is not None and response.status == 200 and (request.meta.get("discovery") or {}).get("role") == "article":
            urls = [*request.meta.get("redirect_urls", []), response.url]
            seen.fetched(urls, request.meta["warc"], unchanged, commit=False)
        if writer.full:
            self._commit_seen(outlet)  # a capture in a closed WARC is always in the seen-state
            writer.rotate_if_full()
        stats.inc_value("warc/records", 3)
        stats.inc_value("warc/bytes", sum(loc.length for loc in locations))
        stats.inc_value(f"warc/response_status_count/{response.status}")

    def _warcinfo(self, outlet: str) -> dict[str, str]:
        settings = self.crawler.settings
        return {
            "software": (
                f"newsarchive/{__version__} (Scrapy {scrapy.__version__}; warcio {warcio_version()})"
            ),
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": socket.gethostname(),
            "operator": settings.get("OPERATOR_CONTACT", ""),
            "isPartOf": outlet,
            "description": f"Crawl of outlet {outlet!r}",
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            "http-header-user-agent": settings.get("USER_AGENT", ""),
        }


def warcio_version() -> str:
    from importlib.metadata import version

    return version(warcio.__name__)


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


def _request_head(request: Request) -> StatusAndHeaders:
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
    return StatusAndHeaders(f"{request.method} {target} HTTP/1.1", headers, is_http_request=True)


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
        "fetchTimeMs": str(round(latency * 1000)),
    }
    lines = (f"{name}: {_one_line(value)}\r\n" for name, value in fields.items() if value)
    return "".join(lines).encode("utf-8")


def _one_line(value: str) -> str:
    return " ".join(str(value).split())
