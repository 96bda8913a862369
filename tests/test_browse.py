"""`make browse`: headless Chromium shows an archived article, rendered by pywb from the archive alone."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from crawler.browse import WAYBACK, prepare
from tests.conftest import free_port, run_crawl, wait_for_port
from tests.localweb import FIXTURES, LocalWeb

ARTICLE = "https://www.ndtv.com/world-news/israel-asks-us-to-reschedule-scrapped-meeting-on-rafah-offensive-plans-5326000"
HEADLINE = "Israel Asks US To Reschedule Scrapped Meeting On Rafah Offensive Plans"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]



def test_chromium_renders_an_archived_article_through_pywb(tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None or not WAYBACK.exists():
        pytest.skip("needs Debian's chromium and pywb: `make test` installs both (make chromium pywb)")
    archive = tmp_path / "archive"
    with LocalWeb(FIXTURES) as web:
        assert run_crawl("ndtv", archive, web).returncode == 0
    folder, collections = prepare(archive)
    assert collections == ["ndtv"]
    port = free_port()
    wayback = subprocess.Popen([str(WAYBACK), "-b", "127.0.0.1", "-p", str(port)], cwd=folder,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        profile = tmp_path / "chromium-profile"
        shown = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=5000",
             "--dump-dom", f"http://127.0.0.1:{port}/ndtv/2026/{ARTICLE}"],
            capture_output=True, text=True, timeout=120,
        )
    finally:
        wayback.terminate()
        wayback.wait(timeout=10)
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert f">{HEADLINE}</h1>" in shown.stdout
    assert "wombat" in shown.stdout.lower(), "the page was not served through pywb's replay"
