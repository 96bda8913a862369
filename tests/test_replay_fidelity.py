"""Acceptance: an archived article replays as the reader saw it, from the archive alone.

For the seed article of each seed outlet (the first article of ``fixtures/<outlet>/expected.json``, crawled into
the reading room's test archive, tests/reading_room.py), headless Chromium (Debian's, driven by Playwright) takes
three screenshots at the same viewport (1280x900, device scale 1, the full page):

- **live**: the page as the local outlet web serves it (Chromium uses it as its proxy; its throwaway certificate
  is accepted), stylesheets, images and fonts from whatever host the page names, CDN hosts included;
- **pywb**: its capture replayed by pywb (``wb-manager init/add`` of the crawl's WARCs, ``wayback``, unframed:
  the ``mp_`` URL ``/<coll>/<timestamp>mp_/<url>``, no frame, no banner);
- **ReplayWeb.page**: the same capture from the archive's WACZ package (``scrapy wacz``), served by
  :mod:`crawler.viewer`; once the service worker has loaded the collection, the replay URL
  ``/replay/w/<collection>/mp_/<url>`` is shown in a 1280-pixel-wide frame of a page of the viewer's origin
  (loaded as the top page, wabac.js's script leaves ``mp_`` for its non-frame URL, which only the app serves),
  the frame then sized to its document's height.

Replay gets no proxy, and every request to another host than the replay server (``127.0.0.1:<its port>``) is
aborted and recorded: what replay shows comes from the archive or not at all. Before each screenshot: the load
event, no network activity for 500 ms, every image loaded or failed (lazy ones made eager) and
``document.fonts.ready``.

Asserted, for each article and each replay tool: fewer than 1% of the pixels differ from the live screenshot, and
no request left the archive. A pixel differs when one of its channels differs by more than TOLERANCE (16 of 255:
the same browser renders the same bytes identically, so this only absorbs decoding and compositing noise, while
a missing stylesheet, image or font moves or changes far more than 1% of the page). Screenshots of different
heights are compared on the larger canvas, the missing part counting as differing.

The live, replayed and difference images (differing pixels in red over the faded replay) are kept in
``test-artifacts/fidelity/`` (git-ignored), with ``report.json``: per article and tool, the share of differing
pixels, the blocked requests and those that failed or were answered with an error.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.viewer import ASSETS, Viewer
from tests.conftest import REPO, SHARED, free_port, wait_for_port
from tests.localweb import FIXTURES, LocalWeb
from tests.reading_room import OUTLETS
from tests.test_browse import CHROMIUM_FLAGS

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts" / "fidelity"
VIEWPORT = {"width": 1280, "height": 900}
TOLERANCE = 16  # a channel difference (of 255) above which a pixel differs; see the module's docstring
LIMIT = 0.01  # the share of differing pixels allowed
COLLECTION = "fidelity"
#: the page of the viewer's origin that frames a replayed article (answered by the test, never by the viewer)
FRAME_PAGE = "/__fidelity__/frame.html"


def seed_articles() -> dict[str, str]:
    """Outlet -> its seed article: the first article its ``expected.json`` names."""
    return {outlet: json.loads((FIXTURES / outlet / "expected.json").read_text("utf-8"))["articles"][0]
            for outlet in OUTLETS}


ARTICLES = seed_articles()

#: Run in every frame before a screenshot: lazy images made eager, then every image loaded (or failed) and the
#: fonts ready.
SETTLE = """async () => {
  for (const image of document.images) { if (image.loading === "lazy") image.loading = "eager"; }
  await Promise.all([...document.images].filter(image => !image.complete).map(image => new Promise(done => {
    image.addEventListener("load", done); image.addEventListener("error", done); setTimeout(done, 10000);
  })));
  await document.fonts.ready;
  return document.fonts.size;
}"""


@dataclass
class Traffic:
    """What a browser context asked for: requests aborted (not to the allowed host), failed, answered >= 400."""

    allowed: str | None  # host:port; None: anything goes (the live page)
    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def route(self, route: Any) -> None:
        if self.allowed is None or urlsplit(route.request.url).netloc == self.allowed:
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort("blockedbyclient")

    def watch(self, page: Any) -> None:
        page.on("requestfailed", lambda request: self.failed.append(f"{request.url} ({request.failure})"))
        page.on("response", lambda response: response.status >= 400 and self.failed.append(
            f"{response.url} ({response.status})"))

    def since(self, mark: tuple[int, int]) -> tuple[list[str], list[str]]:
        return self.blocked[mark[0]:], [f for f in self.failed[mark[1]:] if "blockedbyclient" not in f]

    def mark(self) -> tuple[int, int]:
        return len(self.blocked), len(self.failed)


def settle(page: Any, frame: Any = None) -> None:
    """The load event, no network activity for 500 ms, then SETTLE in ``frame`` (the page's main frame)."""
    page.wait_for_load_state("load")
    page.wait_for_load_state("networkidle")
    (frame or page).evaluate(SETTLE)


def difference(live: Path, replay: Path, out: Path) -> float:
    """The share of pixels of ``replay`` that differ from ``live``; the difference image is written to ``out``."""
    from PIL import Image, ImageChops

    first, second = Image.open(live).convert("RGB"), Image.open(replay).convert("RGB")
    size = (max(first.width, second.width), max(first.height, second.height))
    canvases = []
    for image in (first, second):  # a part one screenshot lacks differs from anything but magenta
        canvas = Image.new("RGB", size, (255, 0, 255))
        canvas.paste(image, (0, 0))
        canvases.append(canvas)
    bands = ImageChops.difference(*canvases).split()
    mask = bands[0].point(lambda v: 255 if v > TOLERANCE else 0)
    for band in bands[1:]:
        mask = ImageChops.lighter(mask, band.point(lambda v: 255 if v > TOLERANCE else 0))
    differing = mask.histogram()[255]
    shown = Image.blend(canvases[1], Image.new("RGB", size, (255, 255, 255)), 0.7)
    shown.paste((255, 0, 0), (0, 0), mask)
    shown.save(out)
    return differing / (size[0] * size[1])


def record(outlet: str, tool: str, result: dict[str, Any]) -> None:
    report = ARTIFACTS / "report.json"
    results = json.loads(report.read_text("utf-8")) if report.exists() else {}
    results.setdefault(outlet, {})[tool] = result
    report.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", "utf-8")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium: `make test` installs it (make chromium)")
    if not SHARED.is_dir():
        pytest.skip(f"the shared seeds are absent ({SHARED} not found)")
    pytest.importorskip("PIL", reason="Pillow is installed by `make install` (pyproject.toml)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is installed by `make install`")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "report.json").unlink(missing_ok=True)
    flags = [flag for flag in CHROMIUM_FLAGS if flag != "--headless"]  # Playwright adds its own
    env = {name: value for name, value in os.environ.items() if name.lower() not in ("http_proxy", "https_proxy")}
    with sync_api.sync_playwright() as playwright:
        started = playwright.chromium.launch(executable_path=str(CHROMIUM), args=flags, headless=True, env=env)
        try:
            yield started
        finally:
            started.close()


