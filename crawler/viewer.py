"""View WACZ packages in ReplayWeb.page, served from 127.0.0.1: ``python -m crawler.viewer FILE.wacz [...]``.

ReplayWeb.page runs in the browser: ``ui.js`` (the ``<replay-web-page>`` element) on the page, and ``sw.js``, a
service worker (wabac.js) that reads the WACZ by HTTP range requests and replays it. Both come from the npm
package, downloaded by ``make replaywebpage`` into ``.replaywebpage/``. A service worker needs a secure context,
which ``http://127.0.0.1`` is. What is served, and nothing else (no listing; anything else is a 404):

- ``/``: one package: its ``<replay-web-page>``; several: a list of links to them;
- ``/view/NAME.wacz``: the ``<replay-web-page>`` of one package;
- ``/ui.js``;
- ``/replay/sw.js``: the service worker; its scope is ``/replay/`` (the embed's ``replayBase``), where it serves
  the replay app itself (``/replay/`` and ``/replay/ui.js`` are served here too, as the worker serves them, for
  a frame loaded before the worker controls it);
- ``/packages/NAME.wacz``: the packages named on the command line, with range requests (206, ``Content-Range``;
  ``HEAD`` too); the pages above add ``?v=`` (the file's size and time) so that a package written anew is loaded
  anew, not taken from what the browser keeps of the previous one.

``Viewer`` is the same server in a background thread (``with Viewer([path]) as viewer: viewer.url``).
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
import threading
from collections.abc import Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent
ASSETS = REPO / ".replaywebpage"
REPLAY_BASE = "/replay/"
CHUNK = 1 << 16
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
#: The replay app's page: what the service worker serves at its scope (wabac.js, ``getIndexHtml``, with
#: ``serveIndex=1``): the frame can load before the worker controls it (it then claims the frame).
REPLAY_INDEX = (b'<!doctype html>\n<html>\n<head><script src="./ui.js"></script></head>\n'
                b"<body>\n<replay-app-main></replay-app-main>\n</body></html>\n")


class ViewerError(Exception):
    """A viewer that cannot start: ReplayWeb.page is absent, or a package is missing or named twice."""


def _page(title: str, body: str, head: str = "") -> bytes:
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n{head}</head>\n<body>\n{body}\n</body>\n</html>\n").encode()


def embed_page(name: str, path: Path) -> bytes:
    """The page that shows one package: ReplayWeb.page's element, the whole window, its list of pages first.

    The source URL carries the file's size and modification time: ReplayWeb.page keeps what it loaded of a
    package in the browser (IndexedDB, the Cache API) under its URL, so a package written anew under the same
    name must have a URL of its own, or the browser would show the one it loaded before.
    """
    try:
        stat = path.stat()
        version = f"{stat.st_size:x}-{stat.st_mtime_ns:x}"
    except OSError:  # gone since the viewer started: its URL answers 404
        version = "0"
    source = f"/packages/{quote(name)}?v={version}"
    head = ('<script src="/ui.js"></script>\n'
            "<style>html, body { height: 100%; margin: 0; } replay-web-page { height: 100vh; }</style>\n")
    body = (f'<replay-web-page source="{html.escape(source)}" replayBase="{REPLAY_BASE}" '
            f'view="pages" title="{html.escape(name)}"></replay-web-page>')
    return _page(f"{name} (ReplayWeb.page)", body, head)


def list_page(names: Iterable[str]) -> bytes:
    items = "\n".join(f'<li><a href="/view/{html.escape(quote(name))}">{html.escape(name)}</a></li>'
                      for name in names)
    return _page("WACZ packages", f"<h1>WACZ packages</h1>\n<ul>\n{items}\n</ul>")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The byte range ``(first, last)``, inclusive, that a ``Range`` header asks of a file of ``size`` bytes.

    ``None``: serve the whole file (no range, another unit, several ranges: RFC 9110 lets a server ignore them).
    Raises ``ValueError`` when the range cannot be satisfied (416).
    """
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # a suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise ValueError(header)
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise ValueError(header)
    return start, end


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "newsarchive-viewer"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._answer(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(body=False)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        if self.server.verbose:
            super().log_message(format, *args)

    def _answer(self, body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        packages = self.server.packages
        if path in ("/", "/index.html"):
            if len(packages) == 1:
                self._send(embed_page(*next(iter(packages.items()))), "text/html; charset=utf-8", body)
            else:
                self._send(list_page(packages), "text/html; charset=utf-8", body)
        elif path.startswith("/view/") and path.removeprefix("/view/") in packages:
            name = path.removeprefix("/view/")
            self._send(embed_page(name, packages[name]), "text/html; charset=utf-8", body)
        elif path in ("/ui.js", REPLAY_BASE + "ui.js"):
            self._file(self.server.assets / "ui.js", "text/javascript; charset=utf-8", body)
        elif path == REPLAY_BASE + "sw.js":
            self._file(self.server.assets / "sw.js", "text/javascript; charset=utf-8", body)
        elif path in (REPLAY_BASE, REPLAY_BASE + "index.html"):  # what the worker serves there, before it does
            self._send(REPLAY_INDEX, "text/html; charset=utf-8", body)
        elif path.startswith("/packages/") and path.removeprefix("/packages/") in packages:
            self._file(packages[path.removeprefix("/packages/")], "application/wacz", body, ranges=True)
        else:
            self._send(b"Not found\n", "text/plain; charset=utf-8", body, HTTPStatus.NOT_FOUND)

    def _send(self, content: bytes, content_type: str, body: bool, status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if body:
            self.wfile.write(content)

    def _file(self, path: Path, content_type: str, body: bool, ranges: bool = False) -> None:
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError:
            self._send(b"Not found\n", "text/plain; charset=utf-8", body, HTTPStatus.NOT_FOUND)
            return
        with handle:
            size = os.fstat(handle.fileno()).st_size
            status, first, last = HTTPStatus.OK, 0, size - 1
            if ranges and self.headers.get("Range"):
                try:
                    asked = parse_range(self.headers["Range"], size)
                except ValueError:
                    self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Accept-Ranges", "bytes")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if asked is not None:
                    status, (first, last) = HTTPStatus.PARTIAL_CONTENT, asked
            length = last - first + 1
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(length))
            self.send_header("Cache-Control", "no-cache")
            if ranges:
                self.send_header("Accept-Ranges", "bytes")
            if status == HTTPStatus.PARTIAL_CONTENT:
                self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
            self.end_headers()
            if not body:
                return
            handle.seek(first)
            try:
                while length > 0:
                    chunk = handle.read(min(CHUNK, length))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    length -= len(chunk)
            except (BrokenPipeError, ConnectionResetError):  # the browser stopped reading: it had what it needed
                self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], packages: dict[str, Path], assets: Path, verbose: bool) -> None:
        self.packages = packages
        self.assets = assets
        self.verbose = verbose
        super().__init__(address, _Handler)


