"""pywb (from its own virtual environment, `make pywb`) indexes our WARCs and replays what was archived."""

from __future__ import annotations

import gzip
import json
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import free_port, run_crawl, wait_for_port
from tests.localweb import LocalWeb
from tests.localweb.generate import BULK_HOST, STATIC_HOST, write_bulk_site, write_styled_site
from tests.warc_reading import warcio_check


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=20) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@contextmanager
def wayback(pywb_bin: Path, pywb_root: Path, collection: str) -> Iterator[str]:
    """pywb's server over the collections in ``pywb_root``, while the block runs: the collection's base URL."""
    port = free_port()
    server = subprocess.Popen([pywb_bin / "wayback", "-b", "127.0.0.1", "-p", str(port)], cwd=pywb_root,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}/{collection}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def plain(body: bytes) -> bytes:
    return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body


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

    with wayback(pywb_bin, pywb_root, "bulk") as base:
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


def test_pywb_replays_unchanged_requisites_as_the_captures_revisits_name(pywb_bin: Path, tmp_path: Path) -> None:
    """A requisite looked at again is a revisit record: server-not-modified (a 304, its block empty) or
    identical-payload-digest (a server that ignores validators). pywb serves either as the capture it names."""
    site, archive, pywb_root = tmp_path / "site", tmp_path / "archive", tmp_path / "pywb"
    write_styled_site(site, 2)
    settings = {"SPIDER_MODULES": "tests.outlets", "REQUISITE_REFRESH": "0"}
    stylesheet, logo = f"https://{STATIC_HOST}/css/site.css", f"https://{STATIC_HOST}/img/logo.svg"
    with LocalWeb(site) as web:
        assert run_crawl("bulk", archive, web, settings).returncode == 0
        write_styled_site(site, 1, first=2)
        web.overrides[f"{STATIC_HOST}/img/logo.svg"] = {"no_validators": True}
        later = run_crawl("bulk", archive, web, settings)
        original = {url: web.fetch(url)[2] for url in (stylesheet, logo)}
    assert later.returncode == 0, later.log[-2000:]
    assert all(warcio_check(path).returncode == 0 for path in later.warcs("bulk"))
    pywb_root.mkdir()
    subprocess.run([pywb_bin / "wb-manager", "init", "bulk"], cwd=pywb_root, check=True, capture_output=True)
    subprocess.run([pywb_bin / "wb-manager", "add", "bulk", *map(str, later.warcs("bulk"))], cwd=pywb_root,
                   check=True, capture_output=True)
    with wayback(pywb_bin, pywb_root, "bulk") as base:
        for url, profile in ((stylesheet, "server-not-modified"), (logo, "identical-payload-digest")):
            status, index = fetch(f"{base}/cdx?url={url}&output=json")
            captures = [json.loads(line) for line in index.decode().splitlines()]
            assert status == 200 and [c["mime"] for c in captures][-1] == "warc/revisit", captures
            status, body = fetch(f"{base}/{captures[-1]['timestamp']}id_/{url}")  # the revisit's moment
            assert (status, plain(body)) == (200, plain(original[url])), profile
