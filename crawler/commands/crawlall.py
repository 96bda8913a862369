"""``scrapy crawlall``: one crawl of every outlet (or the ones named), each in its own process.

A Twisted reactor cannot be restarted, and one outlet's failure must not stop
the others, so every outlet runs as ``scrapy crawl <outlet>`` in a subprocess
(``--jobs`` at a time; :class:`crawler.schedule.crawl_process.Crawl`, as the scheduling service
runs them), logging to ``<ARCHIVE_ROOT>/<outlet>/logs/`` and recorded in the run
history. A line is printed as each crawl ends, and at the end a table says,
per outlet, what was fetched and archived, naming the likely cause when nothing
could be fetched (no network, DNS, refused).
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scrapy.commands import ScrapyCommand

from crawler.commands import outlet_names
from crawler.schedule.crawl_process import Crawl, archive_root, cmdline_overrides
from pipelines.catalog import catalog_url
from pipelines.catalog.runs import RunHistory


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[options] [outlet ...]"

    def short_desc(self) -> str:
        return "Crawl every outlet once (each in its own process) and summarise"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--timeout", type=float, default=None,
                            help="wall-clock limit per outlet in seconds (CRAWL_TIMEOUT, by default 1800)")
        parser.add_argument("--jobs", type=int, default=4, help="crawls running at once (default 4)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        settings = self.settings
        outlets = outlet_names(settings, args)
        overrides = cmdline_overrides(settings)
        root = archive_root(settings)
        timeout = opts.timeout or settings.getfloat("CRAWL_TIMEOUT")
        history = RunHistory(catalog_url(settings))
        grace, keep = settings.getfloat("CRAWL_KILL_GRACE"), settings.getint("LOG_KEEP")
        print(f"Crawling {len(outlets)} outlet(s), {opts.jobs} at a time; logs in {root}/<outlet>/logs/",
              flush=True)

        def run_one(outlet: str) -> dict[str, Any]:
            crawl = Crawl(outlet, root, overrides, timeout=timeout, grace=grace, keep=keep,
                          trigger="crawlall", history=history, own_session=False)
            result = crawl.start().run()
            print(f"  {outlet}: {result['problem'] or 'ok'} ({result['responses']} responses, "
                  f"{result['articles']} articles, {result['seconds']:.0f}s; log {result['log']})",
                  flush=True)
            return result

        try:
            with ThreadPoolExecutor(max(opts.jobs, 1)) as pool:
                results = list(pool.map(run_one, outlets))
        finally:
            history.close()
        print(summary_table(results))
        self.exitcode = 0 if all(r["ok"] for r in results) else 1


def summary_table(results: list[dict[str, Any]]) -> str:
    lines = [
        f"{'outlet':<16}{'requests':>9}{'responses':>10}{'articles':>9}{'WARC MB':>9}{'secs':>7}  result"
    ]
    for r in results:
        lines.append(
            f"{r['outlet']:<16}{r['requests']:>9}{r['responses']:>10}{r['articles']:>9}"
            f"{r['warc_bytes'] / 1e6:>9.2f}{r['seconds']:>7.1f}  {r['problem'] or 'ok'}"
        )
    return "\n".join(lines)
