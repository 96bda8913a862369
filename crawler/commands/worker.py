"""``scrapy worker``: a crawl worker of the shared frontier (REDIS_URL), serving every outlet.

Start as many as wanted, on any machine that reaches Redis (and the catalog): each takes requests from
the shared queue, keeps per-host politeness with all the others, writes its own WARC files and runs until
SIGTERM / Ctrl-C (which closes its WARCs). Adding or stopping one never disturbs the others.
"""

from __future__ import annotations

import argparse

from scrapy.commands import ScrapyCommand
from scrapy.core.engine import ExecutionEngine
from scrapy.exceptions import UsageError

from crawler.frontier.worker import FrontierWorker, worker_health


class Command(ScrapyCommand):
    requires_project = True

    def short_desc(self) -> str:
        return "Crawl from the shared frontier (REDIS_URL) until stopped: every outlet, with shared politeness"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--health", action="store_true",
                            help="exit 0 if a worker on this host has a recent heartbeat in Redis (health check)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None and self.crawler_process is not None
        if args:
            raise UsageError("a worker serves every outlet: it takes no arguments")
        if not self.settings.get("REDIS_URL"):
            raise UsageError("no shared frontier: set REDIS_URL (e.g. -s REDIS_URL=redis://127.0.0.1:6379/0)")
        if opts.health:
            healthy, text = worker_health(self.settings)
            print(text)
            self.exitcode = 0 if healthy else 1
            return
        # An idle engine looks at its scheduler every 5 s (a private constant): a worker waiting for the
        # next round should notice it sooner.
        ExecutionEngine._SLOT_HEARTBEAT_INTERVAL = self.settings.getfloat("FRONTIER_POLL")
        self.crawler_process.crawl(FrontierWorker)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
