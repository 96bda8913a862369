"""Offline replay: the archive alone gives back what the crawl wrote, and damaged archives cost only their damage."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.capture import Capture
from pipelines.payload import dechunk, decode_payload
from pipelines.warc_reader import Damage, read_archive
from tests.archive_contents import catalog_tables as tables
from tests.archive_contents import tree
from tests.conftest import REPO, run_crawl
from tests.localweb import FIXTURES, LOCAL_CRAWL_SETTINGS, LocalWeb
from tests.test_outlet_registry import OUTLETS


def run_replay(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", "replay", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_replay_reproduces_the_crawl_byte_for_byte(tmp_path: Path) -> None:
    """Every outlet crawled (``scrapy crawlall``, 4 at once), then its texts and catalog deleted: replay writes
    the same files, byte for byte, and the same catalog rows (see tests/test_rebuild.py)."""
    archive = tmp_path / "archive"
    with LocalWeb(FIXTURES) as web:
        settings = {**LOCAL_CRAWL_SETTINGS, "LOCAL_WEB_PROXY": web.proxy_url, "ARCHIVE_ROOT": str(archive)}
        crawled = subprocess.run([sys.executable, "-m", "scrapy", "crawlall", "--jobs", "4",
                                  *(f"-s{name}={value}" for name, value in settings.items())],
                                 cwd=REPO, capture_output=True, text=True, timeout=600)
    assert crawled.returncode == 0, crawled.stdout[-3000:] + crawled.stderr[-3000:]
    assert all(f"  {outlet}: ok" in crawled.stdout for outlet in OUTLETS), crawled.stdout
    written = tree(archive)
    assert sum(name.endswith(".json") for name in written) >= 30
    for folder in archive.glob("*/text"):
        shutil.rmtree(folder)
    (archive / "catalog.sqlite").rename(tmp_path / "crawled.sqlite")
    stats_file = tmp_path / "stats.json"
    done = run_replay(str(archive), "-o", str(archive), "--stats", str(stats_file))
    assert done.returncode == 0, done.stderr[-3000:]
    assert tree(archive) == written
    stats = json.loads(stats_file.read_text())
    assert stats["extracted"] == sum(name.endswith(".json") for name in written)
    assert stats["damaged_count"] == 0 and stats["skipped"]["role-discovery"] > 0
    assert tables(str(archive / "catalog.sqlite")) == tables(str(tmp_path / "crawled.sqlite"))


@pytest.fixture(scope="module")
def samples(shared_corpora: Path) -> Path:
    return shared_corpora / "warc-samples"


def test_every_sample_file_is_read_without_a_crash(samples: Path, tmp_path: Path) -> None:
    every_file = [str(p) for p in sorted(samples.rglob("*"))
                  if p.is_file() and p.name not in {"SOURCE.md", "inventory.json"} and not p.name.startswith("LICENSE")]
    assert len(every_file) >= 69
    stats_file = tmp_path / "stats.json"
    done = run_replay(*every_file, "-o", str(tmp_path / "out"), "--stats", str(stats_file), "--workers", "2")
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == 1, "damaged samples must give a non-zero exit status"
    stats = json.loads(stats_file.read_text())
    damaged = {(d["file"], d["offset"]) for d in stats["damaged"] if not d["used"]}
    files = {name for name, _ in damaged}
    for expected in ("example-trunc.warc", "clipped.warc.gz", "double-single-inflate-error.gz"):
        assert expected in files, f"{expected} damage not reported"
    assert stats["extracted"] > 0 and stats["captures"] > 300
    assert "DAMAGED: example-trunc.warc at offset" in done.stderr


def captures(path: Path) -> list[Capture]:
    return [item for item in read_archive(path) if isinstance(item, Capture)]


def test_intact_records_around_damage_are_used(samples: Path) -> None:
    items = list(read_archive(samples / "warcio" / "example-bad-non-chunked.warc.gz"))
    assert any(isinstance(i, Damage) and "one gzip member" in i.error and i.used for i in items)
    assert sum(isinstance(i, Capture) for i in items) >= 1
    iana = captures(samples / "pywb" / "warcs" / "iana.warc.gz")
    assert len(iana) == 171 and all(c.status for c in iana)


def test_payload_decoding(samples: Path) -> None:
    for name in (
        "transfer_compression_brotli.warc",
        "transfer_compression_gzip.warc",
        "transfer_compression_none.warc",
    ):
        [capture] = captures(samples / "webarchive-discovery" / "compression" / name)
        body = decode_payload(capture.payload, capture.headers)
        assert b"<html" in body.lower() or b"<!doctype" in body.lower()
    [chunked] = captures(samples / "warcio" / "example-iana.org-chunked.warc")
    assert b"</html>" in decode_payload(chunked.payload, chunked.headers).lower()
    assert dechunk(b"4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n") == b"Wikipedia"
    assert dechunk(b"not chunked at all") == b"not chunked at all"
    with pytest.raises(ValueError):
        decode_payload(b"\x1f\x8b garbage", {"content-encoding": "gzip"})


def test_revisit_resolved_to_an_earlier_file(samples: Path, tmp_path: Path) -> None:
    warcs = samples / "pywb" / "warcs"
    pair = tmp_path / "pair"
    pair.mkdir()
    for name in ("example-url-agnostic-orig.warc.gz", "example-url-agnostic-revisit.warc.gz"):
        shutil.copy(warcs / name, pair / name)
    done = run_replay(str(pair), "-o", str(tmp_path / "out"), "--stats", "-", "--workers", "1")
    stats = json.loads(done.stdout)
    assert stats["captures"] == 2 and "revisit-unresolved" not in stats["skipped"]


def test_offline_recrawl_from_the_archive(tmp_path: Path) -> None:
    """The outlet's own spider, run against the archive with no network, finds and writes the same."""
    original, again = tmp_path / "original", tmp_path / "again"
    with LocalWeb(FIXTURES) as web:
        crawl = run_crawl("ndtv", original, web)
    assert crawl.returncode == 0 and crawl.items
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "ndtv",
            "-s",
            f"ARCHIVE_SOURCE={original}",
            "-s",
            f"ARCHIVE_ROOT={again}",
            "-s",
            "DISCOVERY_MAX_AGE_DAYS=0",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "'archive_source/hit'" in done.stderr and "DNS lookup failed" not in done.stderr
    assert not list(again.rglob("*.warc.gz")), "an offline re-crawl writes no WARC"
    assert tree(again) == tree(original)


def test_a_200_mb_warc_streams_through_replay(tmp_path: Path) -> None:
    """A WARC far larger than any record streams through (its peak memory is measured in bench/replay_speed.py)."""
    from tests.localweb.generate import BULK_HOST, article_html, write_warc

    pages = [(f"https://{BULK_HOST}/news/story-{n}", article_html(n).encode()) for n in range(40)]
    warc = write_warc(tmp_path / "warc", "bulk", pages, filler_bytes=200 * 1024 * 1024)
    assert warc.stat().st_size >= 200 * 1024 * 1024
    stats_file = tmp_path / "stats.json"
    done = run_replay(str(warc), "-o", str(tmp_path / "out"), "--stats", str(stats_file))
    assert done.returncode == 0, done.stderr[-2000:]
    stats = json.loads(stats_file.read_text())
    assert stats["extracted"] == 40 and stats["skipped"] == {"role-discovery": 200}
