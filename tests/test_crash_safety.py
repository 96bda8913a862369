"""A crawl SIGKILLed while writing leaves valid closed files, a readable ``.open`` file, and a clean restart."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.warc.recovery import complete_fetches_length
from tests.conftest import REPO, run_crawl, scrapy_command
from tests.localweb import LocalWeb
from tests.localweb.generate import write_bulk_site
from tests.warc_reading import read_records, warcio_check

SETTINGS = {"SPIDER_MODULES": "tests.outlets", "WARC_MAX_SIZE": "60000", "LOG_LEVEL": "INFO"}


def readable_records(path: Path) -> int:
    """How many records warcio reads from ``path`` before it runs into the torn end (if any)."""
    count = 0
    with open(path, "rb") as fh:
        try:
            for record in ArchiveIterator(fh):
                record.raw_stream.read()
                count += 1
        except Exception:  # noqa: BLE001 - a torn tail may fail in any way; what came before counts
            pass
    return count


@pytest.mark.slow
def test_sigkill_mid_crawl_then_restart(tmp_path: Path) -> None:
    site, archive = tmp_path / "site", tmp_path / "archive"
    urls = write_bulk_site(site, 300)
    warc_dir = archive / "bulk" / "warc"
    with LocalWeb(site, latency=0.01) as web:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        crawl = subprocess.Popen(
            scrapy_command("bulk", archive, web.proxy_url, SETTINGS), cwd=REPO, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(list(warc_dir.glob("*.warc.gz"))) >= 2 and list(warc_dir.glob("*.open")):
                break
            time.sleep(0.02)
        crawl.send_signal(signal.SIGKILL)
        crawl.wait()
        assert crawl.returncode == -signal.SIGKILL

        closed = sorted(warc_dir.glob("*.warc.gz"))
        [open_file] = warc_dir.glob("*.open")
        assert len(closed) >= 2
        for path in closed:
            assert warcio_check(path).returncode == 0, path
        # the .open file reads up to its last whole fetch, and only a torn fetch may follow it
        complete = complete_fetches_length(open(open_file, "rb"))
        assert complete > 0
        cut = tmp_path / "cut.warc.gz"
        cut.write_bytes(open_file.read_bytes()[:complete])
        assert warcio_check(cut).returncode == 0
        complete_records = len(read_records(cut))
        assert complete_records >= 1 and readable_records(open_file) >= complete_records
        shutil.copy(open_file, tmp_path / "killed.open")
        # a text file the killed crawl was writing when it died (hidden, never at its final name)
        orphan = archive / "bulk" / "text" / "2026-11-22" / "000000-00000" / ".001_0123456789abcdef.txt.x1.part"
        orphan.parent.mkdir(parents=True, exist_ok=True)
        orphan.write_text("half an artic")
        os.utime(orphan, (time.time() - 3600, time.time() - 3600))

        again = run_crawl("bulk", archive, web, SETTINGS)
    assert again.returncode == 0, again.log[-3000:]
    assert f"Recovered {open_file.name}" in again.log
    assert not list(warc_dir.glob("*.open"))
    assert not orphan.exists() and "Removed 1 unfinished temporary text file(s)" in again.log
    archived: Counter[str] = Counter()
    for path in sorted(warc_dir.glob("*.warc.gz")):
        assert warcio_check(path).returncode == 0, path
        archived.update(r.uri for r in read_records(path) if r.type == "response" and r.status == 200)
    assert {url: archived[url] for url in urls} == {url: 1 for url in urls}, "each article archived exactly once"
    texts = list((archive / "bulk" / "text").rglob("*.json"))
    assert len(texts) == len(urls), "every archived article extracted, the interrupted ones included"
