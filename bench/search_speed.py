"""Benchmark: the reading room's search over 100,000 articles, and streaming a search out as an export.

1. Builds a catalog of N generated articles (default 100,000; ~250 words each over a Zipf-distributed
   vocabulary of 20,000 words, 10 outlets, 90 days) through ``Catalog.index_article``, the capture path's
   own write, and prints the index build time (articles/s).
2. Runs 200 searches as the search page does (``Search.run``: count, a page of 20 with snippets, three
   facets, per-day counts and day totals), each a two-word phrase drawn from the texts, filtered to one
   outlet and a 30-day publication range around an article that has it (its words not among the
   vocabulary's 200 commonest: those are its stop words), and prints the median and p95 latency (target p95 <= 50 ms on
   SQLite). Baseline in the same run: the same phrase and filter found by scanning the text with ``LIKE``
   (what a catalog without the index would do), and the ratio.
3. Streams every article (``Search.rows`` with text) out as CSV in a process of its own and prints rows/s
   and that process's peak RSS (target <= 200 MB); baseline: the same rows read by a bare cursor.

    .venv/bin/python bench/search_speed.py [--articles 100000] [--postgres]
"""

from __future__ import annotations

import argparse
import csv
import io
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from pipelines.catalog import Catalog, engine_for  # noqa: E402
from pipelines.search import Search, SearchQuery  # noqa: E402

OUTLETS = [f"outlet{n}" for n in range(10)]
FIRST_DAY = date(2026, 1, 1)
DAYS = 90


