"""``scrapy capture OUTLET [URL ...]``: save an outlet's site as its fixtures, a small WARC plus a draft.

The outlet's own spider crawls once into a scratch archive (through Scrapy, so
``LOCAL_WEB_PROXY`` applies): robots.txt, every declared feed, sitemap and front
page, and of the articles only the URLs given (or, without URLs, the first
``--articles`` that discovery finds). Its WARC becomes the outlet's fixture site,
``<fixtures>/<outlet>/<warc name>``, which the local outlet web serves, so the
registry test crawls it as it crawled the real site. Beside it, ``expected.json``:
the articles discovery reached, and a draft of what extraction made of each
(title, byline, source, published, text) for a person to review.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from crawler.commands import outlet_names
from crawler.fixtures import (
    EXPECTED,
    ToolCommand,
    extractions,
    failure_reason,
    fixture_roots,
    fixture_warcs,
    trial_crawl,
)
from crawler.outlet import OutletSpider
from pipelines.urls import url_key


def capturing(spidercls: type[OutletSpider], urls: list[str], limit: int) -> type[OutletSpider]:
    """The outlet's spider, fetching only the articles wanted and noting which discovery reached."""
    wanted = {url_key(url) for url in urls}

    class Capturing(spidercls):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.discovered: set[str] = set()  # article keys discovery reached
            self.chosen: set[str] = set()
            self.failures: dict[str, str] = {}  # URL -> why it could not be fetched

        async def start(self) -> Any:
            async for request in super().start():
                yield request
            for url in urls:
                if request := super()._request(url, "seed", self.parse_article):
                    yield request

        def _request(self, url: str, kind: str, callback: Any, *args: Any, **kwargs: Any) -> Any:
            if callback == self.parse_article:
                key = url_key(url)
                self.discovered.add(key)
                if (key not in wanted) if urls else (key not in self.chosen and len(self.chosen) >= limit):
                    return None
                self.chosen.add(key)
            return super()._request(url, kind, callback, *args, **kwargs)

        def fetch_failed(self, failure: Any) -> None:
            self.failures[failure.request.url] = failure_reason(failure)
            super().fetch_failed(failure)

    Capturing.__name__ = Capturing.__qualname__ = spidercls.__name__
    return Capturing


class Command(ToolCommand):
    def syntax(self) -> str:
        return "[options] OUTLET [ARTICLE_URL ...]"

    def short_desc(self) -> str:
        return "Save an outlet's site as its test fixtures: a small WARC and a draft of the expected extraction"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--articles", type=int, default=3,
                            help="without URLs: capture the first N articles discovery finds (default 3)")
        parser.add_argument("--to", type=Path, help="fixtures folder (by default the first of OUTLET_FIXTURES)")
        parser.add_argument("--force", action="store_true", help="replace the outlet's existing fixtures")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None and self.crawler_process is not None
        if not args:
            raise UsageError("name the outlet to capture")
        outlet, urls = args[0], args[1:]
        outlet_names(self.settings, [outlet])
        spidercls = get_spider_loader(self.settings).load(outlet)
        spider = spidercls(name=outlet)
        strays = [url for url in urls if not spider.is_article(url)]
        if strays:
            raise UsageError(f"not article URLs of {outlet} (they do not match its article_pattern "
                             f"{spidercls.article_pattern!r}): {', '.join(strays)}")
        target = (opts.to.resolve() if opts.to else fixture_roots(self.settings)[0]) / outlet
        if target.exists() and not opts.force:
            raise UsageError(f"{target} exists: give --force to replace {outlet}'s fixtures")
        with tempfile.TemporaryDirectory(prefix=f"capture-{outlet}-") as scratch:
            root = Path(scratch)
            capturer = capturing(spidercls, urls, opts.articles)
            crawler = trial_crawl(self.crawler_process, self.settings, capturer, root)
            self.exitcode = self.save(crawler, spidercls, urls, root, target)

    def save(self, crawler: Any, spidercls: type[OutletSpider], urls: list[str], root: Path, target: Path) -> int:
        """Check what the crawl got; if it is usable, write the fixtures. Returns the exit status."""
        spider, outlet = crawler.spider, spidercls.name
        found = extractions(root, outlet)
        problems = [f"could not fetch {url}: {error}" for url, error in spider.failures.items()
                    if url in spidercls.feeds + spidercls.sitemaps + spidercls.front_pages or url in urls]
        got = {url_key(url) for url in found}
        problems += [f"{url} was not captured (see the messages above)" for url in urls
                     if url_key(url) not in got and url not in spider.failures]
        problems += [f"no article at {url}: {result['rejected']}" for url, result in found.items()
                     if "rejected" in result]
        if not found and not urls:
            problems.append(f"discovery found no article of {outlet} (is article_pattern right?)")
        warcs = sorted((root / outlet / "warc").glob("*.warc.gz"))
        if problems or not warcs:
            for problem in problems or ["nothing was archived"]:
                print(f"capture: {problem}", file=sys.stderr)
            print(f"capture: nothing written to {target}", file=sys.stderr)
            return 1
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for warc in warcs:
            shutil.copy2(warc, target / warc.name)
        articles = {url: result for url, result in found.items() if url_key(url) in spider.discovered}
        unreached = sorted(set(found) - set(articles))
        expected = {"articles": sorted(articles), "not_articles": [], "extraction_reviewed": False,
                    "extraction": {url: articles[url] for url in sorted(articles)}}
        (target / EXPECTED).write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n", "utf-8")
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        source = "the local outlet web" if self.settings.get("LOCAL_WEB_PROXY") else "the live site"
        (target / "README.md").write_text(
            f"# {outlet} fixtures\n\nCaptured with `scrapy capture` from {source} on {stamp}: "
            f"{', '.join(w.name for w in fixture_warcs(target))}.\n"
            f"`expected.json` holds a draft of the expected extraction: review it, correct it, then set "
            f"`extraction_reviewed` to true.\n", "utf-8")
        size = sum(w.stat().st_size for w in fixture_warcs(target))
        print(f"Captured {len(articles)} article(s) of {outlet} into {target} ({size / 1024:.0f} KiB of WARC).")
        for url in unreached:
            print(f"  note: {url} is archived but no feed, sitemap or front page of {outlet} links it: "
                  "not listed in expected.json")
        print(f"Review the draft extraction in {target / EXPECTED}, correct it and set extraction_reviewed "
              f"to true; then `scrapy checkoutlet {outlet}`.")
        return 0
