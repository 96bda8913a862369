"""Benchmark: what WARC archiving costs a crawl, and how it compares with a real peer (wget).

Crawls N generated article pages (default 2,000) from the local outlet web
with WARC writing off and on, alternating, several rounds, in one run, and
prints pages/s for each and the ratio. Crawl time is Scrapy's own
``elapsed_time_seconds`` (process start-up excluded). The ratio is the median of
each round's own (off and on run back to back): this VM's speed drifts by a
third between minutes, which a ratio of medians would mix in. "WARC on" is the
default crawl, which also reads each archived page for its requisites (stylesheets,
images; none on these pages); "WARC on, no requisites" (``ARCHIVE_REQUISITES=none``)
isolates the cost of writing the records. Targets: archiving costs at most 5% of
throughput (ratio >= 0.95), and our crawl with archiving fetches at least as many
pages/s as the peer.

The peer, in the same rounds: Debian's ``wget --recursive --warc-file`` on the
same site through the same local web (a page linking every article, as wget
reads no sitemaps), its wall-clock time less its own start-up (``wget
--version``), with its WARC bytes beside ours. wget fetches one page at a time;
our crawl keeps up to 32 in flight. Also in the same rounds: Scrapy alone (bench/plain_scrapy_spider.py: no
project, nothing kept, as concurrent as ours), the most a Scrapy crawl of the site reaches at that concurrency.

    .venv/bin/python bench/crawl_throughput.py [--pages 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import scrapy_command  # noqa: E402
from tests.localweb import LocalWeb  # noqa: E402
from tests.localweb.generate import BULK_HOST, write_bulk_site  # noqa: E402

FAST = {
    "SPIDER_MODULES": "tests.outlets",
    "CONCURRENT_REQUESTS": "32",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
    "LOG_LEVEL": "WARNING",
    "ITEM_PIPELINES": "{}",  # what is measured is fetching and archiving, not extraction
    "INCREMENTAL": os.environ.get("BENCH_INCREMENTAL", "True"),
}


def crawl_stats(web: LocalWeb, archive: Path, settings: dict[str, str], pages: int) -> dict:
    """A ``FAST`` crawl of outlet bulk into ``archive`` with ``settings`` on top: its final stats."""
    summary = archive / f"summary-{time.monotonic_ns()}.json"
    subprocess.run(
        scrapy_command("bulk", archive, web.proxy_url, {**FAST, **settings, "RUN_SUMMARY_FILE": str(summary)}),
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True,
    )
    stats = json.loads(summary.read_text())["stats"]
    assert stats.get("articles/archived") == pages, stats  # every page fetched and handed on
    return stats


MODES = {  # label, settings
    "off": ("ours, WARC off            ", {"WARC_ENABLED": "False"}),
    "on": ("ours, WARC on             ", {"WARC_ENABLED": "True"}),
    "bare": ("ours, WARC on, no requisites", {"WARC_ENABLED": "True", "ARCHIVE_REQUISITES": "none"}),
}


def crawl(web: LocalWeb, workdir: Path, settings: dict[str, str], pages: int) -> dict:
    stats = crawl_stats(web, Path(tempfile.mkdtemp(dir=workdir)), settings, pages)
    return {
        "seconds": stats["elapsed_time_seconds"],
        "responses": stats["downloader/response_count"],
        "warc_mb": stats.get("warc/bytes", 0) / 1e6,
    }


def run_wget(web: LocalWeb, workdir: Path, *options: str) -> tuple[float, str, int]:
    """wget's recursive crawl of the link page (:func:`write_link_page`) writing a WARC, through the local web:
    its seconds less its own start-up (``wget --version``), its log, its WARC bytes."""
    folder = Path(tempfile.mkdtemp(dir=workdir))
    env = {**os.environ, "https_proxy": web.proxy_url, "http_proxy": web.proxy_url}
    started = time.perf_counter()
    subprocess.run(["wget", "--version"], env=env, capture_output=True, check=True)
    startup = time.perf_counter() - started
    started = time.perf_counter()
    done = subprocess.run(
        ["wget", "--recursive", "--level=1", *options, "--no-check-certificate", "--no-verbose", "--delete-after",
         "--warc-file", str(folder / "wget"), "--warc-max-size=1G", "-e", "robots=on", "-P", str(folder),
         f"https://{BULK_HOST}/all.html"],
        env=env, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - started - startup
    return seconds, done.stderr, sum(path.stat().st_size for path in folder.glob("wget*.warc.gz"))


def plain_scrapy_crawl(web: LocalWeb, workdir: Path, pages: int) -> dict:
    """Scrapy with nothing of ours (bench/plain_scrapy_spider.py) on the link page, as concurrent as ours."""
    folder = Path(tempfile.mkdtemp(dir=workdir))
    stats_file = folder / "stats.json"
    env = {key: value for key, value in os.environ.items() if key not in ("SCRAPY_SETTINGS_MODULE", "PYTHONPATH")}
    subprocess.run(
        [sys.executable, "-m", "scrapy", "runspider", str(REPO / "bench" / "plain_scrapy_spider.py"),
         "-a", f"url=https://{BULK_HOST}/all.html", "-s", f"STATS_FILE={stats_file}", "-s", "LOG_LEVEL=WARNING",
         "-s", f"CONCURRENT_REQUESTS={FAST['CONCURRENT_REQUESTS']}",
         "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={FAST['CONCURRENT_REQUESTS_PER_DOMAIN']}",
         # as the project's settings.py: Scrapy's 100 tasks per response cost a third of a local crawl's CPU
         "-s", "CONCURRENT_ITEMS=8", "-s", "TELNETCONSOLE_ENABLED=False"],
        cwd=folder, env={**env, "https_proxy": web.proxy_url, "http_proxy": web.proxy_url}, check=True,
    )
    stats = json.loads(stats_file.read_text())
    assert stats.get("downloader/response_status_count/200") == pages + 1, stats
    return {"seconds": stats["elapsed_time_seconds"], "responses": stats["downloader/response_count"], "warc_mb": 0}


def write_link_page(site: Path, urls: list[str]) -> None:
    """``https://www.bulk.test/all.html``, linking every article: wget reads no sitemaps."""
    links = "".join(f'<a href="{url}">{n}</a>' for n, url in enumerate(urls))
    (site / "bulk" / "web" / BULK_HOST / "all.html").write_text(f"<html><body>{links}</body></html>")


