"""``scrapy crawlall``: one crawl of every outlet (or the ones named), each in its own process.

A Twisted reactor cannot be restarted, and one outlet's failure must not stop
the others, so every outlet runs as ``scrapy crawl <outlet>`` in a subprocess
(``--jobs`` at a time), logging to ``<ARCHIVE_ROOT>/<outlet>/logs/``. A line
is printed as each crawl ends, and at the end a table says, per outlet, what
was fetched and archived, naming the likely cause when nothing could be
fetched (no network, DNS, refused).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[options] [outlet ...]"

    def short_desc(self) -> str:
        return "Crawl every outlet once (each in its own process) and summarise"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--timeout", type=float, default=1800, help="wall-clock limit per outlet, seconds")
        parser.add_argument("--jobs", type=int, default=4, help="crawls running at once (default 4)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        known = sorted(get_spider_loader(self.settings).list())
        unknown = sorted(set(args) - set(known))
        if unknown:
            raise UsageError(f"unknown outlet(s): {', '.join(unknown)}; known: {', '.join(known)}")
        outlets = args or known
        overrides = [f"{k}={v}" for k, v in self.settings.copy_to_dict().items() if self.settings.getpriority(k) == 40]
        root = Path(self.settings.get("ARCHIVE_ROOT"))
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        print(f"Crawling {len(outlets)} outlet(s), {opts.jobs} at a time; logs in {root}/<outlet>/logs/", flush=True)
        with tempfile.TemporaryDirectory(prefix="crawlall-") as tmp, ThreadPoolExecutor(opts.jobs) as pool:
            def run_one(outlet: str) -> dict[str, Any]:
                log = root / outlet / "logs" / f"crawl-{stamp}.log"
                result = crawl_one(outlet, Path(tmp) / f"{outlet}.json", overrides, opts.timeout, log)
                print(f"  {outlet}: {result['problem'] or 'ok'} ({result['responses']} responses, "
                      f"{result['articles']} articles, {result['seconds']:.0f}s; log {log})", flush=True)
                return result

            results = list(pool.map(run_one, outlets))
        print(summary_table(results))
        self.exitcode = 0 if all(r["ok"] for r in results) else 1


def crawl_one(outlet: str, summary_file: Path, overrides: list[str], timeout: float, log: Path) -> dict[str, Any]:
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "scrapy", "crawl", outlet, "-s", f"RUN_SUMMARY_FILE={summary_file}",
               "-s", f"LOG_FILE={log}"]
    for setting in overrides:
        command += ["-s", setting]
    started = time.monotonic()
    try:
        done = subprocess.run(command, timeout=timeout)
        code = done.returncode
    except subprocess.TimeoutExpired:
        code = None
    elapsed = time.monotonic() - started
    summary = json.loads(summary_file.read_text("utf-8")) if summary_file.exists() else {"stats": {}}
    stats = summary["stats"]
    responses = stats.get("downloader/response_count", 0)
    problem = ""
    if code is None:
        problem = f"timed out after {timeout:.0f}s"
    elif code != 0:
        problem = f"crawl process exited with status {code}"
    elif responses == 0:
        problem = "nothing could be fetched: " + fetch_failure(stats)
    return {
        "outlet": outlet,
        "ok": not problem,
        "requests": stats.get("downloader/request_count", 0),
        "responses": responses,
        "articles": stats.get("articles/archived", 0),
        "warc_bytes": stats.get("warc/bytes", 0),
        "seconds": elapsed,
        "problem": problem,
    }


def fetch_failure(stats: dict[str, Any]) -> str:
    """Name the commonest download exception, in words a person can act on."""
    errors = {
        key.rsplit("/", 1)[-1]: count
        for key, count in stats.items()
        if key.startswith("downloader/exception_type_count/")
    }
    if not errors:
        return "no request was made (check the outlet's discovery URLs and robots.txt)"
    worst = max(errors, key=errors.get)
    hints = {
        "DNSLookupError": "DNS lookups failed - is the network reachable?",
        "CannotResolveHostError": "DNS lookups failed - is the network reachable?",
        "ConnectionRefusedError": "connections were refused",
        "TCPTimedOutError": "connections timed out - is the network reachable?",
        "TimeoutError": "requests timed out",
        "DownloadTimeoutError": "requests timed out",
    }
    return f"{hints.get(worst.split('.')[-1], worst)} ({errors[worst]} x {worst})"


def summary_table(results: list[dict[str, Any]]) -> str:
    lines = [f"{'outlet':<16}{'requests':>9}{'responses':>10}{'articles':>9}{'WARC MB':>9}{'secs':>7}  result"]
    for r in results:
        lines.append(
            f"{r['outlet']:<16}{r['requests']:>9}{r['responses']:>10}{r['articles']:>9}"
            f"{r['warc_bytes'] / 1e6:>9.2f}{r['seconds']:>7.1f}  {r['problem'] or 'ok'}"
        )
    return "\n".join(lines)