def vocabulary(size: int, rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ro", "sa", "tu", "vi", "za", "po", "de", "gri", "bel", "tor", "an", "es"]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def build(database: str, articles: int, seed: int = 7) -> tuple[float, list[str]]:
    """Index ``articles`` generated articles; (seconds, the texts' vocabulary by frequency rank)."""
    rng = random.Random(seed)
    words = vocabulary(20_000, rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]  # Zipf
    catalog = Catalog(database)
    started = time.perf_counter()
    for n in range(articles):
        outlet = OUTLETS[n % len(OUTLETS)]
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        text = rng.choices(words, weights, k=250)
        body = "\n".join(" ".join(text[i:i + 25]).capitalize() + "." for i in range(0, 250, 25))
        catalog.index_article({
            "outlet": outlet, "url_key": f"www.{outlet}.test/news/{n}", "record_id": f"<urn:uuid:{n:012d}>",
            "version": 1, "url": f"https://www.{outlet}.test/news/{n}", "title": " ".join(text[:8]).capitalize(),
            "standfirst": " ".join(text[8:30]), "body": body, "byline": f"By Writer {n % 300}",
            "source": outlet, "section": "world", "language": "en", "published": f"{day.isoformat()}T10:00:00+00:00",
            "fetched": f"{day.isoformat()}T11:00:00.000000Z", "first_fetched": f"{day.isoformat()}T11:00:00.000000Z",
            "day": day.isoformat(), "word_count": 250,
        }, [f"Writer {n % 300}"], commit=n % 1000 == 999)
        if n % 10_000 == 9_999:
            print(f"  {n + 1:,} articles indexed ({time.perf_counter() - started:.0f}s)", flush=True)
    catalog.close()
    return time.perf_counter() - started, words


def phrases(database: str, words: list[str], count: int, seed: int = 11) -> list[SearchQuery]:
    """Searches as a researcher makes them: a two-word phrase that occurs in some article (its words not
    among the 200 commonest, which are the stop words of this vocabulary), that article's outlet, and a
    30-day publication range around its day."""
    rng = random.Random(seed)
    common = set(words[:200])
    engine = engine_for(database)
    found = []
    with engine.connect() as connection:
        total = connection.execute(sa.text("SELECT max(id) FROM articles")).scalar_one()
        while len(found) < count:
            outlet, day, body = connection.execute(sa.text("SELECT outlet, day, body FROM articles WHERE id = :id"),
                                                   {"id": rng.randint(1, total)}).one()
            text = body.replace(".", "").lower().split()
            pairs = [(a, b) for a, b in zip(text, text[1:], strict=False) if a not in common and b not in common]
            if not pairs:
                continue
            first, second = rng.choice(pairs)
            start = date.fromisoformat(day) - timedelta(days=rng.randrange(30))
            found.append(SearchQuery(text=f'"{first} {second}"', outlets=(outlet,), published_from=start.isoformat(),
                                     published_to=(start + timedelta(days=29)).isoformat()))
    engine.dispose()
    return found


def latencies(database: str, queries: list[SearchQuery]) -> tuple[list[float], list[int]]:
    search = Search(engine_for(database))
    search.run(queries[0])  # warm the page cache once
    times, totals = [], []
    for query in queries:
        started = time.perf_counter()
        totals.append(search.run(query).total)
        times.append((time.perf_counter() - started) * 1000)
    return times, totals


def scan_latencies(database: str, queries: list[SearchQuery]) -> list[float]:
    """The baseline: the same phrase and filters found by scanning every text (no index)."""
    engine = engine_for(database)
    times = []
    sql = sa.text("SELECT count(*) FROM articles WHERE outlet = :outlet AND published >= :start "
                  "AND published < :end AND (lower(title) LIKE :like OR lower(standfirst) LIKE :like "
                  "OR lower(body) LIKE :like)")
    with engine.connect() as connection:
        for query in queries[:20]:  # a scan is slow: a sample is enough
            started = time.perf_counter()
            connection.execute(sql, {"outlet": query.outlets[0], "start": query.published_from,
                                     "end": query.published_to + "T99", "like": f"%{query.text.strip(chr(34))}%"})
            times.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    return times


def export(database: str, bare: bool, results: multiprocessing.Queue) -> None:
    """In a process of its own: stream every article out as CSV (to nowhere); report rows/s and peak RSS."""
    started = time.perf_counter()
    rows = 0
    sink = io.StringIO()
    if bare:
        engine = engine_for(database)
        with engine.connect().execution_options(stream_results=True, yield_per=1000) as connection:
            rows = sum(1 for _ in connection.execute(sa.text("SELECT * FROM articles")))
    else:
        writer = None
        for row in Search(engine_for(database)).rows(SearchQuery(order="oldest")):
            if writer is None:
                writer = csv.DictWriter(sink, fieldnames=list(row))
                writer.writeheader()
            writer.writerow(row)
            rows += 1
            if sink.tell() > 1 << 20:
                sink.seek(0)
                sink.truncate()
    seconds = time.perf_counter() - started
    peak = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                if line.startswith("VmHWM:"))
    results.put((rows, seconds, peak // 1024))


def run_export(database: str, bare: bool) -> tuple[int, float, int]:
    context = multiprocessing.get_context("spawn")  # a fresh process: its peak RSS is the export's alone
    results = context.Queue()
    process = context.Process(target=export, args=(database, bare, results))
    process.start()
    found = results.get()
    process.join()
    return found


def report(label: str, database: str, articles: int) -> None:
    print(f"\n{label}: building the index of {articles:,} articles ...", flush=True)
    seconds, words = build(database, articles)
    print(f"index build: {seconds:.1f}s = {articles / seconds:,.0f} articles/s", flush=True)
    queries = phrases(database, words, 200)
    times, totals = latencies(database, queries)
    p95 = statistics.quantiles(times, n=20)[-1]
    print(f"search (phrase + outlet + 30-day range, facets, per-day chart): median {statistics.median(times):.1f} ms,"
          f" p95 {p95:.1f} ms over {len(times)} queries (median {statistics.median(totals):.0f} matches)"
          f"  (target p95 <= 50 ms on SQLite: {'met' if p95 <= 50 else 'NOT met'})", flush=True)
    scans = scan_latencies(database, queries)
    print(f"baseline, the same found by scanning the texts (LIKE, count only): median {statistics.median(scans):.1f} ms"
          f" -> the index answers {statistics.median(scans) / statistics.median(times):.0f}x faster", flush=True)
    rows, seconds, peak = run_export(database, bare=False)
    bare_rows, bare_seconds, bare_peak = run_export(database, bare=True)
    print(f"export (every article as CSV, with text): {rows:,} rows in {seconds:.1f}s = {rows / seconds:,.0f} rows/s,"
          f" peak RSS {peak} MB  (target <= 200 MB: {'met' if peak <= 200 else 'NOT met'})")
    print(f"baseline, a bare cursor over the same rows: {bare_rows / bare_seconds:,.0f} rows/s, peak RSS {bare_peak} MB"
          f" -> export runs at {(rows / seconds) / (bare_rows / bare_seconds):.2f} of it")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL (Debian's server, started here)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        report("SQLite FTS5", str(Path(tmp) / "catalog.sqlite"), args.articles)
    if args.postgres:
        from tests.servers import postgres_server

        with postgres_server() as url:
            report("PostgreSQL full text", url, args.articles)


if __name__ == "__main__":
    main()
