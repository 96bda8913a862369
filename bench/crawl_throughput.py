"""Benchmark: what WARC archiving costs a crawl.

Crawls N generated article pages (default 2,000) from the local outlet web
with WARC writing off and on, alternating, several rounds, in one run, and
prints pages/s for each and the ratio. Crawl time is Scrapy's own
``elapsed_time_seconds`` (process start-up excluded). Target: archiving costs
at most 10% of throughput (ratio >= 0.90).

    .venv/bin/python bench/crawl_throughput.py [--pages 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import scrapy_command  # noqa: E402
from tests.localweb import LocalWeb  # noqa: E402
from tests.localweb.generate import write_bulk_site  # noqa: E402

FAST = {
    "SPIDER_MODULES": "tests.outlets",
    "CONCURRENT_REQUESTS": "32",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
    "LOG_LEVEL": "WARNING",
    "ITEM_PIPELINES": "{}",  # what is measured is fetching and archiving, not extraction
    "INCREMENTAL": os.environ.get("BENCH_INCREMENTAL", "True"),
}


def crawl(web: LocalWeb, workdir: Path, warc: bool, pages: int) -> dict:
    archive = Path(tempfile.mkdtemp(dir=workdir))
    summary = archive / "summary.json"
    settings = {**FAST, "WARC_ENABLED": str(warc), "RUN_SUMMARY_FILE": str(summary)}
    subprocess.run(
        scrapy_command("bulk", archive, web.proxy_url, settings),
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True,
    )
    stats = json.loads(summary.read_text())["stats"]
    assert stats.get("articles/archived") == pages, stats  # every page fetched and handed on
    return {
        "seconds": stats["elapsed_time_seconds"],
        "responses": stats["downloader/response_count"],
        "warc_mb": stats.get("warc/bytes", 0) / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        write_bulk_site(workdir / "site", args.pages)
        rates: dict[bool, list[float]] = {False: [], True: []}
        with LocalWeb(workdir / "site") as web:
            for round_no in range(1, args.rounds + 1):
                for warc in (False, True):
                    result = crawl(web, workdir, warc, args.pages)
                    rate = result["responses"] / result["seconds"]
                    rates[warc].append(rate)
                    print(
                        f"round {round_no} WARC {'on ' if warc else 'off'}: {result['responses']} responses in "
                        f"{result['seconds']:.2f}s = {rate:.0f} pages/s"
                        + (f", {result['warc_mb']:.1f} MB of WARC" if warc else ""),
                        flush=True,
                    )
    off, on = statistics.median(rates[False]), statistics.median(rates[True])
    print(f"\nmedian pages/s  WARC off: {off:.0f}   WARC on: {on:.0f}   ratio on/off: {on / off:.3f}"
          f"   (target >= 0.90: {'met' if on / off >= 0.90 else 'NOT met'})")


if __name__ == "__main__":
    main()