def check_assets(assets: Path = ASSETS) -> None:
    """Raise :class:`ViewerError` unless ReplayWeb.page's ``ui.js`` and ``sw.js`` are in ``assets``."""
    missing = [name for name in ("ui.js", "sw.js") if not (assets / name).is_file()]
    if missing:
        raise ViewerError(f"ReplayWeb.page is not installed ({assets / missing[0]} not found): "
                          "run `make replaywebpage`")


def named_packages(paths: Iterable[Path]) -> dict[str, Path]:
    """The packages by file name (the name in their URL); each must exist and be named once."""
    packages: dict[str, Path] = {}
    for path in paths:
        path = Path(path).resolve()
        if not path.is_file():
            raise ViewerError(f"no such WACZ file: {path}")
        if path.name in packages:
            raise ViewerError(f"two packages are named {path.name}: {packages[path.name]} and {path}")
        packages[path.name] = path
    if not packages:
        raise ViewerError("no WACZ file given")
    return packages


class Viewer:
    """ReplayWeb.page for ``packages`` on ``http://127.0.0.1:port/`` (port 0: a free one), in a background thread.

    ``with Viewer([path]) as viewer:`` starts it; ``viewer.url`` is the page that shows the first package.
    """

    def __init__(self, packages: Iterable[Path], port: int = 0, host: str = "127.0.0.1", assets: Path = ASSETS,
                 verbose: bool = False) -> None:
        check_assets(assets)
        self.packages = named_packages(packages)
        self._server = _Server((host, port), self.packages, assets, verbose)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The page of the first package (of the list, when there are several)."""
        return self.base + "/" if len(self.packages) > 1 else self.view_url(next(iter(self.packages)))

    def view_url(self, name: str) -> str:
        return f"{self.base}/view/{quote(name)}"

    def start(self) -> Viewer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="wacz-viewer", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        self._server.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(10)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Viewer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packages", nargs="+", type=Path, metavar="FILE.wacz")
    parser.add_argument("--port", type=int, default=8090, help="on 127.0.0.1 (default 8090; 0: a free one)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument("--assets", type=Path, default=ASSETS,
                        help=f"ReplayWeb.page's ui.js and sw.js (default {ASSETS}, from `make replaywebpage`)")
    args = parser.parse_args(argv)
    try:
        viewer = Viewer(args.packages, port=args.port, assets=args.assets, verbose=args.verbose)
    except ViewerError as error:
        sys.exit(str(error))
    except OSError as error:
        sys.exit(f"cannot listen on 127.0.0.1:{args.port}: {error}")
    print(f"ReplayWeb.page: {viewer.url}", *(f"  {viewer.view_url(name)}" for name in viewer.packages)
          if len(viewer.packages) > 1 else (), "(Ctrl-C to stop)", sep="\n", flush=True)
    try:
        viewer.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        viewer.stop()


if __name__ == "__main__":
    main()
