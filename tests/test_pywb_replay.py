"""pywb (from its own virtual environment, `make pywb`) indexes our WARCs and replays what was archived."""

from __future__ import annotations

import gzip
import subprocess
import urllib.request
from pathlib import Path

from tests.conftest import free_port, run_crawl, wait_for_port
from tests.localweb import LocalWeb
from tests.localweb.generate import BULK_HOST, write_bulk_site


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=20) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_pywb_indexes_and_replays_our_warcs(pywb_bin: Path, tmp_path: Path) -> None:
    site, archive, pywb_root = tmp_path / "site", tmp_path / "archive", tmp_path / "pywb"
    urls = write_bulk_site(site, 5)
    with LocalWeb(site) as web:
        crawl = run_crawl("bulk", archive, web, {"SPIDER_MODULES": "tests.outlets"})
        served = web.bodies()
    assert crawl.returncode == 0, crawl.log[-2000:]
    pywb_root.mkdir()
    subprocess.run([pywb_bin / "wb-manager", "init", "bulk"], cwd=pywb_root, check=True, capture_output=True)
    added = subprocess.run(
        [pywb_bin / "wb-manager", "add", "bulk", *map(str, crawl.warcs("bulk"))],
        cwd=pywb_root, capture_output=True, text=True,
    )
    assert added.returncode == 0, added.stderr

    port = free_port()
    server = subprocess.Popen(
        [pywb_bin / "wayback", "-b", "127.0.0.1", "-p", str(port)], cwd=pywb_root,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}/bulk"
        wait_for_port(port)
        status, index = fetch(f"{base}/cdx?url={BULK_HOST}/news/*&output=json")
        assert status == 200
        assert index.count(b'"status": "200"') == len(urls)
        for url in urls:
            status, body = fetch(f"{base}/2026id_/{url}")
            assert status == 200
            assert body == gzip.decompress(served[url.split("://", 1)[1]])
        status, page = fetch(f"{base}/2026mp_/{urls[0]}")  # replayed with pywb's rewriting
        original = gzip.decompress(served[urls[0].split("://", 1)[1]])
        headline = original.split(b"<h1>", 1)[1].split(b"</h1>", 1)[0]
        assert status == 200 and b"wombat" in page and b"<h1>" + headline + b"</h1>" in page
    finally:
        server.terminate()
        server.wait(timeout=10)