@pytest.fixture(scope="module")
def live(browser: Any) -> dict[str, tuple[Path, list[str]]]:
    """Outlet -> the screenshot of its seed article served live by the local web, and the requests that failed."""
    shots = {}
    with LocalWeb(FIXTURES) as web:
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, ignore_https_errors=True,
                                      proxy={"server": web.proxy_url})
        try:
            traffic = Traffic(allowed=None)
            for outlet, url in ARTICLES.items():
                mark = traffic.mark()
                page = context.new_page()
                traffic.watch(page)
                page.goto(url)
                settle(page)
                shot = ARTIFACTS / f"{outlet}-live.png"
                page.screenshot(path=str(shot), full_page=True, animations="disabled", caret="hide")
                page.close()
                shots[outlet] = (shot, traffic.since(mark)[1])
        finally:
            context.close()
    return shots


@pytest.fixture(scope="module")
def pywb(browser: Any, pywb_bin: Path, reading_room_archive: Path,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any, Traffic]]:
    """pywb over the seed outlets' WARCs, unframed; yields its base URL and a browser context bound to it."""
    root = tmp_path_factory.mktemp("pywb")
    subprocess.run([pywb_bin / "wb-manager", "init", COLLECTION], cwd=root, check=True, capture_output=True)
    warcs = sorted(str(warc) for outlet in OUTLETS
                   for warc in (reading_room_archive / outlet / "warc").glob("*.warc.gz"))
    added = subprocess.run([pywb_bin / "wb-manager", "add", COLLECTION, *warcs], cwd=root, capture_output=True,
                           text=True)
    assert added.returncode == 0, added.stderr[-3000:]
    (root / "config.yaml").write_text("framed_replay: false\n", "utf-8")  # mp_ pages stay put, no banner
    port = free_port()
    with open(root / "wayback.log", "wb") as log:
        server = subprocess.Popen([pywb_bin / "wayback", "-b", "127.0.0.1", "-p", str(port)], cwd=root,
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port)
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)  # no proxy
        traffic = Traffic(allowed=f"127.0.0.1:{port}")
        context.route("**/*", traffic.route)
        try:
            yield f"http://127.0.0.1:{port}", context, traffic
        finally:
            context.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


@dataclass
class ReplayWebPage:
    viewer: Viewer
    context: Any
    traffic: Traffic
    prefix: str  # .../replay/w/<collection>/...: where the service worker replays the package


