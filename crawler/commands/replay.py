"""``scrapy replay PATH... [-o OUT]``: run archived WARCs through the capture path again, with no network.

PATHs are WARC/ARC/WACZ files or folders (searched recursively). Outputs go
where a crawl writes them (``ARCHIVE_ROOT``) unless ``-o`` says otherwise; the
catalog (by default ``OUT/catalog.sqlite``) gets the rows the crawls wrote, so an
archive whose catalog was lost is rebuilt from its WARCs alone. A
progress bar shows on a terminal; a summary ends the run (``--stats`` also
writes it as JSON). Exit status: 0, or 1 when any part of the archive was
damaged (every damaged stretch is listed with its file and offset).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.outlets import registry
from pipelines.process import CaptureSettings
from pipelines.replay import ReplayStats, print_summary, replay, write_stats


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[options] PATH..."

    def short_desc(self) -> str:
        return "Re-run extraction on archived WARC/ARC/WACZ files (no network)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", type=Path, help="output root (by default ARCHIVE_ROOT)")
        parser.add_argument("--workers", type=int, default=0, help="extraction processes (by default one per core)")
        parser.add_argument("--stats", metavar="FILE", help="also write the summary as JSON to FILE ('-' for stdout)")
        parser.add_argument("--catalog", metavar="FILE_OR_URL",
                            help="the catalog's SQLite file or database URL (by default OUTPUT/catalog.sqlite)")
        parser.add_argument("--dask", metavar="ADDRESS",
                            help="extract on a Dask cluster: its scheduler's address (tcp://host:8786), or 'local'"
                                 " for --workers Dask processes on this machine (by default a local process pool)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if not args:
            raise UsageError("name at least one WARC/ARC/WACZ file or folder")
        if opts.workers < 0:
            raise UsageError("--workers must be 0 (one per core) or more")
        output = opts.output or Path(self.settings.get("ARCHIVE_ROOT", "archive"))
        try:
            settings = CaptureSettings.from_settings(self.settings)
        except ValueError as error:
            raise UsageError(f"REVISIT_AFTER: {error}") from error
        bar = _progress_bar()
        try:
            stats = replay([Path(p) for p in args], output, registry(self.settings), settings, opts.workers, bar,
                           opts.catalog, opts.dask)
        except FileNotFoundError as error:
            raise UsageError(str(error)) from error
        finally:
            if bar is not None:
                bar.close()
        print_summary(stats)
        if opts.stats:
            write_stats(stats, opts.stats)
        self.exitcode = 1 if any(not damage["used"] for damage in stats.damaged) else 0


class _Bar:
    """A tqdm bar over the bytes of the archive, with records and articles/s alongside."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(unit="B", unit_scale=True, desc="replay", file=sys.stderr, dynamic_ncols=True)

    def __call__(self, stats: ReplayStats) -> None:
        self.bar.update(stats.bytes - self.bar.n)
        elapsed = self.bar.format_dict["elapsed"] or 1e-9
        self.bar.set_postfix(records=stats.captures, articles=stats.extracted,
                             per_s=f"{stats.extracted / elapsed:.1f}", refresh=False)

    def close(self) -> None:
        self.bar.close()


def _progress_bar() -> _Bar | None:
    return _Bar() if sys.stderr.isatty() else None
