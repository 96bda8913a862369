"""pywb (its own virtual environment, `make pywb`) imports a package written by ``scrapy wacz`` and replays it.

The archive comes from two real crawls of the generated bulk outlet (the second finds three new articles, so
the archive holds two WARC files); ``scrapy wacz`` packages it as a real process. pywb 2.10 imports a WACZ
only with ``wb-manager add --unpack-wacz`` (without it: "Adding waczs without unpacking is not yet
implemented", exit 2): it copies each WARC of the package into the collection as ``<package name>-<n>.warc.gz``
and merges the package's own CDXJ index into the collection's, renaming the files it names; it does not index
the WARCs again. So this also checks that py-wacz's index, as ``scrapy wacz`` has it written, finds every
article's record.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO, run_crawl
from tests.localweb import LocalWeb
from tests.localweb.generate import BULK_HOST, write_bulk_site
from tests.test_pywb_replay import fetch, wayback

BULK = {"SPIDER_MODULES": "tests.outlets"}


def scrapy_wacz(archive: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "scrapy", "wacz", *args, "-s", f"ARCHIVE_ROOT={archive}"]
    for name, value in BULK.items():
        command += ["-s", f"{name}={value}"]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, env=env)


def test_pywb_imports_our_wacz_and_replays_its_articles(pywb_bin: Path, tmp_path: Path) -> None:
    site, archive, pywb_root = tmp_path / "site", tmp_path / "archive", tmp_path / "pywb"
    served: dict[str, bytes] = {}
    for articles in (5, 8):  # the second crawl archives story-5..7 in a WARC of its own
        urls = write_bulk_site(site, articles)
        with LocalWeb(site) as web:
            crawl = run_crawl("bulk", archive, web, BULK)
            served.update(web.bodies())
        assert crawl.returncode == 0, crawl.log[-2000:]
    warcs = crawl.warcs("bulk")
    assert len(warcs) == 2, warcs

    package = tmp_path / "share" / "bulk-news.wacz"
    package.parent.mkdir()
    done = scrapy_wacz(archive, "bulk", "-o", str(package), "-q")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert f"Wrote {package}: 8 articles, 2 WARC file(s)" in done.stdout, done.stdout
    with zipfile.ZipFile(package) as wacz:
        assert sorted(name for name in wacz.namelist() if name.startswith("archive/")) == sorted(
            f"archive/{warc.name}" for warc in warcs)
        listed = [json.loads(line) for line in wacz.read("pages/pages.jsonl").splitlines()[1:]]
    assert sorted(page["url"] for page in listed) == sorted(urls)

    pywb_root.mkdir()
    subprocess.run([pywb_bin / "wb-manager", "init", "news"], cwd=pywb_root, check=True, capture_output=True)
    added = subprocess.run([pywb_bin / "wb-manager", "add", "--unpack-wacz", "news", str(package)],
                           cwd=pywb_root, capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    copied = sorted(path.name for path in (pywb_root / "collections" / "news" / "archive").iterdir())
    assert copied == ["bulk-news-0.warc.gz", "bulk-news-1.warc.gz"], copied  # renamed after the package

    with wayback(pywb_bin, pywb_root, "news") as base:
        status, index = fetch(f"{base}/cdx?url={BULK_HOST}/news/*&output=json")
        assert status == 200, index[:2000]
        rows = [json.loads(line) for line in index.splitlines() if line.strip()]
        by_url = {row["url"]: row for row in rows if row["status"] == "200"}
        assert sorted(by_url) == sorted(urls), index[:3000]
        assert {by_url[url]["filename"] for url in urls} == set(copied)
        for url in urls:
            original = gzip.decompress(served[url.split("://", 1)[1]])
            status, body = fetch(f"{base}/{by_url[url]['timestamp']}id_/{url}")  # the archived bytes, unrewritten
            assert status == 200, (url, body[:500])
            assert body == original, url
        url = urls[-1]  # from the second WARC
        original = gzip.decompress(served[url.split("://", 1)[1]])
        headline = original.split(b"<h1>", 1)[1].split(b"</h1>", 1)[0]
        status, page = fetch(f"{base}/{by_url[url]['timestamp']}mp_/{url}")  # replayed with pywb's rewriting
        assert status == 200 and b"wombat" in page and b"<h1>" + headline + b"</h1>" in page, page[:2000]
