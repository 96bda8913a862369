"""Crawling the local outlet web reproduces the seed files byte for byte (reconstructed pages)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED, run_crawl
from tests.localweb import LocalWeb

SEEDS = SHARED / "seeds"
ALMAYADEEN = "https://english.almayadeen.net/news/politics/netanyahu-sending-delegation-to-white-house-for-talks-on-rafah-attack"
NDTV = "https://www.ndtv.com/world-news/israel-asks-us-to-reschedule-scrapped-meeting-on-rafah-offensive-plans-5326000"


@pytest.fixture(scope="module")
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"the seed files are absent ({SEEDS} not found)")
    return SEEDS


@pytest.fixture(scope="module")
def archive(tmp_path_factory, local_web: LocalWeb) -> Path:
    root = tmp_path_factory.mktemp("archive")
    for outlet in ("almayadeen", "ndtv"):
        crawl = run_crawl(outlet, root, local_web)
        assert crawl.returncode == 0, crawl.log[-3000:]
    return root


def capture(archive: Path, outlet: str, url: str) -> tuple[str, str, dict]:
    items = [json.loads(line) for line in (archive / f"{outlet}-items.jsonl").read_text().splitlines()]
    [item] = [item for item in items if item["url"] == url]
    files = {kind: (archive / path) for kind, path in item["files"].items()}
    return (files["article_text"].read_text("utf-8"), files["page_text"].read_text("utf-8"),
            json.loads(files["metadata"].read_text("utf-8")))


def test_al_mayadeen_gives_seeds_000_and_001(archive: Path, seeds: Path) -> None:
    article, page, metadata = capture(archive, "almayadeen", ALMAYADEEN)
    assert article.encode() == (seeds / "001_b54b54907a20df92.txt").read_bytes()
    assert page.encode() == (seeds / "000_3101408eb45756c5.txt").read_bytes()
    assert metadata["byline"] == "Al Mayadeen English"
    assert metadata["source"] == "Axios"
    assert metadata["published"] == "2024-03-28T05:38:00+02:00"


def test_ndtv_gives_seed_003_credited_to_afp(archive: Path, seeds: Path) -> None:
    article, _, metadata = capture(archive, "ndtv", NDTV)
    assert article.encode() == (seeds / "003_9333b2d9991fb65b.txt").read_bytes()
    assert metadata["source"] == "AFP"


def test_sidecar_has_every_field(archive: Path) -> None:
    _, _, metadata = capture(archive, "almayadeen", ALMAYADEEN)
    for field in ("url", "canonical_url", "outlet", "title", "byline", "source", "published", "modified",
                  "fetched", "language", "section", "tags", "word_count", "provenance", "extractor",
                  "extractor_version"):
        assert metadata[field] not in (None, "", []), field
    assert set(metadata["provenance"]) == {"warc_file", "warc_offset", "warc_length", "record_id", "payload_digest"}
    assert metadata["outlet"] == "almayadeen" and metadata["fetched"].endswith("Z")


def test_a_warc_written_by_wget_replays_under_its_outlet(seeds: Path, local_web: LocalWeb, tmp_path: Path) -> None:
    """Another tool's WARC (``wget --warc-file``, no metadata of ours, HTTP/1.1 chunked as received) replays
    to the same seed texts, filed under the outlet whose allowed_domains cover the page's host."""
    wget = shutil.which("wget")
    if wget is None:
        pytest.skip("wget is not installed: run `make wget` (make test does)")
    env = {**os.environ, "https_proxy": local_web.proxy_url, "http_proxy": local_web.proxy_url}
    fetched = subprocess.run([wget, "--warc-file=almayadeen-by-wget", "--no-check-certificate", "-O", "/dev/null",
                              ALMAYADEEN], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert fetched.returncode == 0, fetched.stderr[-2000:]
    done = subprocess.run([sys.executable, "-m", "scrapy", "replay", str(tmp_path / "almayadeen-by-wget.warc.gz"),
                           "-o", str(tmp_path / "out"), "--stats", "-"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and json.loads(done.stdout)["extracted"] == 1, done.stderr[-2000:]
    [sidecar] = (tmp_path / "out").glob("*/text/*/*/*.json")
    assert sidecar.relative_to(tmp_path / "out").parts[0] == "almayadeen"
    metadata = json.loads(sidecar.read_text("utf-8"))
    assert metadata["outlet"] == "almayadeen" and metadata["source"] == "Axios"
    assert sidecar.with_suffix(".txt").read_bytes() == (seeds / "001_b54b54907a20df92.txt").read_bytes()
    page_text = sidecar.parent / metadata["files"]["page_text"]
    assert page_text.read_bytes() == (seeds / "000_3101408eb45756c5.txt").read_bytes()
