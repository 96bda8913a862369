"""The local outlet web: fixture sites of the outlets, served for real on 127.0.0.1.

It is an HTTP proxy. Scrapy (with ``LOCAL_WEB_PROXY`` set) sends it plain
``GET http://host/...`` requests or ``CONNECT host:443`` tunnels, which it
answers with TLS under a throwaway certificate, so the crawler fetches the
outlets' real URLs through its real downloader and archives them under their
real names while no byte leaves the machine.

Sites live in ``<root>/<outlet>/web/<host>/<path>``: ``/`` and ``/x/`` map to
``index.html``, a path without extension to a file of that name (or its
folder's ``index.html``). An outlet's site can also be WARCs,
``<root>/<outlet>/*.warc.gz`` (as ``scrapy capture`` writes them, or as
``make fixtures`` records the site files): each URL is answered with its last
capture there (status, type, ``Location``, the decoded payload), where no file
answers it (``warcs=False``: files only). ``<root>/<outlet>/web.json`` adjusts single URLs::

    {"www.example.com/feed": {"content_type": "text/html", "encoding": "br",
                              "chunked": false, "status": 301, "reason": "Moved",
                              "headers": {"Location": "/new"}},
     "www.example.com/busy": {"sequence": [{"status": 429, "headers": {"Retry-After": "1"}}, {}]}}

Text is sent gzip-compressed when the client accepts it (``encoding`` picks
``br`` or ``identity`` instead; ``"precompressed": "gzip"`` sends a file that is
already encoded as it is) and HTML chunked, as real servers do. Faults, for the
reliability tests: ``"fault": "reset"`` (the connection is reset before any
answer), ``"stall": S`` (S seconds of silence first), ``"drip": S`` (the body in
``pieces`` parts, S seconds apart), ``"truncate": F`` (only the fraction F of the
body, under the full ``Content-Length``, then the connection closes). Files
carry an ``ETag`` and ``Last-Modified`` (their mtime) and a matching conditional
request gets ``304 Not Modified`` (``"no_validators": true`` turns that off for
a URL). Every body sent is kept in :attr:`LocalWeb.served` for tests to compare.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import logging
import mimetypes
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

import brotli
import trustme

from crawler.fixtures import fixture_warcs
from pipelines.capture import Capture
from pipelines.warc_reader import read_archive

logger = logging.getLogger(__name__)

#: The project's outlet fixtures (``settings.OUTLET_FIXTURES`` by default): ``fixtures/<outlet>/``.
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

_TYPES = {
    ".html": "text/html; charset=utf-8",
    "": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".gz": "application/x-gzip",
}


#: Settings for crawling the local web: no politeness delays, every dated link followed.
LOCAL_CRAWL_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "DISCOVERY_MAX_AGE_DAYS": "0",
    "RETRY_BACKOFF_BASE": "0.1",
}


@dataclass
class Served:
    """One answered request, as the tests see it."""

    method: str
    url: str
    status: int
    body: bytes  # as sent on the wire, after content-encoding, before chunking
    request_headers: dict[str, str]
    started: float
    finished: float = 0.0
    complete: bool = True  # False when the body was cut short (a fault, or the client hung up)


@dataclass
class LocalWeb:
    """A threaded proxy server on 127.0.0.1 serving the fixture sites under ``root`` (one folder or several)."""

    root: Path | list[Path] = FIXTURES
    latency: float = 0.0
    port: int = 0
    served: list[Served] = field(default_factory=list)
    warcs: bool = True  # False: serve the site files alone, not the fixture WARCs

    def __post_init__(self) -> None:
        roots = [Path(r) for r in self.root] if isinstance(self.root, (list, tuple)) else [Path(self.root)]
        self.sites: dict[str, list[Path]] = {}
        self.recorded: dict[str, Capture] = {}  # host/path[?query] -> the capture in a fixture WARC
        self.overrides: dict[str, dict[str, Any]] = {}
        self.modified: dict[str, float] = {}  # fixture WARC name -> its mtime (Last-Modified of its captures)
        for outlet in sorted(p for root in roots for p in root.iterdir() if p.is_dir()):
            for site in sorted((outlet / "web").glob("*")):
                if site.is_dir():
                    self.sites.setdefault(site.name.lower(), []).append(site)
            for warc in fixture_warcs(outlet) if self.warcs else []:
                self._load_warc(warc)
            manifest = outlet / "web.json"
            if manifest.exists():
                self.overrides.update(json.loads(manifest.read_text("utf-8")))
        self._lock = threading.Lock()
        self._hits: dict[str, int] = {}
        hosts = set(self.sites) | {key.split("/", 1)[0] for key in self.recorded}
        self._tls = _tls_context(sorted(hosts))
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.daemon_threads = True
        self._server.web = self  # type: ignore[attr-defined]
        self.port = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalWeb:
        self._thread = threading.Thread(target=self._server.serve_forever, name="localweb", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """GET ``url`` through this proxy, as a crawler would (a ``CONNECT`` tunnel for https).

        Returns the status, the headers (lower-case names) and the body as sent (still content-encoded,
        de-chunked). Redirects are not followed.
        """
        parts = urlsplit(url)
        headers = {"Accept-Encoding": "gzip, deflate", **(headers or {})}
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the throwaway certificate
            connection = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=context)
            connection.set_tunnel(parts.hostname or "", parts.port or 443)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        else:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            target = url
        try:
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            body = response.read()
            answer = {}
            for name, value in response.getheaders():
                name = name.lower()
                if name != "transfer-encoding":  # http.client has undone the chunking
                    answer[name] = f"{answer[name]}, {value}" if name in answer else value
            return response.status, answer, body
        finally:
            connection.close()

    def bodies(self) -> dict[str, bytes]:
        """Last body served per URL (``host/path``) with status 200."""
        with self._lock:
            return {s.url: s.body for s in self.served if s.status == 200}

    def record(self, served: Served) -> None:
        with self._lock:
            self.served.append(served)

    def override_for(self, key: str) -> dict[str, Any]:
        """The quirks for this request; a ``sequence`` gives one per request, the last repeating."""
        override = self.overrides.get(key, {})
        sequence = override.get("sequence")
        if not sequence:
            return override
        with self._lock:
            count = self._hits[key] = self._hits.get(key, 0) + 1
        return {**override, **sequence[min(count, len(sequence)) - 1]}

    def _load_warc(self, warc: Path) -> None:
        self.modified[warc.name] = warc.stat().st_mtime
        for capture in read_archive(warc):
            if isinstance(capture, Capture) and not capture.is_revisit and capture.status:
                parts = urlsplit(capture.url)
                query = f"?{parts.query}" if parts.query else ""
                key = f"{(parts.hostname or '').lower()}{parts.path or '/'}{query}"
                self.recorded[key] = capture

    def recording(self, host: str, path: str, query: str = "") -> Capture | None:
        """The capture a fixture WARC holds for this URL (with its query, else without)."""
        key = f"{host.lower()}{path or '/'}"
        return self.recorded.get(f"{key}?{query}" if query else key) or self.recorded.get(key)

    def body(self, url: str) -> bytes | None:
        """What a fixture file or WARC holds for ``url`` (decoded), or None."""
        parts = urlsplit(url)
        file = self.find(parts.hostname or "", parts.path or "/")
        if file is not None:
            return file.read_bytes()
        recorded = self.recording(parts.hostname or "", parts.path, parts.query)
        return _decoded(recorded) if recorded is not None else None

    def find(self, host: str, path: str) -> Path | None:
        relative = unquote(path).lstrip("/")
        if ".." in Path(relative).parts:
            return None
        for site in self.sites.get(host.lower(), []):
            candidate = site / relative if relative else site
            if candidate.is_dir():
                candidate = candidate / "index.html"
            if candidate.is_file():
                return candidate
        return None


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # the default of 5 drops connections when a crawl opens many at once


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "localweb/1"
    # headers and body go out in separate writes: with Nagle's algorithm a client reading one connection at a
    # time (wget) waits for the delayed ACK, 40 ms a response, as no real web server makes it wait
    disable_nagle_algorithm = True

    @property
    def web(self) -> LocalWeb:
        return self.server.web  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("%s " + format, self.address_string(), *args)

    def do_CONNECT(self) -> None:  # noqa: N802 - stdlib naming
        self.send_response(200, "Connection established")
        self.end_headers()
        try:
            tunnel = self.web._tls.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        _Handler(tunnel, self.client_address, self.server)
        self.close_connection = True

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve_or_record(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._serve_or_record(head=False)

    def _serve_or_record(self, head: bool) -> None:
        """Answer; a client that hangs up before the answer is out (a timeout) is logged as incomplete."""
        started = time.monotonic()
        try:
            self._serve(head, started)
        except OSError:
            self.close_connection = True
            self.web.record(
                Served(
                    self.command,
                    self._key(),
                    0,
                    b"",
                    dict(self.headers.items()),
                    started,
                    time.monotonic(),
                    complete=False,
                )
            )

    def _not_modified(self, validators: dict[str, str]) -> bool:
        """Whether the request's If-None-Match / If-Modified-Since say the client has this version."""
        match = self.headers.get("If-None-Match")
        if match is not None:
            return validators["ETag"] in [tag.strip() for tag in match.split(",")]
        since = self.headers.get("If-Modified-Since")
        return since is not None and _not_modified_since(since, validators["Last-Modified"])

    def _key(self) -> str:
        """The requested URL as ``host/path``."""
        return "".join(self._host_and_path(urlsplit(self.path)))

    def _host_and_path(self, parts: SplitResult) -> tuple[str, str]:
        return (parts.hostname or self.headers.get("Host", "").split(":")[0]).lower(), parts.path or "/"

    def _serve(self, head: bool, started: float) -> None:
        parts = urlsplit(self.path)
        host, path = self._host_and_path(parts)
        key = host + path
        if self.web.latency:
            time.sleep(self.web.latency)
        override = self.web.override_for(key)
        if override.get("fault") == "reset":
            self._reset()
            self.web.record(
                Served(self.command, key, 0, b"", dict(self.headers.items()), started, time.monotonic(), complete=False)
            )
            return
        if override.get("stall"):
            time.sleep(override["stall"])
        file = self.web.find(host, path)
        recorded = None if file else self.web.recording(host, path, parts.query)
        status = override.get("status", 200 if file else recorded.status if recorded else 404)
        body = b""
        if file and status == 200:
            body = file.read_bytes()
        elif recorded and status == recorded.status:
            body = _decoded(recorded)
        validators = {}
        if status == 200 and (file or recorded) and not override.get("no_validators"):
            modified = file.stat().st_mtime if file else self.web.modified[recorded.location.file]  # type: ignore
            validators = {
                "ETag": f'"{hashlib.sha1(body).hexdigest()[:16]}"',
                "Last-Modified": formatdate(modified, usegmt=True),
            }
            if self._not_modified(validators):
                status, body = 304, b""
        if not body and status == 404:
            body = b"<!doctype html><title>Not found</title><h1>Not found</h1>"
        content_type = override.get("content_type") or (
            _TYPES.get(file.suffix.lower(), mimetypes.guess_type(file.name)[0] or "application/octet-stream")
            if file
            else (recorded and recorded.headers.get("content-type")) or "text/html; charset=utf-8"
        )
        if file is not None and file.name == "robots.txt":
            content_type = override.get("content_type", "text/plain; charset=utf-8")
        accepted = self.headers.get("Accept-Encoding", "")
        encoding = override.get("encoding", "gzip")
        textual = not content_type.startswith("application/x-gzip")
        if override.get("precompressed"):
            encoding = override["precompressed"]
        elif encoding != "identity" and textual and body and encoding in accepted:
            body = gzip.compress(body, mtime=0) if encoding == "gzip" else brotli.compress(body)
        else:
            encoding = "identity"
        chunked = override.get("chunked", content_type.startswith("text/html")) and not (
            override.get("drip") or override.get("truncate")
        )

        self.send_response(status, override.get("reason") or (recorded.reason if recorded else None))
        for name, value in validators.items():
            self.send_header(name, value)
        if status == 304:
            self.end_headers()
            self.wfile.flush()
            self.web.record(
                Served(self.command, key, status, b"", dict(self.headers.items()), started, time.monotonic())
            )
            return
        self.send_header("Content-Type", content_type)
        if encoding != "identity":
            self.send_header("Content-Encoding", encoding)
            self.send_header("Vary", "Accept-Encoding")
        repeated = {"Location": recorded.headers["location"]} if recorded and "location" in recorded.headers else {}
        for name, value in {**repeated, **override.get("headers", {})}.items():
            self.send_header(name, value)
        if chunked and not head:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        complete = True
        try:
            if not head:
                complete = self._send_body(body, chunked, override)
            self.wfile.flush()
        except OSError:  # the client gave up (a timeout, a size cap): what it got is incomplete
            complete, self.close_connection = False, True
        self.web.record(
            Served(self.command, key, status, body, dict(self.headers.items()), started, time.monotonic(), complete)
        )

    def _send_body(self, body: bytes, chunked: bool, override: dict[str, Any]) -> bool:
        """Send ``body`` as the quirks say; False if it was deliberately cut short."""
        if override.get("truncate"):
            self.wfile.write(body[: int(len(body) * override["truncate"])])
            self.wfile.flush()
            self.close_connection = True
            return False
        if override.get("drip"):
            pieces = max(1, override.get("pieces", 8))
            size = -(-len(body) // pieces)
            for start in range(0, len(body), size):
                self.wfile.write(body[start : start + size])
                self.wfile.flush()
                time.sleep(override["drip"])
            return True
        if chunked:
            for start in range(0, len(body), 4096):
                piece = body[start : start + 4096]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)
        return True

    def _reset(self) -> None:
        """Drop the connection with a TCP reset (SO_LINGER 0), as a crashing server or middlebox does."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True


def _decoded(capture: Capture) -> bytes:
    """A recorded payload as the server sends it again (it encodes it as it does files)."""
    try:
        return capture.body()
    except ValueError:
        return capture.payload


def _not_modified_since(since: str, modified: str) -> bool:
    try:
        return parsedate_to_datetime(modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def _tls_context(hosts: list[str]) -> ssl.SSLContext:
    """A server context with a certificate for ``hosts`` from a throwaway CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("localhost", "127.0.0.1", *hosts).configure_cert(context)
    return context


def main() -> None:
    """``python -m tests.localweb``: serve the fixture sites until interrupted."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to wait before each answer")
    parser.add_argument("--root", type=Path, default=FIXTURES)
    args = parser.parse_args()
    web = LocalWeb(args.root, latency=args.latency, port=args.port).start()
    print(f"Local outlet web on {web.proxy_url} serving {len(web.sites)} hosts; use -s LOCAL_WEB_PROXY={web.proxy_url}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        web.stop()
