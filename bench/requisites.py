"""Benchmark: what archiving page requisites costs a crawl, and what sharing them saves.

Crawls N generated articles of the styled bulk site (``tests/localweb/generate.py``
``write_styled_site``: every article links one stylesheet that imports another, a
web font, a background image, a logo and a favicon shared by all, and a photo of
its own) from the local outlet web with ``ARCHIVE_REQUISITES`` = ``none`` and
``articles``, alternating, several rounds, in one run. Prints articles/s (Scrapy's
``elapsed_time_seconds``, start-up excluded), WARC bytes per article, and the
share of requisite requests that sharing saved: within the run (a requisite
fetched once for every page that uses it) and in a second, incremental run over
new articles (fetched within ``REQUISITE_REFRESH``: not again). The peer, in the
same rounds: ``wget --recursive --page-requisites --warc-file`` on the same pages.

    .venv/bin/python bench/requisites.py [--pages 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.crawl_throughput import crawl_stats, run_wget, write_link_page  # noqa: E402
from tests.localweb import LocalWeb  # noqa: E402
from tests.localweb.generate import write_styled_site  # noqa: E402


def crawl(web: LocalWeb, archive: Path, mode: str, pages: int) -> dict:
    return crawl_stats(web, archive, {"ARCHIVE_REQUISITES": mode}, pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        write_link_page(workdir / "site", write_styled_site(workdir / "site", args.pages))
        rates: dict[str, list[float]] = {"none": [], "articles": [], "wget": []}
        per_article: dict[str, list[float]] = {"none": [], "articles": [], "wget": []}
        saved: list[float] = []
        with LocalWeb(workdir / "site") as web:
            for round_no in range(1, args.rounds + 1):
                for mode in ("none", "articles"):
                    stats = crawl(web, Path(tempfile.mkdtemp(dir=workdir)), mode, args.pages)
                    rate = args.pages / stats["elapsed_time_seconds"]
                    size = stats.get("warc/bytes", 0) / args.pages
                    rates[mode].append(rate)
                    per_article[mode].append(size)
                    line = (f"round {round_no} requisites {mode:8}: {rate:6.0f} articles/s, "
                            f"{size / 1024:6.1f} KB/article")
                    if mode == "articles":
                        found, requested = stats.get("requisites/found", 0), stats.get("requisites/requested", 0)
                        saved.append(1 - requested / found)
                        line += f", {requested} of {found} requisite references fetched ({saved[-1]:.1%} saved)"
                    print(line, flush=True)
                if shutil.which("wget"):
                    seconds, log, warc_bytes = run_wget(web, workdir, "--page-requisites", "--span-hosts")
                    fetched = sum(1 for line in log.splitlines() if " -> " in line)
                    rates["wget"].append(args.pages / seconds)
                    per_article["wget"].append(warc_bytes / args.pages)
                    print(f"round {round_no} wget -p --warc   : {args.pages / seconds:6.0f} articles/s, "
                          f"{warc_bytes / args.pages / 1024:6.1f} KB/article, {fetched} responses", flush=True)

            # a later, incremental run over new articles: what was archived by the first is not fetched again
            archive = Path(tempfile.mkdtemp(dir=workdir))
            crawl(web, archive, "articles", args.pages)
            write_styled_site(workdir / "site", args.pages // 10, first=args.pages)
            later = crawl(web, archive, "articles", args.pages // 10)
    off, on = statistics.median(rates["none"]), statistics.median(rates["articles"])
    print(f"\nmedian articles/s  requisites none: {off:.0f}   articles: {on:.0f}   ratio: {on / off:.3f}")
    print(f"median KB/article  none: {statistics.median(per_article['none']) / 1024:.1f}   "
          f"articles: {statistics.median(per_article['articles']) / 1024:.1f}")
    if rates["wget"]:
        print(f"wget --page-requisites: {statistics.median(rates['wget']):.0f} articles/s, "
              f"{statistics.median(per_article['wget']) / 1024:.1f} KB/article")
    print(f"requisite requests saved by sharing within a run: {statistics.median(saved):.1%}")
    found, fresh = later.get("requisites/found", 0), later.get("requisites/fresh", 0)
    shared, requested = later.get("requisites/shared", 0), later.get("requisites/requested", 0)
    print(f"a later run of {args.pages // 10} new articles: {found} references, {requested} fetched (their photos), "
          f"{fresh} fresh from the earlier run, {shared} shared in the run: {1 - requested / found:.1%} saved")


if __name__ == "__main__":
    main()
