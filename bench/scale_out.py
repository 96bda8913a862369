"""Benchmark: scaling out. Crawl throughput with 1, 2 and 4 frontier workers; replay with local processes and Dask.

1. Starts a redis-server (Debian's; `make redis`) and the local web with `--latency` seconds per answer, so
   the crawl is I/O-bound, over `--hosts` hosts (per-host politeness keeps 2 requests in flight per host
   across all workers). Each worker takes `--concurrency` requests at a time. For 1, 2 and 4 `scrapy worker`
   processes: start them, wait until they are registered, put one round of the outlet in the frontier, and
   time the round at the web (first request to last answer). Prints pages/s and the speed-up over 1 worker
   (target: >= 1.8 at 2 workers). WARC writing is on; extraction and the seen-state are off: what is
   measured is fetching and archiving.
2. Replays a WARC of article pages (the shared corpora, else generated pages) with 1 and 2 local processes
   and with a Dask cluster of 2 processes on this machine (`scrapy replay --dask local`); prints articles/s.

    .venv/bin/python bench/scale_out.py [--pages 1000] [--latency 0.2] [--hosts 16] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import redis  # noqa: E402
from replay_speed import corpus_pages, replay  # noqa: E402

from crawler.frontier import WORKERS_KEY  # noqa: E402
from tests.localweb import LOCAL_CRAWL_SETTINGS, LocalWeb  # noqa: E402
from tests.localweb.generate import write_bulk_site, write_warc  # noqa: E402
from tests.servers import redis_server  # noqa: E402


def crawl_round(web: LocalWeb, url: str, work: Path, workers: int, args: argparse.Namespace) -> tuple[int, float]:
    """One round of outlet ``bulk`` by ``workers`` workers: (pages fetched, seconds)."""
    server = redis.Redis.from_url(url)
    server.flushall()
    archive = Path(tempfile.mkdtemp(dir=work))
    settings = {**LOCAL_CRAWL_SETTINGS, "LOCAL_WEB_PROXY": web.proxy_url, "ARCHIVE_ROOT": str(archive),
                "SPIDER_MODULES": "tests.outlets", "REDIS_URL": url, "FRONTIER_HOST_DELAY": "0",
                "FRONTIER_HOST_CONCURRENCY": "2", "CONCURRENT_REQUESTS": str(args.concurrency),
                "CONCURRENT_REQUESTS_PER_DOMAIN": str(args.concurrency), "INCREMENTAL": "False",
                "ITEM_PIPELINES": "{}", "LOG_LEVEL": "WARNING"}
    options = [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    processes = [subprocess.Popen([sys.executable, "-m", "scrapy", "worker", *options], cwd=REPO, env=env,
                                  stderr=subprocess.DEVNULL) for _ in range(workers)]
    try:
        while server.hlen(WORKERS_KEY) < workers:
            time.sleep(0.1)
        web.served.clear()
        subprocess.run([sys.executable, "-m", "scrapy", "enqueue", "bulk", *options], cwd=REPO, env=env,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while sum("/news/" in s.url for s in list(web.served)) < args.pages:
            time.sleep(0.05)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(120)
    served = list(web.served)
    return len(served), max(s.finished for s in served) - min(s.started for s in served)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the local web takes per answer")
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight per worker")
    parser.add_argument("--replay-pages", type=int, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        work = Path(tmp)
        write_bulk_site(work / "site", args.pages, hosts=args.hosts)
        print(f"{args.pages} pages on {args.hosts} hosts, {args.latency}s per answer, {args.concurrency} requests "
              f"per worker, 2 per host; {os.cpu_count()} cores", flush=True)
        rates = {}
        with redis_server() as url, LocalWeb(work / "site", latency=args.latency) as web:
            for workers in (1, 2, 4):
                pages, seconds = crawl_round(web, url, work, workers, args)
                rates[workers] = pages / seconds
                print(f"{workers} worker(s): {pages} requests in {seconds:.2f}s = {rates[workers]:.1f} pages/s, "
                      f"speed-up {rates[workers] / rates[1]:.2f}x", flush=True)
        print(f"speed-up at 2 workers: {rates[2] / rates[1]:.2f}x (target >= 1.8: "
              f"{'met' if rates[2] / rates[1] >= 1.8 else 'NOT met'}); at 4: {rates[4] / rates[1]:.2f}x\n", flush=True)

        pages = corpus_pages()[: args.replay_pages]
        warc = write_warc(work / "warc", "bench", pages)
        print(f"replay of {len(pages)} article pages ({warc.stat().st_size / 1e6:.1f} MB WARC)", flush=True)
        runs = (("1 local process", 1, ()), ("2 local processes", 2, ()),
                ("Dask, 2 processes on this machine", 2, ("--dask", "local")))
        for number, (label, workers, options) in enumerate(runs):
            stats, _ = replay(warc, work / f"replay-{number}", workers, *options)
            print(f"{label}: {stats['extracted']} articles in {stats['seconds']:.1f}s = "
                  f"{stats['extracted'] / stats['seconds']:.1f} articles/s", flush=True)


if __name__ == "__main__":
    main()