def wget_crawl(web: LocalWeb, workdir: Path, pages: int) -> dict:
    """wget's recursive crawl of the same articles, writing a WARC: responses, seconds, WARC megabytes."""
    seconds, log, warc_bytes = run_wget(web, workdir)
    fetched = sum(1 for line in log.splitlines() if "/news/story-" in line and " -> " in line)
    assert fetched == pages, (fetched, log[-2000:])
    return {"seconds": seconds, "responses": fetched + 2, "warc_mb": warc_bytes / 1e6}  # + robots.txt, the page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        write_link_page(workdir / "site", write_bulk_site(workdir / "site", args.pages))
        peer = shutil.which("wget")
        rates: dict[str, list[float]] = {"off": [], "on": [], "bare": [], "plain": [], "wget": []}
        sizes: dict[str, list[float]] = {"on": [], "wget": []}
        with LocalWeb(workdir / "site") as web:
            for round_no in range(1, args.rounds + 1):
                for mode in [*MODES, "plain", "wget"] if peer else [*MODES, "plain"]:
                    if mode == "wget":
                        result, label = wget_crawl(web, workdir, args.pages), "wget --warc                 "
                    elif mode == "plain":
                        result, label = plain_scrapy_crawl(web, workdir, args.pages), "Scrapy alone, nothing kept  "
                    else:
                        label, settings = MODES[mode]
                        result = crawl(web, workdir, settings, args.pages)
                    rate = result["responses"] / result["seconds"]
                    rates[mode].append(rate)
                    if mode in sizes:
                        sizes[mode].append(result["warc_mb"])
                    print(f"round {round_no} {label}: {result['responses']} responses in {result['seconds']:.2f}s = "
                          f"{rate:.0f} pages/s" + (f", {result['warc_mb']:.1f} MB of WARC" if mode in sizes else ""),
                          flush=True)
    median = {mode: statistics.median(values) for mode, values in rates.items() if values}
    on = statistics.median(on / off for on, off in zip(rates["on"], rates["off"], strict=True))
    bare = statistics.median(on / off for on, off in zip(rates["bare"], rates["off"], strict=True))
    print(f"\nmedian pages/s  WARC off: {median['off']:.0f}   WARC on: {median['on']:.0f}   "
          f"WARC on, no requisites: {median['bare']:.0f}")
    print(f"median of the rounds' ratios  on/off: {on:.3f}   on, no requisites/off: {bare:.3f}"
          f"   (target >= 0.95: {'met' if on >= 0.95 else 'NOT met'} with requisites, "
          f"{'met' if bare >= 0.95 else 'NOT met'} without)")
    plain = statistics.median(off / alone for off, alone in zip(rates["off"], rates["plain"], strict=True))
    print(f"median pages/s  Scrapy alone (no project, nothing kept): {median['plain']:.0f}   median of the rounds' "
          f"ratios ours with WARC off / Scrapy alone: {plain:.2f}")
    if rates["wget"]:
        ratio = statistics.median(ours / peer for ours, peer in zip(rates["on"], rates["wget"], strict=True))
        ceiling = statistics.median(alone / peer for alone, peer in zip(rates["plain"], rates["wget"], strict=True))
        print(f"median pages/s  wget --warc-file: {median['wget']:.0f}   median of the rounds' ratios ours with "
              f"WARC / wget: {ratio:.2f}   (target >= 1.0: {'met' if ratio >= 1.0 else 'NOT met'});   WARC MB: "
              f"ours {statistics.median(sizes['on']):.1f}, wget {statistics.median(sizes['wget']):.1f}")
        print(f"median of the rounds' ratios Scrapy alone / wget: {ceiling:.2f}   (Scrapy with nothing of ours, at our "
              "concurrency: the most a Scrapy crawl of this site reaches here)")
    else:
        print("wget not found: the peer's figures are skipped (apt-get install wget)")


if __name__ == "__main__":
    main()
