"""``scrapy enqueue [OUTLET...]``: one round of each outlet (default: all) into the shared frontier.

What the scheduling service does on each outlet's schedule when ``REDIS_URL`` is set; by hand it starts a
distributed crawl that ``scrapy worker`` processes, anywhere, carry out.
"""

from __future__ import annotations

import argparse

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from crawler.commands import outlet_names
from crawler.frontier.enqueue import enqueue_round


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[options] [outlet ...]"

    def short_desc(self) -> str:
        return "Put one round of each outlet (default: all) into the shared frontier (REDIS_URL)"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if not self.settings.get("REDIS_URL"):
            raise UsageError("no shared frontier: set REDIS_URL (e.g. -s REDIS_URL=redis://127.0.0.1:6379/0)")
        loader = get_spider_loader(self.settings)
        for name in outlet_names(self.settings, args):
            print(f"{name}: {enqueue_round(loader.load(name), self.settings)} requests queued")
