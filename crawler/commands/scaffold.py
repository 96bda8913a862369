"""``scrapy scaffold NAME FRONT_PAGE_URL``: write a new outlet's file, its discovery proposed from the site.

The front page, robots.txt and the feeds and sitemaps they lead to are fetched
through Scrapy (so ``LOCAL_WEB_PROXY`` applies; see :mod:`crawler.scaffold`), and
``<NEWSPIDER_MODULE folder>/<NAME>.py`` (or ``-o FOLDER/<NAME>.py``) declares what
was found: feeds, sitemaps (Google News first), the front page, an article
pattern inferred from the article URLs listed. Its docstring, and the command's
output, say where each came from and what could not be found.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from pathlib import Path

from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from crawler.fixtures import ToolCommand
from crawler.scaffold import ProbeSpider, propose, render


class Command(ToolCommand):
    def syntax(self) -> str:
        return "[options] NAME FRONT_PAGE_URL"

    def short_desc(self) -> str:
        return "Write a new outlet's file, with feeds, sitemaps and article pattern proposed from its site"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("-o", "--output", type=Path, help="folder for NAME.py (by default NEWSPIDER_MODULE's)")
        parser.add_argument("--force", action="store_true", help="overwrite an existing file")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None and self.crawler_process is not None
        if len(args) != 2:
            raise UsageError("give the outlet's NAME and its FRONT_PAGE_URL")
        name, url = args
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise UsageError(f"{name!r} is not an outlet name: lower-case letters, digits and _, a letter first")
        if not re.match(r"https?://[^/]+", url):
            raise UsageError(f"{url!r} is not an http(s) URL")
        if name in get_spider_loader(self.settings).list() and not opts.force:
            raise UsageError(f"outlet {name!r} exists already (--force overwrites its file)")
        folder = opts.output or Path(importlib.import_module(self.settings["NEWSPIDER_MODULE"]).__path__[0])
        target = folder / f"{name}.py"
        if target.exists() and not opts.force:
            raise UsageError(f"{target} exists (--force overwrites it)")

        crawler = self.crawler_process.create_crawler(ProbeSpider)
        self.crawler_process.crawl(crawler, front_page=url)
        self.crawler_process.start()
        probe = crawler.spider
        if probe is None or probe.page is None:
            error = probe.page_error if probe is not None else "the probe did not start"
            print(f"scaffold: cannot read the front page {url}: {error}", file=sys.stderr)
            self.exitcode = 1
            return
        proposal = propose(name, probe)
        if proposal.pattern is None:
            for text in proposal.missing:
                print(f"scaffold: {text}", file=sys.stderr)
            print(f"scaffold: nothing written: {url} links to nothing that looks like an article", file=sys.stderr)
            self.exitcode = 1
            return
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(render(proposal), "utf-8")
        print(f"Wrote {target}:")
        for found in proposal.feeds + proposal.sitemaps:
            print(f"  {found.kind:<14} {found.url}  ({found.how})")
        print(f"  article_pattern {proposal.pattern.regex}")
        print(f"                 ({proposal.pattern.covered} of {proposal.pattern.examples} article URLs; "
              f"{proposal.front_matches} of the front page's {proposal.front_links} links)")
        for text in proposal.missing:
            print(f"  not found: {text}")
        print(f"Next: review it, then `scrapy capture {name}` to save its fixtures.")
