"""``scrapy checkoutlet OUTLET``: run an outlet's discovery and extraction, print field coverage and differences.

Offline (the default) the outlet's own spider crawls its fixture WARCs
(``fixtures/<outlet>/*.warc.gz``: captured by ``scrapy capture``, or recorded
from the site files by ``make fixtures``) through ``ARCHIVE_SOURCE``
(:mod:`crawler.archive_source`): no network, no local web, nothing of
``tests/``; fixtures without a WARC are a usage error. ``--live`` crawls the
real site (at most ``--max`` articles). Either way the crawl goes to a scratch
archive and the report says how many article pages gave a title, a byline, a
publication time and a body of at least ``HEALTH_BODY_MIN_WORDS`` words, the
extractor's mean confidence (as every crawl records them,
:mod:`pipelines.health`), which expected articles were missed or unexpected ones
found, and how each article's fields differ from the reviewed expectations in
``expected.json``. Exit status 1 when an expected article is missing or no
article was extracted.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import tempfile
from pathlib import Path
from typing import Any

from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from crawler.commands import outlet_names
from crawler.fixtures import (
    FIELDS,
    ToolCommand,
    extractions,
    fixture_dir,
    fixture_warcs,
    read_expected,
    trial_crawl,
)
from pipelines.catalog import Catalog
from pipelines.health import FIELDS as COVERAGE_FIELDS

#: Article texts less alike than this (difflib ratio) are reported as different.
TEXT_MIN_RATIO = 0.98
#: The offline check replays old captures: every dated link is followed, whatever its age
#: (ARCHIVE_SOURCE itself turns off WARC writing, retries and politeness waits).
OFFLINE_SETTINGS = {"DISCOVERY_MAX_AGE_DAYS": 0}


class Command(ToolCommand):
    def syntax(self) -> str:
        return "[options] OUTLET"

    def short_desc(self) -> str:
        return "Crawl an outlet's fixtures (or, --live, its site) and report field coverage and differences"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--live", action="store_true", help="crawl the real site instead of the fixtures")
        parser.add_argument("--max", type=int, default=20, help="with --live: stop after N articles (default 20)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None and self.crawler_process is not None
        if len(args) != 1:
            raise UsageError("name one outlet")
        outlet = args[0]
        outlet_names(self.settings, [outlet])
        loader = get_spider_loader(self.settings)
        folder = fixture_dir(self.settings, outlet)
        expected = read_expected(folder) if folder else {}
        if not opts.live and folder is None:
            raise UsageError(f"{outlet} has no fixtures (run `scrapy capture {outlet}`, or check it --live)")
        warcs = fixture_warcs(folder) if folder else []
        if not opts.live and not warcs:
            raise UsageError(f"{outlet} has no fixture WARC (in {folder}): run `make fixtures` "
                             f"or `scrapy capture {outlet}`")
        with tempfile.TemporaryDirectory(prefix=f"check-{outlet}-") as scratch:
            root = Path(scratch)
            if opts.live:
                self.settings.set("CLOSESPIDER_ITEMCOUNT", opts.max, priority="cmdline")
                trial_crawl(self.crawler_process, self.settings, loader.load(outlet), root)
            else:
                self.settings.setdict(OFFLINE_SETTINGS | {"ARCHIVE_SOURCE": [str(w) for w in warcs]}, "cmdline")
                trial_crawl(self.crawler_process, self.settings, loader.load(outlet), root)
            self.exitcode = report(outlet, root, expected, live=opts.live)


def report(outlet: str, root: Path, expected: dict[str, Any], live: bool) -> int:
    """Print coverage and differences; 1 if expected articles are missing or nothing was extracted."""
    found = extractions(root, outlet)
    catalog = Catalog(root / "catalog.sqlite")
    try:
        coverage = catalog.coverage(outlet, limit=1)
    finally:
        catalog.close()
    print(f"{outlet} ({'live' if live else 'fixtures'}): {len(found)} article pages")
    if coverage:
        row = coverage[0]
        for field in COVERAGE_FIELDS:
            count = f"{round(row[field] * row['pages'])}/{row['pages']}"
            figure = f"{row[field]:.2f} mean" if field == "confidence" else count
            print(f"  {field:<11} {figure}")
    problems = 0
    if not live:
        missing = sorted(set(expected.get("articles", [])) - set(found))
        extra = sorted(set(found) - set(expected.get("articles", [])))
        problems += len(missing)
        for url in missing:
            print(f"  MISSING    {url} (expected.json lists it; the crawl did not archive it)")
        for url in extra:
            print(f"  UNEXPECTED {url} (archived, but not in expected.json)")
    reviewed = "reviewed" if expected.get("extraction_reviewed") else "draft, not reviewed yet"
    for url, want in expected.get("extraction", {}).items():
        got = found.get(url)
        if got is None:
            continue
        differences = [f"{field}: {got.get(field, '')!r} (expected {want.get(field, '')!r})"
                       for field in FIELDS if field in want and got.get(field, "") != want[field]]
        if "rejected" in got:
            differences = [f"no article: {got['rejected']}"]
        elif "text" in want:
            ratio = difflib.SequenceMatcher(None, got["text"], want["text"]).ratio()
            if ratio < TEXT_MIN_RATIO:
                differences.append(f"text {ratio:.0%} alike")
        if differences:
            print(f"  DIFFERS    {url} ({reviewed}):")
            for difference in differences:
                print(f"    {difference}")
    if not found:
        print(f"checkoutlet: no article of {outlet} was extracted", file=sys.stderr)
        problems += 1
    return 1 if problems else 0
