"""Acceptance: a reader's path through the reading room in a real headless browser.

Debian's Chromium, driven by Playwright (``executable_path``: no browser build is downloaded), over an archive
crawled from the local outlet web: search a phrase of seed 001 in the form, open the Al Mayadeen article and
read its text (it is seed 001, byte for byte), follow the link to the capture in pywb (which replays it), then
open the edited article and see its two versions and the diff. Screenshots are kept in
``test-artifacts/reading-room/`` (git-ignored).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.browse import WAYBACK, prepare
from tests.conftest import REPO, SHARED, free_port, wait_for_port
from tests.reading_room import EDITED_HEADLINE_PREFIX, EDITED_PARAGRAPH, ReadingRoom
from tests.test_browse import CHROMIUM_FLAGS

SEED = SHARED / "seeds" / "001_b54b54907a20df92.txt"
PHRASE = '"talks regarding a potential attack on Rafah"'
TITLE = "Netanyahu sending delegation to White House for talks on Rafah attack"
ARTIFACTS = REPO / "test-artifacts" / "reading-room"


@pytest.fixture(scope="module")
def servers(reading_room_archive: Path) -> Iterator[tuple[ReadingRoom, int]]:
    chromium = shutil.which("chromium")
    if chromium is None or not WAYBACK.exists():
        pytest.skip("needs Debian's chromium and pywb: `make test` installs both (make chromium pywb)")
    if not SEED.exists():
        pytest.skip(f"the seed files are absent ({SEED} not found)")
    pytest.importorskip("playwright.sync_api", reason="Playwright is installed by `make install` (pyproject.toml)")
    archive = reading_room_archive
    folder, collections = prepare(archive)
    assert "almayadeen" in collections
    pywb_port = free_port()
    pywb = subprocess.Popen([str(WAYBACK), "-b", "127.0.0.1", "-p", str(pywb_port)], cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        room = ReadingRoom(archive, settings={"READER_PYWB_URL": f"http://127.0.0.1:{pywb_port}"},
                           env={"NEWSARCHIVE_READER_TOKEN": ""})
        with room:
            wait_for_port(pywb_port)
            yield room, pywb_port
    finally:
        pywb.terminate()
        pywb.wait(10)


@pytest.mark.slow
def test_a_reader_searches_reads_the_seed_article_replays_it_and_sees_a_diff(
        servers: tuple[ReadingRoom, int], capsys: pytest.CaptureFixture) -> None:
    from playwright.sync_api import sync_playwright

    room, pywb_port = servers
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    flags = [flag for flag in CHROMIUM_FLAGS if flag != "--headless"]  # Playwright adds its own
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=flags, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)

            # search the phrase in the form
            page.goto(room.base + "/")
            page.fill("input[name=q]", PHRASE)
            page.click("form.search button[type=submit]")
            page.wait_for_url("**/search?q=*")
            results = page.locator("article.hit h3 a")
            assert results.all_text_contents() == [TITLE]
            assert page.locator("#summary").text_content().split()[0] == "1"
            marked = [text.lower() for text in page.locator("article.hit mark").all_text_contents()]
            assert marked == [PHRASE.strip('"').lower()]  # the phrase, highlighted in the snippet
            page.screenshot(path=str(ARTIFACTS / "1-search.png"), full_page=True)

            # the article: its text is seed 001
            results.first.click()
            page.wait_for_url("**/article/*")
            assert page.locator("h1#headline").text_content() == TITLE
            shown = page.locator("pre#article-text").text_content()
            # exact: the newline after <pre> is the one HTML drops, so nothing else is added or lost
            assert shown.encode() == SEED.read_bytes()
            page.screenshot(path=str(ARTIFACTS / "2-article.png"), full_page=True)

            # the capture in pywb, at its timestamp
            link = page.locator("a#pywb-link")
            href = link.get_attribute("href")
            assert href.startswith(f"http://127.0.0.1:{pywb_port}/almayadeen/") and href.endswith(
                "/netanyahu-sending-delegation-to-white-house-for-talks-on-rafah-attack")
            link.click()
            page.wait_for_url(f"http://127.0.0.1:{pywb_port}/**")
            page.wait_for_load_state("load")
            replayed = page.content()
            assert TITLE in page.locator("h1").first.text_content()
            assert "wombat" in replayed.lower(), "the page was not served through pywb's replay"
            page.screenshot(path=str(ARTIFACTS / "3-pywb.png"))

            # an edited article: two versions, and what changed
            page.goto(room.base + "/changes")
            page.locator("article.change h2 a").first.click()
            page.wait_for_url("**/article/*")
            assert page.locator("li.version").count() == 2
            diff = page.locator("li.version").first.locator("details.version-diff")
            assert diff.get_attribute("open") is not None  # the latest change is shown open
            assert diff.locator(".diff-field ins").first.text_content() == EDITED_HEADLINE_PREFIX
            assert diff.locator(".diff-field del").first.text_content() == "Dana Reyes"
            assert EDITED_PARAGRAPH in diff.locator(".line.add ins").all_text_contents()
            page.locator("#versions").scroll_into_view_if_needed()
            page.locator("#versions").screenshot(path=str(ARTIFACTS / "4-diff.png"))

            # a search across outlets: facets, the chart, the snippets (the README's picture)
            page.goto(room.base + "/search?q=rafah+OR+delegation")
            assert page.locator("article.hit").count() == 5 and page.locator("svg.chart").count() == 2
            page.screenshot(path=str(ARTIFACTS / "5-search-across-outlets.png"), full_page=True)
        finally:
            browser.close()
    with capsys.disabled():
        print(f"\nreading room screenshots: {ARTIFACTS}")
    assert "Traceback" not in room.output()
