"""Acceptance: a WACZ package of a real crawl opens in ReplayWeb.page, in a real headless browser.

ReplayWeb.page is the npm package (``make replaywebpage``: ``.replaywebpage/``), served from 127.0.0.1 with its
service worker by :mod:`crawler.viewer`; the browser is Debian's Chromium, driven by Playwright
(``executable_path``: no browser build is downloaded). The package holds the WARCs of the reading room's archive
(tests/reading_room.py: the seed outlets of the local outlet web), as ``scrapy wacz`` packages it.
ReplayWeb.page's own text search (its Pages list, which searches the ``text`` of ``pages.jsonl``) finds a phrase
of seed 001 in the Al Mayadeen article, and the article, opened from the result, is replayed from the WARC.
A screenshot of each step is kept in ``test-artifacts/replaywebpage/`` (git-ignored).
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.viewer import ASSETS, Viewer, ViewerError
from tests.conftest import REPO, SHARED
from tests.test_browse import CHROMIUM_FLAGS

CHROMIUM = Path("/usr/bin/chromium")
SEED = SHARED / "seeds" / "001_b54b54907a20df92.txt"
PHRASE = "send two senior Israeli officials to Washington"  # in the article's text, not in its title nor URL
TITLE = "Netanyahu sending delegation to White House for talks on Rafah attack"
URL = "https://english.almayadeen.net/news/politics/netanyahu-sending-delegation-to-white-house-for-talks-on-rafah-attack"
ARTIFACTS = REPO / "test-artifacts" / "replaywebpage"


def _package(archive: Path, out: Path) -> None:
    """The WACZ package ``out`` of ``archive``, by a real ``scrapy wacz`` process."""
    command = [sys.executable, "-m", "scrapy", "wacz", "-q", "-o", str(out), "-s", f"ARCHIVE_ROOT={archive}"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def viewer(reading_room_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Viewer]:
    if not (ASSETS / "ui.js").exists() or not (ASSETS / "sw.js").exists():
        pytest.skip(f"needs ReplayWeb.page in {ASSETS}: `make test` downloads it (make replaywebpage)")
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium: `make test` installs it (make chromium)")
    if not SEED.exists():
        pytest.skip(f"the seed files are absent ({SEED} not found)")
    pytest.importorskip("playwright.sync_api", reason="Playwright is installed by `make install` (pyproject.toml)")
    assert PHRASE in SEED.read_text("utf-8")
    package = tmp_path_factory.mktemp("wacz") / "archive.wacz"
    _package(reading_room_archive, package)
    with Viewer([package]) as started:
        yield started


def test_replaywebpage_finds_a_phrase_of_seed_001_and_replays_the_article(viewer: Viewer) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    flags = [flag for flag in CHROMIUM_FLAGS if flag != "--headless"]  # Playwright adds its own
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=flags, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            expect.set_options(timeout=30_000)

            # ReplayWeb.page's app runs in a frame of the <replay-web-page> element (shadow DOM: Playwright's CSS
            # selectors pierce it), under the service worker's scope; its list of pages comes first
            page.goto(viewer.url)
            app = page.frame_locator("replay-web-page iframe")
            search = app.locator("input[placeholder^='Search by Page']")
            expect(app.locator("wr-page-entry").first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "1-pages.png"))

            # the text search: nothing for a word no article has, the seed article for a phrase of its text
            search.fill("xylophonequartz")
            expect(app.get_by_text("No matching pages found")).to_be_visible()
            search.fill(PHRASE)
            entry = app.locator("wr-page-entry", has=app.locator(".page-url", has_text=URL))
            expect(entry).to_have_count(1)
            expect(entry.locator(".page-title")).to_contain_text(TITLE)
            snippet = entry.locator("div.text keyword-mark")  # the text around the phrase, shown when it has it
            expect(snippet).to_contain_text(PHRASE)
            page.screenshot(path=str(ARTIFACTS / "2-search.png"))

            # the article, opened from the result: replayed from the WARC in the app's replay frame
            entry.locator("a").first.click()
            replayed = app.frame_locator("iframe[name=___wb_replay_top_frame]")
            expect(replayed.locator("h1").first).to_have_text(TITLE)
            expect(replayed.get_by_text(PHRASE).first).to_be_visible()
            frames = [frame.url for frame in page.frames]
            assert any(f"{viewer.base}/replay/w/" in url and url.endswith(URL) for url in frames), frames
            page.screenshot(path=str(ARTIFACTS / "3-article.png"))
        finally:
            browser.close()


def test_the_viewer_serves_packages_by_range_and_nothing_else(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "ui.js").write_text("// ui\n")
    (assets / "sw.js").write_text("// sw\n")
    package = tmp_path / "a.wacz"
    data = bytes(range(256)) * 4
    package.write_bytes(data)
    (tmp_path / "secret.txt").write_text("no")

    def get(base: str, path: str, method: str = "GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(base + path, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, dict(answer.headers.items()), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers.items()), error.read()

    with Viewer([package], assets=assets) as viewer:
        base = viewer.base
        status, headers, body = get(base, "/packages/a.wacz")
        assert (status, body, headers["Accept-Ranges"]) == (200, data, "bytes")
        status, headers, body = get(base, "/packages/a.wacz", "HEAD")
        assert (status, body, headers["Content-Length"]) == (200, b"", str(len(data)))
        status, headers, body = get(base, "/packages/a.wacz", Range="bytes=10-19")
        assert (status, body, headers["Content-Range"]) == (206, data[10:20], f"bytes 10-19/{len(data)}")
        assert headers["Content-Length"] == "10"
        status, headers, body = get(base, "/packages/a.wacz", "HEAD", Range="bytes=10-19")
        assert (status, body, headers["Content-Range"], headers["Content-Length"]) == (
            206, b"", f"bytes 10-19/{len(data)}", "10")
        status, headers, body = get(base, "/packages/a.wacz", Range="bytes=1000-")
        assert (status, body, headers["Content-Range"]) == (206, data[1000:], f"bytes 1000-1023/{len(data)}")
        status, headers, body = get(base, "/packages/a.wacz", Range="bytes=-5")
        assert (status, body, headers["Content-Range"]) == (206, data[-5:], f"bytes 1019-1023/{len(data)}")
        status, headers, body = get(base, "/packages/a.wacz", Range="bytes=1020-5000")
        assert (status, body) == (206, data[1020:])
        status, headers, _ = get(base, "/packages/a.wacz", Range="bytes=1024-")
        assert (status, headers["Content-Range"]) == (416, f"bytes */{len(data)}")
        assert get(base, "/packages/a.wacz", Range="bytes=0-1,5-6")[0] == 200  # several ranges: the whole file
        assert get(base, "/replay/sw.js")[2] == b"// sw\n" and get(base, "/ui.js")[2] == b"// ui\n"
        page = get(base, "/")[2].decode()
        assert '<replay-web-page source="/packages/a.wacz?v=' in page and 'replayBase="/replay/"' in page
        assert '<script src="/ui.js">' in page
        assert get(base, "/packages/a.wacz?v=400-1")[2] == data
        for path in ("/packages/", "/packages/secret.txt", "/packages/../secret.txt", "/packages/%2e%2e/secret.txt",
                     "/secret.txt", "/a.wacz", "/replay/x.js", "/view/secret.txt", "/index.html/.."):
            assert get(base, path)[0] == 404, path


def test_the_viewer_says_what_to_run_when_replaywebpage_is_missing(tmp_path: Path) -> None:
    package = tmp_path / "a.wacz"
    package.write_bytes(b"PK")
    with pytest.raises(ViewerError, match="run `make replaywebpage`"):
        Viewer([package], assets=tmp_path / "absent")
