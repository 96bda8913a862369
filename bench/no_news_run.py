"""Benchmark: what a scheduled run costs when nothing is new, against the first run of the same outlet.

Crawls a generated outlet of N articles from the local web twice into one archive: the first run archives
everything; the second finds the sitemap unchanged (304) and every article already archived. Prints
requests, bytes written (WARCs, text files, catalog) and seconds for both, and the ratios. Target: a no-news
run writes less than 5% of the first run's bytes.

    .venv/bin/python bench/no_news_run.py [--articles 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import scrapy_command  # noqa: E402
from tests.localweb import LocalWeb  # noqa: E402
from tests.localweb.generate import write_bulk_site  # noqa: E402


def disk_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def run(web: LocalWeb, archive: Path, number: int) -> dict:
    summary = archive.parent / f"run-{number}.json"
    before = disk_bytes(archive) if archive.exists() else 0
    started = time.monotonic()
    settings = {"SPIDER_MODULES": "tests.outlets", "RUN_SUMMARY_FILE": str(summary), "LOG_LEVEL": "WARNING",
                "CONCURRENT_REQUESTS_PER_DOMAIN": "16"}
    subprocess.run(scrapy_command("bulk", archive, web.proxy_url, settings), cwd=REPO, check=True,
                   env={**os.environ, "PYTHONPATH": str(REPO)})
    stats = json.loads(summary.read_text())["stats"]
    return {"requests": stats.get("downloader/request_count", 0), "articles": stats.get("extraction/extracted", 0),
            "written": disk_bytes(archive) - before, "seconds": time.monotonic() - started,
            "not_modified": stats.get("discovery/not_modified", 0),
            "skipped": stats.get("incremental/already_archived", 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-nonews-") as tmp:
        root = Path(tmp)
        write_bulk_site(root / "site", args.articles)
        with LocalWeb(root / "site") as web:
            first = run(web, root / "archive", 1)
            second = run(web, root / "archive", 2)
    for name, result in (("first run", first), ("no-news run", second)):
        print(f"{name:12} requests {result['requests']:5}  new articles {result['articles']:5}  written "
              f"{result['written'] / 1e3:9.1f} kB  {result['seconds']:5.1f}s  (304s: {result['not_modified']}, "
              f"already archived: {result['skipped']})")
    ratio = second["written"] / first["written"]
    print(
        f"\nratios no-news/first: bytes {ratio:.4f}  requests {second['requests'] / first['requests']:.4f}  "
        f"seconds {second['seconds'] / first['seconds']:.2f}   "
        f"(target bytes < 0.05: {'met' if ratio < 0.05 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
