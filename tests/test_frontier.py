"""Distributed crawling: worker processes on one Redis frontier (a real redis-server), against the local web."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import redis
from scrapy import Request
from scrapy.settings import Settings

from crawler.frontier import CLAIMS_KEY, DUPEFILTER_KEY, QUEUE_KEY, WORKERS_KEY
from crawler.frontier.claims import Claims
from crawler.frontier.dupefilter import RoundDupeFilter
from crawler.frontier.politeness import _ACQUIRE
from crawler.schedule.service import Service
from crawler.spiders.ndtv import NdtvSpider
from pipelines.catalog.runs import RunHistory
from pipelines.urls import url_key
from tests.conftest import REPO
from tests.localweb import LOCAL_CRAWL_SETTINGS, LocalWeb
from tests.localweb.generate import STATIC_HOST, write_bulk_site, write_styled_site
from tests.servers import redis_server
from tests.warc_reading import read_records, warcio_check

HOST_DELAY = 0.05  # seconds between request starts to one host, across all workers
HOST_CONCURRENCY = 2


@pytest.fixture
def redis_url():
    with redis_server() as url:
        yield url


class Frontier:
    """Workers (``scrapy worker``) and rounds (``scrapy enqueue``) as real processes."""

    def __init__(self, archive: Path, web: LocalWeb, url: str, settings: dict[str, str] | None = None) -> None:
        self.web, self.redis, self.logs = web, redis.Redis.from_url(url), archive.parent
        settings = {**LOCAL_CRAWL_SETTINGS, "LOCAL_WEB_PROXY": web.proxy_url, "ARCHIVE_ROOT": str(archive),
                    "SPIDER_MODULES": "tests.outlets", "REDIS_URL": url, "FRONTIER_HOST_DELAY": str(HOST_DELAY),
                    "FRONTIER_HOST_CONCURRENCY": str(HOST_CONCURRENCY), "LOG_LEVEL": "INFO", **(settings or {})}
        self.args = [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]
        self.env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.workers: list[subprocess.Popen] = []

    def start_workers(self, count: int) -> list[subprocess.Popen]:
        started = []
        for _ in range(count):
            log = open(self.logs / f"worker-{len(self.workers)}.log", "w")
            worker = subprocess.Popen([sys.executable, "-m", "scrapy", "worker", *self.args], cwd=REPO,
                                      env=self.env, stdout=log, stderr=log)
            self.workers.append(worker)
            started.append(worker)
        deadline = time.monotonic() + 60
        while not all(self.registered(worker) for worker in started):
            assert time.monotonic() < deadline, "workers did not register"
            assert all(worker.poll() is None for worker in started), "a worker died on start"
            time.sleep(0.1)
        return started

    def registered(self, worker: subprocess.Popen) -> bool:
        return any(key.decode().startswith(f"{worker.pid}~") for key in self.redis.hkeys(WORKERS_KEY))

    def enqueue(self, outlet: str, queued: int = 1) -> None:
        """A round: the outlet's seed (and ``queued - 1`` articles due a revisit)."""
        done = subprocess.run([sys.executable, "-m", "scrapy", "enqueue", outlet, *self.args], cwd=REPO,
                              env=self.env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and f"{outlet}: {queued} requests queued" in done.stdout, done.stdout + done.stderr

    def drain(self, quiet: float = 1.5, timeout: float = 90) -> None:
        """Wait until the queue is empty and the web has had no request for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        seen, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            if len(self.web.served) != seen or self.redis.llen(QUEUE_KEY):
                seen, since = len(self.web.served), time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.1)
        raise AssertionError("the frontier did not drain")

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            worker.wait(60)


@pytest.mark.slow
def test_three_workers_one_killed_archive_every_article_once_and_keep_per_host_politeness(
    tmp_path: Path, redis_url: str
) -> None:
    urls = write_bulk_site(tmp_path / "site", 240, hosts=3)
    archive = tmp_path / "archive"
    warc_dir = archive / "bulk" / "warc"
    with LocalWeb(tmp_path / "site", latency=0.05) as web:
        frontier = Frontier(archive, web, redis_url)
        try:
            victim, *_ = frontier.start_workers(3)
            frontier.enqueue("bulk")
            deadline = time.monotonic() + 60
            while sum("/news/" in served.url for served in web.served) < len(urls) // 3:
                assert time.monotonic() < deadline, "the crawl did not get going"
                time.sleep(0.02)
            victim.send_signal(signal.SIGKILL)  # midway: requests in its hands are lost, its WARC is left .open
            assert victim.wait(10) == -signal.SIGKILL
            assert list(warc_dir.glob(f"*-{victim.pid}~*.warc.gz.open"))
            # a worker added while the others run; it closes the dead worker's WARC
            frontier.start_workers(1)
            frontier.drain()
            # the next round finds again what the dead worker had taken but not archived
            frontier.enqueue("bulk")
            frontier.drain()
        finally:
            frontier.stop()
        served = list(web.served)

    assert [worker.returncode for worker in frontier.workers[1:]] == [0, 0, 0]
    assert not list(warc_dir.glob("*.open"))
    archived: Counter[str] = Counter()
    writers = set()
    for path in sorted(warc_dir.glob("*.warc.gz")):
        assert warcio_check(path).returncode == 0, path
        writers.add(path.name.split("-")[3].split("~")[0])
        archived.update(r.uri for r in read_records(path) if r.type == "response" and r.status == 200
                        and "/news/" in r.uri)
    assert {url: archived[url] for url in urls} == {url: 1 for url in urls}, "each article archived exactly once"
    # Each WARC is named by the worker that wrote it. The three first workers all wrote; the one added late may
    # find the queue already empty (its job here is closing the dead worker's WARC, checked above).
    first_three = {str(worker.pid) for worker in frontier.workers[:3]}
    every_worker = {str(worker.pid) for worker in frontier.workers}
    assert first_three <= writers <= every_worker, "every worker wrote its own WARCs"
    assert sum(1 for served in served if "/news/" in served.url) >= len(urls)
    texts = list((archive / "bulk" / "text").rglob("*.json"))
    assert len(texts) == len(urls), "every archived article extracted, the dead worker's included"

    by_host: dict[str, list] = defaultdict(list)
    for request in served:
        by_host[request.url.split("/")[0]].append(request)
    assert {"s0.bulk.test", "s1.bulk.test", "s2.bulk.test"} <= set(by_host)
    for host, requests in by_host.items():
        events = sorted([(r.started, 1) for r in requests] + [(r.finished, -1) for r in requests])
        in_flight = peak = 0
        for _, change in events:
            in_flight += change
            peak = max(peak, in_flight)
        assert peak <= HOST_CONCURRENCY, (host, peak)
        # Starts are spaced HOST_DELAY apart on the Redis clock; the server sees each a little later (connection
        # set-up, a busy worker), so it is held to the rate: in any window of 10 delays, at most 10 starts and
        # a margin of 2 (concurrency alone would allow ~20 here: 2 in flight, 50 ms each).
        starts = sorted(r.started for r in requests)
        window = 10 * HOST_DELAY
        busiest = max(sum(1 for t in starts[i:] if t < start + window) for i, start in enumerate(starts))
        assert busiest <= 12, (host, busiest)


def test_an_idle_worker_commits_its_revisits_so_other_processes_see_them(tmp_path: Path, redis_url: str) -> None:
    """An unchanged revisit writes only seen-state, batched until the next capture: when none comes (the
    worker waits for the next round) the batch must still be committed, or the next round fetches again
    and the open transaction holds SQLite's write lock against every other crawl."""
    urls = write_bulk_site(tmp_path / "site", 30)
    archive = tmp_path / "archive"
    with LocalWeb(tmp_path / "site") as web:
        frontier = Frontier(archive, web, redis_url)
        frontier.args += ["-s", "REVISIT_AFTER=2s"]
        try:
            frontier.start_workers(1)
            frontier.enqueue("bulk")
            frontier.drain()
            time.sleep(2)  # every article is due a revisit; it has not changed
            frontier.enqueue("bulk", queued=1 + len(urls))
            frontier.drain()
            with sqlite3.connect(archive / "catalog.sqlite", timeout=30) as catalog:
                fetches = dict(catalog.execute("SELECT url, fetches FROM seen WHERE outlet = 'bulk'").fetchall())
                catalog.execute("BEGIN IMMEDIATE")  # the write lock is free
                catalog.rollback()
            assert frontier.workers[0].poll() is None, "the worker still waits for the next round"
        finally:
            frontier.stop()
    assert fetches == {url: 2 for url in urls}


def test_the_service_puts_scheduled_runs_in_the_frontier_when_redis_url_is_set(tmp_path: Path, redis_url: str) -> None:
    settings = Settings()
    settings.setmodule("settings", priority="project")
    for name, value in {"ARCHIVE_ROOT": str(tmp_path), "REDIS_URL": redis_url, "SCHEDULE_OUTLETS": "ndtv"}.items():
        settings.set(name, value, priority="cmdline")
    service = Service(settings)
    service.crawl("ndtv", "run-now")
    service.crawl("ndtv", "schedule")  # a second round: the same URLs again, not duplicates of the first
    queued = redis.Redis.from_url(redis_url).llen(QUEUE_KEY)
    ndtv = NdtvSpider()
    seeds = len(ndtv.feeds) + len(ndtv.sitemaps) + len(ndtv.front_pages) + len(ndtv.robots_urls())
    assert queued == 2 * seeds
    [second, first] = RunHistory(tmp_path / "catalog.sqlite").runs("ndtv")
    assert (first["trigger"], first["status"]) == ("run-now", "ok")
    assert (second["trigger"], second["status"]) == ("schedule", "ok")
    assert json.loads(first["stats"]) == {"frontier/enqueued": seeds}
    assert not (tmp_path / "ndtv" / "logs").exists(), "no crawl of its own"


def test_host_slots_limit_concurrency_and_spacing_and_expire(redis_url: str) -> None:
    server = redis.Redis.from_url(redis_url)
    acquire = server.register_script(_ACQUIRE)
    keys = ["t:holders", "t:next"]
    assert float(acquire(keys=keys, args=["a", 2, 0.3, 30])) == 0
    wait = float(acquire(keys=keys, args=["b", 2, 0.3, 30]))
    assert 0.2 < wait <= 0.3, "the next start waits for the delay"
    time.sleep(wait)
    assert float(acquire(keys=keys, args=["b", 2, 0.3, 30])) == 0
    time.sleep(0.3)
    assert float(acquire(keys=keys, args=["c", 2, 0.3, 30])) == -1, "two in flight: the host is full"
    server.zrem(keys[0], "a")  # a response came back
    assert float(acquire(keys=keys, args=["c", 2, 0.3, 30])) == 0
    # a worker that dies holding a slot loses it when the lease runs out
    dead = ["u:holders", "u:next"]
    assert float(acquire(keys=dead, args=["x", 1, 0, 0.3])) == 0
    assert float(acquire(keys=dead, args=["y", 1, 0, 0.3])) == -1
    time.sleep(0.35)
    assert float(acquire(keys=dead, args=["y", 1, 0, 0.3])) == 0


def test_duplicates_are_filtered_within_a_round_only(redis_url: str) -> None:
    dupes = RoundDupeFilter(redis.Redis.from_url(redis_url), DUPEFILTER_KEY)
    first = Request("https://www.bulk.test/news/story-1", meta={"frontier_round": "bulk@1"})
    assert not dupes.request_seen(first)
    assert dupes.request_seen(first.replace(url="https://www.bulk.test/news/story-1#top"))
    assert not dupes.request_seen(first.replace(meta={"frontier_round": "bulk@2"}))
    dupes.clear()
    assert not dupes.request_seen(first)


def _race(url: str, worker: str, spellings: list[tuple[str, str]], start: Any, out: Any) -> None:
    """One racing worker: wait for the others at the barrier, claim every spelling; send back what it won."""
    claims = Claims(redis.Redis.from_url(url), worker)
    order = list(spellings)
    random.Random(worker).shuffle(order)
    claims.server.ping()  # connected before the start
    start.wait()
    out.put((worker, [url_key(spelled) for outlet, spelled in order if claims.claim("bulk@1", outlet, spelled)]))


def test_two_spellings_of_an_article_raced_by_workers_are_claimed_once(redis_url: str) -> None:
    """20 runs: three worker processes claim 100 articles, each under three spellings, all at the same moment."""
    server = redis.Redis.from_url(redis_url)
    articles = [f"https://www.bulk.test/news/story-{n}" for n in range(100)]
    spellings = [("bulk", spelled) for article in articles
                 for spelled in (article, f"{article}?utm_source=feed", f"{article}/")]
    context = multiprocessing.get_context("fork")
    winners: Counter[str] = Counter()
    for run in range(20):
        server.flushdb()
        out, start = context.Queue(), context.Barrier(3)
        racers = [context.Process(target=_race, args=(redis_url, f"{n}~test", spellings, start, out))
                  for n in range(3)]
        for racer in racers:
            racer.start()
        won = [out.get(timeout=30) for _ in racers]
        for racer in racers:
            racer.join(10)
        claimed = Counter(key for _, keys in won for key in keys)
        assert claimed == Counter({url_key(article): 1 for article in articles}), f"run {run}"
        winners.update(worker for worker, keys in won if keys)
    assert len(winners) >= 2, "the workers did race"


def test_a_claim_holds_for_its_round_and_expires(redis_url: str) -> None:
    server = redis.Redis.from_url(redis_url)
    one, other = Claims(server, "one~h", ttl=1), Claims(server, "other~h", ttl=1)
    assert one.claim("bulk@1", "bulk", "https://www.bulk.test/news/a")
    assert not other.claim("bulk@1", "bulk", "https://www.bulk.test/news/a?utm_medium=x"), "claimed in the round"
    assert not one.claim("bulk@1", "bulk", "https://www.bulk.test/news/a/"), "its own claim: another spelling"
    assert other.claim("bulk@2", "bulk", "https://www.bulk.test/news/a"), "the next round: the seen-state decides"
    assert other.claim("bulk@1", "ndtv", "https://www.bulk.test/news/a"), "another outlet's article"
    time.sleep(1.2)  # a dead worker's claim leaves nothing behind
    assert other.claim("bulk@1", "bulk", "https://www.bulk.test/news/a")
    assert 0 < server.ttl(f"{CLAIMS_KEY}:bulk@1:bulk:{url_key('https://www.bulk.test/news/a')}") <= 1


@pytest.mark.slow
def crawl_with_two_workers(archive: Path, web: LocalWeb, redis_url: str,
                           settings: dict[str, str] | None = None) -> None:
    """Outlet bulk's round, crawled by two workers until the frontier is drained."""
    frontier = Frontier(archive, web, redis_url, settings)
    try:
        frontier.start_workers(2)
        frontier.enqueue("bulk")
        frontier.drain()
    finally:
        frontier.stop()


def test_workers_fetch_an_article_linked_under_two_spellings_once(tmp_path: Path, redis_url: str) -> None:
    urls = write_bulk_site(tmp_path / "site", 60, hosts=3)
    sitemap = tmp_path / "site" / "bulk" / "web" / "www.bulk.test" / "sitemap.xml"
    entries = "".join(f"<url><loc>{spelled}</loc></url>" for url in urls
                      for spelled in (url, f"{url}?utm_source=sitemap", f"{url}/"))
    sitemap.write_text(f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                       f"{entries}</urlset>")
    archive = tmp_path / "archive"
    with LocalWeb(tmp_path / "site", latency=0.05) as web:
        crawl_with_two_workers(archive, web, redis_url)
        fetched = Counter(served.url.split("?")[0].rstrip("/") for served in web.served if "/news/" in served.url)
    assert fetched == Counter({url.removeprefix("https://"): 1 for url in urls}), "each article fetched once"
    logs = "".join(path.read_text() for path in tmp_path.glob("worker-*.log"))
    assert "frontier/dropped_claimed" in logs or "frontier/dropped_already_archived" in logs


def test_workers_share_page_requisites_and_fetch_each_once(tmp_path: Path, redis_url: str) -> None:
    """Two workers taking 24 pages that share a stylesheet, a font and a logo: each is claimed and fetched once
    (``REQUISITE_REFRESH=0``: only the claim, not the catalog's memory of an earlier fetch, keeps the second
    worker from fetching them again)."""
    urls = write_styled_site(tmp_path / "site", 24)
    archive = tmp_path / "archive"
    with LocalWeb(tmp_path / "site", latency=0.05) as web:
        crawl_with_two_workers(archive, web, redis_url, {"REQUISITE_REFRESH": "0"})
        fetched = Counter(served.url for served in web.served)  # a 304 is a fetch too
    assert all(fetched[url.removeprefix("https://")] == 1 for url in urls)
    shared = [url for url in fetched if url.startswith(STATIC_HOST) and not url.endswith("robots.txt")]
    assert sorted(shared) == sorted(f"{STATIC_HOST}/{path}" for path in (
        "css/site.css", "css/type.css", "fonts/serif.woff2", "img/paper.png", "img/logo.svg"))
    assert all(fetched[url] == 1 for url in shared), fetched
    photos = [f"www.bulk.test/images/story-{n}.png" for n in range(24)]
    assert all(fetched[photo] == 1 for photo in photos)
    workers = [read_records(warc) for warc in sorted((archive / "bulk" / "warc").glob("*.warc.gz"))]
    assert len(workers) >= 2, "both workers archived"
