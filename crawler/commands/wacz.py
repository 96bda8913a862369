"""``scrapy wacz [OUTLET...] -o FILE.wacz [--since DATE] [--until DATE] [--force]``: share the archive as WACZ.

The package (:mod:`pipelines.wacz`) holds the WARC files of the chosen captures (every outlet and all time by
default), a CDXJ index, ``pages/pages.jsonl`` with one line per article (its latest capture in the range: url,
capture time, headline, and our byline, credited source, publication date and article text) and
``datapackage.json`` with its digest: ReplayWeb.page opens it, pywb imports it, ``scrapy replay`` reads it back.
The catalog (``DATABASE_URL``, else ``<ARCHIVE_ROOT>/catalog.sqlite``) is only read.

Exit status: 0 when everything chosen is in the package; 1 when a WARC holding chosen captures is damaged or
missing (the rest is packaged, what was left out is listed) or nothing could be packaged; 2 (a usage error) for
an unknown outlet, a malformed or empty range, or an output that exists without ``--force``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands import outlet_names
from pipelines.catalog import catalog_url
from pipelines.catalog.store import describe, read_only_engine, sqlite_file
from pipelines.wacz import PackageError, Report, abandon, choose, day_range, package


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[OUTLET...] -o FILE.wacz [--since DATE] [--until DATE] [--force]"

    def short_desc(self) -> str:
        return "Package archived captures as a WACZ (ReplayWeb.page, pywb), with the extracted texts inside"

    def long_desc(self) -> str:
        return (
            "Packages the WARC files holding the chosen article captures (OUTLETs: every outlet by default; "
            "--since/--until: capture days YYYY-MM-DD, both included, or UTC times) with a CDXJ index, a page list "
            "carrying each article's metadata and text, and a datapackage with its digest, through py-wacz. The "
            "package is written under a temporary name and renamed when whole. Damaged WARCs are left out and "
            "listed (exit status 1)."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", type=Path, help="the package to write (FILE.wacz)")
        parser.add_argument("--since", default="", metavar="DATE", help="captures from this day (or UTC time) on")
        parser.add_argument("--until", default="", metavar="DATE", help="captures up to this day, included")
        parser.add_argument("--force", action="store_true", help="replace the output if it exists")
        parser.add_argument("--title", default="", help="the package's title (datapackage.json)")
        parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if opts.output is None:
            raise UsageError("name the package to write: -o FILE.wacz")
        if opts.output.suffix.lower() != ".wacz":
            raise UsageError(f"a WACZ package's name ends in .wacz: {opts.output}")
        if opts.output.exists() and not opts.force:
            raise UsageError(f"{opts.output} exists: choose another name, or --force to replace it")
        outlet_names(self.settings, args)  # a usage error for an unknown outlet
        try:
            since, until = day_range(opts.since, opts.until)
        except ValueError as error:
            raise UsageError(str(error)) from error
        root = Path(self.settings.get("ARCHIVE_ROOT") or "archive")
        target = catalog_url(self.settings)
        path = sqlite_file(target)
        if path is not None and not path.is_file():
            print(f"Nothing to package: there is no catalog at {path} (no crawl has archived anything yet).",
                  file=sys.stderr)
            self.exitcode = 1
            return
        engine = read_only_engine(target)
        try:
            with engine.connect() as connection:
                selection = choose(connection, root, args, since, until)
        finally:
            engine.dispose()
        chosen = f"{', '.join(args) or 'every outlet'}, {_range_words(opts.since, opts.until)}"
        if selection.being_written:
            named = ", ".join(selection.being_written[:3]) + (", ..." if len(selection.being_written) > 3 else "")
            print(f"Not packaged: the captures in {len(selection.being_written)} WARC file(s) a crawl is still "
                  f"writing ({named}): package them once it has closed them.", file=sys.stderr)
        if not selection.pages:
            print(f"Nothing to package: no article capture of {chosen} in the catalog {describe(target)}.",
                  file=sys.stderr)
            self.exitcode = 1
            return
        say = None if opts.quiet else (lambda message: print(f"  {message}", file=sys.stderr, flush=True))
        print(f"Packaging {len(selection.pages):,} articles ({chosen}) from {len(selection.warcs):,} WARC file(s) "
              f"into {opts.output}", file=sys.stderr)
        stop = _stopper(opts.output)
        previous = signal.signal(signal.SIGTERM, stop)  # stopped: the unfinished package is removed, then exit 1
        try:
            report = package(selection, root, opts.output, force=opts.force, progress=say,
                             title=opts.title or f"newsarchive: {chosen}",
                             description=f"Article captures of {chosen}, archived by newsarchive")
        except PackageError as error:
            print(f"No package written: {error}", file=sys.stderr)
            for name, why in sorted(error.left_out.items()):
                print(f"  LEFT OUT: {name}: {why}", file=sys.stderr)
            self.exitcode = 1
            return
        finally:
            signal.signal(signal.SIGTERM, previous)
        _summary(report)
        self.exitcode = 0 if report.complete else 1


def _stopper(output: Path) -> Callable[[int, object], None]:
    """A SIGTERM handler: remove the unfinished package and end the process at once."""

    def stop(_signal: int, _frame: object) -> None:
        abandon()
        print(f"No package written: stopped (SIGTERM) before {output} was whole", file=sys.stderr, flush=True)
        os._exit(1)

    return stop


def _range_words(since: str, until: str) -> str:
    if since and until:
        return f"captured {since} to {until}"
    if since:
        return f"captured since {since}"
    if until:
        return f"captured until {until}"
    return "all time"


def _size(count: float) -> str:
    return f"{count / 2**20:,.1f} MB" if count >= 2**20 else f"{count / 1024:,.0f} KB"


def _summary(report: Report) -> None:
    rate = report.warc_bytes / report.seconds if report.seconds else 0.0
    print(f"Wrote {report.output}: {report.pages:,} articles, {len(report.warcs):,} WARC file(s), "
          f"{_size(report.package_bytes)} in {report.seconds:,.1f} s ({_size(rate)}/s of WARCs)")
    if report.text_bytes is not None:
        print(f"  ReplayWeb.page searches the first 1 MiB of the page list: {report.texts_cut:,} article text(s) "
              f"cut to their first {_size(report.text_bytes)} to share it")
    if report.searchable < report.pages:
        print(f"  ReplayWeb.page's search finds {report.searchable:,} of the {report.pages:,} articles (their "
              "headlines and metadata alone fill its 1 MiB): package fewer outlets or days to search them all")
    if report.texts_missing:
        print(f"  {report.texts_missing:,} article(s) listed without text: their text files are gone "
              "(`scrapy replay` rewrites them from the WARCs)")
    for path, damages in sorted(report.damaged.items()):
        first = damages[0]
        print(f"  LEFT OUT (damaged): {path}: {len(damages)} damaged stretch(es), first at offset {first.offset}: "
              f"{first.error}", file=sys.stderr)
    for name in report.missing:
        print(f"  LEFT OUT (missing): {name}: named by the catalog, not in the archive", file=sys.stderr)
    if report.pages_left_out:
        print(f"  {report.pages_left_out:,} article(s) left out with those files", file=sys.stderr)