@pytest.fixture(scope="module")
def replaywebpage(browser: Any, reading_room_archive: Path,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayWebPage]:
    """The archive's WACZ package in ReplayWeb.page, its collection loaded by the service worker."""
    from playwright.sync_api import expect

    if not (ASSETS / "ui.js").exists() or not (ASSETS / "sw.js").exists():
        pytest.skip(f"needs ReplayWeb.page in {ASSETS}: `make test` downloads it (make replaywebpage)")
    package = tmp_path_factory.mktemp("wacz") / "archive.wacz"
    command = [sys.executable, "-m", "scrapy", "wacz", "-q", "-o", str(package), "-s",
               f"ARCHIVE_ROOT={reading_room_archive}"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with Viewer([package]) as viewer:
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)  # no proxy
        traffic = Traffic(allowed=f"127.0.0.1:{viewer.port}")
        context.route("**/*", traffic.route)
        try:
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(viewer.url)
            app = page.frame_locator("replay-web-page iframe")
            expect(app.locator("wr-page-entry").first).to_be_visible(timeout=30_000)
            app.locator("wr-page-entry a").first.click()  # any page: its replay frame's URL names the collection
            app.frame_locator("iframe[name=___wb_replay_top_frame]").locator("body").wait_for(timeout=30_000)
            frames = [frame.url for frame in page.frames if "/replay/w/" in frame.url]
            found = re.match(r"^(.*/replay/w/.+?/)\d*mp_/", frames[0]) if frames else None
            assert found, [frame.url for frame in page.frames]
            yield ReplayWebPage(viewer, context, traffic, found.group(1))
        finally:
            context.close()


def compare(outlet: str, tool: str, live: tuple[Path, list[str]], replay: Path, blocked: list[str],
            failed: list[str]) -> None:
    share = difference(live[0], replay, ARTIFACTS / f"{outlet}-{tool}-diff.png")
    record(outlet, tool, {"url": ARTICLES[outlet], "differing_pixels_percent": round(100 * share, 3),
                          "blocked": blocked, "failed": failed, "live_failed": live[1]})
    details = (f"{outlet} in {tool}: {100 * share:.2f}% of the pixels differ from the live page (limit "
               f"{100 * LIMIT:.0f}%; see {ARTIFACTS}); blocked: {blocked}; failed in replay: {failed}; "
               f"failed live: {live[1]}")
    assert not blocked, details
    assert share < LIMIT, details


@pytest.mark.parametrize("outlet", ARTICLES)
def test_pywb_replays_the_article_as_the_reader_saw_it(
        outlet: str, live: dict[str, tuple[Path, list[str]]], pywb: tuple[str, Any, Traffic]) -> None:
    base, context, traffic = pywb
    url = ARTICLES[outlet]
    mark = traffic.mark()
    page = context.new_page()
    traffic.watch(page)
    try:
        captures = [json.loads(line) for line in page.request.get(
            f"{base}/{COLLECTION}/cdx", params={"url": url, "output": "json"}).text().splitlines() if line.strip()]
        pages = [c["timestamp"] for c in captures if c.get("status") == "200" and "html" in c.get("mime", "")]
        assert pages, (url, captures)
        page.goto(f"{base}/{COLLECTION}/{pages[-1]}mp_/{url}")
        settle(page)
        shot = ARTIFACTS / f"{outlet}-pywb.png"
        page.screenshot(path=str(shot), full_page=True, animations="disabled", caret="hide")
    finally:
        page.close()
    compare(outlet, "pywb", live[outlet], shot, *traffic.since(mark))


@pytest.mark.parametrize("outlet", ARTICLES)
def test_replaywebpage_replays_the_article_as_the_reader_saw_it(
        outlet: str, live: dict[str, tuple[Path, list[str]]], replaywebpage: ReplayWebPage) -> None:
    replay = replaywebpage
    url = ARTICLES[outlet]
    frame_url = f"{replay.prefix}mp_/{url}"
    holder = (f'<!doctype html><html><head><style>html, body {{ margin: 0; }} iframe {{ display: block; border: 0; '
              f'width: {VIEWPORT["width"]}px; height: {VIEWPORT["height"]}px; }}</style></head><body>'
              f'<iframe id="replay" src="{frame_url}"></iframe></body></html>')
    mark = replay.traffic.mark()
    page = replay.context.new_page()
    replay.traffic.watch(page)
    page.route(f"{replay.viewer.base}{FRAME_PAGE}",
               lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=holder))
    try:
        page.goto(replay.viewer.base + FRAME_PAGE)
        frame = page.locator("#replay").element_handle().content_frame()
        assert frame is not None
        settle(page, frame)
        height = frame.evaluate("() => Math.max(document.documentElement.scrollHeight, "
                                "document.body ? document.body.scrollHeight : 0)")
        page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], height)})
        page.locator("#replay").evaluate("(frame, height) => { frame.style.height = height + 'px'; }", height)
        frame.evaluate(SETTLE)  # what the taller frame shows is loaded too
        shot = ARTIFACTS / f"{outlet}-replaywebpage.png"
        page.locator("#replay").screenshot(path=str(shot), animations="disabled", caret="hide")
        assert frame.url == frame_url or frame.url.startswith(replay.prefix), frame.url
    finally:
        page.close()
    compare(outlet, "replaywebpage", live[outlet], shot, *replay.traffic.since(mark))
