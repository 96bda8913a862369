"""Benchmark: what the metadata and seed-form work costs on top of bare trafilatura.

Runs ``pipelines.extract.extract_article`` and bare ``trafilatura.extract`` (its defaults) over the
same corpus pages and prints pages/s for both and the ratio. Target: all our extra work (metadata,
page text, headline, byline, cleaning) costs nothing on top of bare trafilatura (ratio >= 1.0): the
page is parsed once, into a tree whose element classes lxml picks in C, and trafilatura's fast pass
usually suffices where bare trafilatura runs its whole cascade.

Each runner lives in its own process, which sees every page once per pass, as a crawl does: in one
process the runners would share trafilatura's and htmldate's caches of text already seen (the second
runner on a page took ~25% less time). The parent hands the two processes one page at a time,
alternating which goes first, so a slow stretch of this VM (whole passes drifted by 40%) weighs on
both alike; the ratio is the median over passes of the ratio within a pass.

    .venv/bin/python bench/extraction_speed.py [--corpus DIR] [--passes 3] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import logging
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DEFAULT_CORPUS = REPO.parent / "shared" / "corpora" / "article-extraction-benchmark" / "html"
#: Warm-up pages (imports, lazily built tables such as jusText's stoplists), never measured.
WARM_UP_CORPUS = REPO.parent / "shared" / "corpora" / "readability-test-pages"
RUNNERS = ("trafilatura.extract", "extract_article")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of *.html.gz pages")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--runner", choices=RUNNERS, help=argparse.SUPPRESS)  # one pass, in this process
    args = parser.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"corpus folder {args.corpus} not found (the shared corpora live in ../shared/corpora)")
    if args.runner:
        serve(args.runner, args.corpus, args.limit)
        return
    pages = len(_pages(args.corpus, args.limit))
    print(f"{pages} pages from {args.corpus}; each runner in its own process, page by page", flush=True)
    command = [sys.executable, __file__, "--corpus", str(args.corpus), "--limit", str(args.limit), "--runner"]
    workers = {name: subprocess.Popen([*command, name], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for name in RUNNERS}
    for worker in workers.values():
        assert worker.stdout.readline().strip() == "ready"
    rates: dict[str, list[float]] = {name: [] for name in RUNNERS}
    try:
        for number in range(1, args.passes + 1):
            seconds = dict.fromkeys(RUNNERS, 0.0)
            for index in range(pages):
                for name in RUNNERS if (index + number) % 2 else reversed(RUNNERS):
                    workers[name].stdin.write(f"{index}\n")
                    workers[name].stdin.flush()
                    seconds[name] += float(workers[name].stdout.readline())
            for name in RUNNERS:
                rates[name].append(pages / seconds[name])
            bare, ours = (rates[name][-1] for name in RUNNERS)
            print(f"pass {number}  trafilatura.extract {bare:6.1f} pages/s   extract_article {ours:6.1f} pages/s"
                  f"   ratio {ours / bare:.3f}", flush=True)
    finally:
        for worker in workers.values():
            worker.stdin.close()
            worker.wait()
    bare, ours = (statistics.median(rates[name]) for name in RUNNERS)
    ratio = statistics.median(o / b for b, o in zip(*rates.values(), strict=True))
    print(f"\nmedian pages/s  trafilatura.extract: {bare:.1f}   extract_article: {ours:.1f}   ratio: {ratio:.3f}"
          f"   (target >= 1.0: {'met' if ratio >= 1.0 else 'NOT met'})")


def serve(name: str, corpus: Path, limit: int) -> None:
    """Extract the pages the parent names (by index, on stdin) and answer each with the seconds it took."""
    import trafilatura
    import trafilatura.external

    from pipelines.extract import extract_article

    logging.disable(logging.CRITICAL)
    runners = {
        "trafilatura.extract": lambda html: trafilatura.extract(html),
        "extract_article": lambda html: extract_article(html, "https://example.org/article"),
    }
    run = runners[name]
    trafilatura.external.jt_stoplist_init()  # a table built once, by whichever runner first needs jusText
    for path in sorted(WARM_UP_CORPUS.glob("*/source.html.gz"))[:10]:
        run(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"))
    pages = _pages(corpus, limit)
    print("ready", flush=True)
    for line in sys.stdin:
        html = pages[int(line)]
        started = time.perf_counter()
        run(html)
        print(time.perf_counter() - started, flush=True)

def _pages(corpus: Path, limit: int) -> list[str]:
    files = sorted(corpus.glob("*.html.gz"))[: limit or None]
    return [gzip.decompress(path.read_bytes()).decode("utf-8", "replace") for path in files]


if __name__ == "__main__":
    main()
