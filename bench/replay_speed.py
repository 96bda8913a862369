"""Benchmark: `scrapy replay` throughput against a bare trafilatura loop, and its peak memory.

1. Builds a WARC of real article pages (trafilatura-eval's 994 + article-extraction-benchmark's 109 pages
   from ../shared/corpora; generated pages if those are absent), in the crawler's own form.
2. Times `scrapy replay` on it (all cores) and a bare single-process `trafilatura.extract` loop over the same
   payloads, one after the other, for several rounds; prints articles/s for both and the median of the rounds'
   ratios (target on 2 cores: >= 1.9). This VM's speed drifts by a third between minutes: a ratio of two
   runs minutes apart would measure the drift.
3. Replays a WARC of at least 500 MB and prints the peak RSS of the largest process (target: <= 150 MB).

    .venv/bin/python bench/replay_speed.py [--big-mb 520] [--workers 0] [--rounds 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import trafilatura  # noqa: E402

from bench.peak_memory import wait_measuring  # noqa: E402
from tests.localweb.generate import BULK_HOST, article_html, write_warc  # noqa: E402

CORPORA = REPO.parent / "shared" / "corpora"


def corpus_pages() -> list[tuple[str, bytes]]:
    files = sorted((CORPORA / "trafilatura-eval").glob("*/*.html.gz"))
    files += sorted((CORPORA / "article-extraction-benchmark" / "html").glob("*.html.gz"))
    pages = [(f"https://{BULK_HOST}/news/page-{n}", gzip.decompress(p.read_bytes())) for n, p in enumerate(files)]
    if len(pages) < 1000:
        print(f"corpora not found under {CORPORA}: using 2,000 generated pages", flush=True)
        pages = [(f"https://{BULK_HOST}/news/story-{n}", article_html(n).encode()) for n in range(2000)]
    return pages


def replay(warc: Path, output: Path, workers: int, *options: str) -> tuple[dict, int]:
    """Run ``scrapy replay``; its stats and the peak RSS (MB) of its largest process (bench.peak_memory)."""
    stats = output / "stats.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "replay", str(warc), "-o", str(output), "--stats", str(stats),
         "--workers", str(workers), *options],
        cwd=REPO, stderr=subprocess.DEVNULL,
    )
    peak = wait_measuring(process)
    if process.returncode != 0:
        raise SystemExit(f"scrapy replay failed with exit code {process.returncode}")
    return json.loads(stats.read_text()), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mb", type=int, default=520, help="size of the memory-test WARC")
    parser.add_argument("--workers", type=int, default=0, help="replay workers (default: one per core)")
    parser.add_argument("--rounds", type=int, default=3, help="replay and bare loop, one after the other")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        work = Path(tmp)
        pages = corpus_pages()
        warc = write_warc(work / "warc", "bench", pages)
        print(
            f"{len(pages)} article pages, WARC {warc.stat().st_size / 1e6:.1f} MB; {os.cpu_count()} cores", flush=True
        )

        ratios = []
        for round_no in range(1, args.rounds + 1):
            stats, _ = replay(warc, work / f"out-{round_no}", args.workers)
            ours = stats["extracted"] / stats["seconds"]
            started = time.perf_counter()
            for _, html in pages:
                trafilatura.extract(html.decode("utf-8", "replace"))
            bare = len(pages) / (time.perf_counter() - started)
            ratios.append(ours / bare)
            print(
                f"round {round_no}: scrapy replay {stats['extracted']} articles ({stats['rejected']} rejected) in "
                f"{stats['seconds']:.1f}s = {ours:.1f} articles/s; bare trafilatura.extract loop (1 process) "
                f"{bare:.1f} pages/s; ratio {ours / bare:.2f}",
                flush=True,
            )
        ratio = statistics.median(ratios)
        print(
            f"median of the rounds' ratios, replay / bare loop: {ratio:.2f}  (target >= 1.9 on 2 cores: "
            f"{'met' if ratio >= 1.9 else 'NOT met'})",
            flush=True,
        )

        big = write_warc(work / "big", "bench", pages[:200], filler_bytes=args.big_mb * 1024 * 1024)
        stats, peak = replay(big, work / "out-big", args.workers)
        print(
            f"replay of a {big.stat().st_size / 1e6:.0f} MB WARC: {stats['extracted']} articles in "
            f"{stats['seconds']:.1f}s; peak RSS {peak} MB (largest process)"
            f"  (target <= 150 MB: {'met' if peak <= 150 else 'NOT met'})"
        )


if __name__ == "__main__":
    main()
