"""Benchmark: what the metadata and seed-form work costs on top of bare trafilatura.

Runs ``pipelines.extract.extract_article`` and bare ``trafilatura.extract`` (its
defaults) over the same corpus pages in one process, alternating passes, and
prints pages/s for both and the ratio. Target: our extra work costs at most
25% (ratio >= 0.75).

    .venv/bin/python bench/extraction_speed.py [--corpus DIR] [--passes 3] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import trafilatura  # noqa: E402

from pipelines.extract import extract_article  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpora" / "article-extraction-benchmark" / "html"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of *.html.gz pages")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"corpus folder {args.corpus} not found (the shared corpora live in ../shared/corpora)")
    files = sorted(args.corpus.glob("*.html.gz"))[: args.limit or None]
    pages = [gzip.decompress(path.read_bytes()).decode("utf-8", "replace") for path in files]
    print(f"{len(pages)} pages from {args.corpus}", flush=True)
    runners = {
        "trafilatura.extract": lambda html: trafilatura.extract(html),
        "extract_article": lambda html: extract_article(html, "https://example.org/article"),
    }
    rates: dict[str, list[float]] = {name: [] for name in runners}
    for number in range(1, args.passes + 1):
        for name, run in runners.items():
            started = time.perf_counter()
            for html in pages:
                run(html)
            rate = len(pages) / (time.perf_counter() - started)
            rates[name].append(rate)
            print(f"pass {number} {name:<20} {rate:6.1f} pages/s", flush=True)
    bare, ours = (statistics.median(rates[name]) for name in runners)
    print(f"\nmedian pages/s  trafilatura.extract: {bare:.1f}   extract_article: {ours:.1f}   ratio: {ours / bare:.3f}"
          f"   (target >= 0.75: {'met' if ours / bare >= 0.75 else 'NOT met'})")


if __name__ == "__main__":
    main()
