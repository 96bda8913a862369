"""Benchmark: story assignment (pipelines.stories) — articles assigned per second on 2 cores, and bytes of
index per article as the archive grows.

Generates N articles (default 100,000) as a news archive has them: 20 outlets, 2,000 articles a day, events
that several outlets write up in their own words (shared names and key words over a Zipf-distributed
background vocabulary of 30,000 words), and 15% republications of an earlier article of another outlet
(a wire copy: a few words changed, sometimes trimmed, a credit line). Then:

1. **2 cores** (what replay does): the features of each article (shingles, MinHash, key terms) computed by a
   pool of 2 worker processes, in order, while the main process assigns them to copy groups and stories in
   the catalog, committing every 500 — articles assigned per second, end to end; and the CPU time an article
   takes in each process, with the rates that time allows (the assigning process alone, and 2 cores kept busy).
2. **Baseline, same run**: the first 20,000 assigned by one process computing each article's features itself
   (what one crawl's item pipeline does), and the ratio.
3. **Signatures**: rensa (used) against datasketch's ``MinHash`` (if installed), per article.
4. **Index size**: the catalog's story tables in bytes per article at 10,000, 100,000 and 1,000,000 articles
   (whichever the run reaches), and the LSH index the assigning process holds in memory; with ``--redis`` the
   LSH bands live in a local redis-server and its memory per article is printed instead.
5. **A new process starting** (each scheduled crawl is one), at the size reached: its story index built from
   the stored signatures (and saved beside the catalog), against opened from that file — seconds and peak
   memory of each process.

    .venv/bin/python bench/stories_speed.py [--articles 100000] [--redis]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import multiprocessing
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipelines.catalog import Catalog  # noqa: E402
from pipelines.stories import StoryArticle  # noqa: E402
from pipelines.stories.index import StoryFeatures, StoryIndex  # noqa: E402
from pipelines.stories.lsh import PERMUTATIONS, MemoryBands, signature  # noqa: E402
from pipelines.stories.text import shingles  # noqa: E402

OUTLETS = [f"outlet{n:02d}" for n in range(20)]
PER_DAY = 2_000
FIRST_DAY = date(2026, 1, 1)
CHECKPOINTS = (10_000, 100_000, 1_000_000)
BASELINE = 20_000
COMMIT_EVERY = 500


def vocabulary(size: int, rng: random.Random, capitalised: bool = False) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ro", "sa", "tu", "vi", "za", "po", "de", "gri", "bel", "tor", "an", "es"]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(word.title() if capitalised else word for word in words)


def articles(count: int, seed: int = 11) -> Iterator[StoryArticle]:
    """``count`` generated articles in publication order (deterministic for a seed)."""
    rng = random.Random(seed)
    background = vocabulary(30_000, rng)
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(background))))  # Zipf
    names = vocabulary(5_000, rng, capitalised=True)
    events: list[tuple[list[str], list[str]]] = []
    recent: list[StoryArticle] = []
    for n in range(count):
        day = 1 + n // PER_DAY
        # (consecutive calendar days: 1,000,000 articles span 500 of them, each day holding its own articles only)
        published = f"{FIRST_DAY + timedelta(days=day - 1)}T{n % 24:02d}:00:00Z"
        outlet = OUTLETS[rng.randrange(len(OUTLETS))]
        if recent and rng.random() < 0.15:  # a republication of an earlier article of another outlet
            original = recent[rng.randrange(len(recent))]
            words = original.body.split(" ")
            for _ in range(len(words) // 30):
                words[rng.randrange(len(words))] = rng.choice(background)
            if rng.random() < 0.3:
                words = words[:len(words) * 2 // 3]
            body = " ".join(words) + f"\nSource: {original.site_name}"
            yield StoryArticle(outlet, f"a{n}", f"<urn:bench:{n}>", f"https://{outlet}.example/a{n}", published,
                               published, original.title, "", body, original.site_name, outlet.title())
            continue
        if not events or rng.random() < 0.3:
            events.append((rng.sample(names, 6), rng.choices(background[200:], k=12)))
            del events[:-300]
        event_names, event_words = events[-1 - min(int(rng.expovariate(0.05)), len(events) - 1)]
        paragraphs = []
        for _ in range(rng.randint(5, 10)):
            words = rng.choices(background, cum_weights=cumulative, k=rng.randint(30, 60))
            for _ in range(4):
                words.insert(rng.randrange(len(words)), rng.choice(event_names + event_words))
            paragraphs.append(" ".join(words) + ".")
        title = " ".join([*rng.sample(event_names, 2), *rng.sample(event_words, 3)]).capitalize()
        article = StoryArticle(outlet, f"a{n}", f"<urn:bench:{n}>", f"https://{outlet}.example/a{n}", published,
                               published, title, "", "\n".join(paragraphs), "", outlet.title())
        recent.append(article)
        del recent[:-500]
        yield article


def features(article: StoryArticle) -> StoryFeatures:
    return StoryFeatures.of(article.title, article.standfirst, article.body)


def index_bytes(path: Path) -> int:
    """The size of the catalog's story tables and their indexes (SQLite's dbstat, after a checkpoint)."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    try:
        found = connection.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'story%' OR name IN "
                                   "('stories', 'copy_groups') OR name LIKE 'sqlite_autoindex_story%' "
                                   "OR name LIKE 'sqlite_autoindex_copy%'").fetchone()[0]
    except sqlite3.OperationalError:  # no dbstat in this SQLite: the whole file
        found = path.stat().st_size
    connection.close()
    return int(found or 0)


def assign_on_two_cores(folder: Path, count: int, redis_url: str) -> tuple[float, float]:
    """Articles assigned per second over the whole run, and over the first ``BASELINE`` (the size the one-process
    baseline is measured at: the rate falls as the tables grow)."""
    catalog_path = folder / "catalog.sqlite"
    catalog = Catalog(catalog_path)
    index = StoryIndex.of(catalog, redis_url)
    elapsed, done, early, assigning = 0.0, 0, 0.0, 0.0
    redis_start = _redis_memory(redis_url)
    generated = articles(count)
    workers_before = _children_cpu()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        while chunk := list(itertools.islice(generated, 10_000)):  # generating them is not timed
            # nor scanning them: the garbage collector leaves the generated articles alone (in a replay the
            # assigning process never holds them: its workers read them from the WARCs and send the features)
            gc.freeze()
            started, cpu = time.perf_counter(), time.process_time()
            # only the features come back (replay's workers, too, send what they computed, not the text again)
            for article, computed in zip(chunk, pool.imap(features, chunk, chunksize=64), strict=True):
                index.add(article, commit=False, features=computed)
                done += 1
                if done % COMMIT_EVERY == 0:
                    catalog.commit()
            catalog.commit()
            elapsed += time.perf_counter() - started
            assigning += time.process_time() - cpu
            print(f"  {done:>9,} assigned, {done / elapsed:,.0f}/s", file=sys.stderr)
            if done <= BASELINE:
                early = done / elapsed
            if done in CHECKPOINTS:
                size = index_bytes(catalog_path)
                redis = f"; Redis {(_redis_memory(redis_url) - redis_start) / done:,.0f} B/article" if redis_url else ""
                print(f"  at {done:>9,} articles: story tables {size / done:,.0f} B/article ({size / 2**20:,.1f} MiB)"
                      f"{redis}{_memory_index(index, done)}")
        pool.close()
        pool.join()  # (its workers' CPU time is counted once they are waited for)
    cpu_split(assigning / done, (_children_cpu() - workers_before) / done)
    rate = done / elapsed
    if done not in CHECKPOINTS:
        size = index_bytes(catalog_path)
        print(f"  at {done:>9,} articles: story tables {size / done:,.0f} B/article; "
              f"at 1,000,000 about {size / done * 1_000_000 / 2**30:,.2f} GiB if it grows in proportion"
              f"{_memory_index(index, done)}")
    catalog.close()
    if not redis_url:
        start_up(catalog_path, done)
    return rate, early


def _children_cpu() -> float:
    """CPU seconds of this process's children that ended and were waited for."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def cpu_split(assigning: float, computing: float) -> None:
    """Where the CPU time of an article goes on 2 cores, and the rates it allows: the assigning process takes the
    articles one after another (each is compared with every one before it), so it alone bounds the rate at
    1/assigning; and 2 cores give 2 CPU seconds a second to share between it and the features' workers."""
    print(f"  CPU an article: assignment {assigning * 1e6:,.0f} µs (the main process, the pool's traffic included), "
          f"features {computing * 1e6:,.0f} µs (the 2 workers); at most {1 / assigning:,.0f}/s with assignment in "
          f"one process, {2 / (assigning + computing):,.0f}/s if 2 cores were kept busy with both "
          f"(2,000/s needs 1,000 µs in all)")


#: A new process opening a catalog's story index: seconds, and its peak memory in MiB (VmHWM: ru_maxrss keeps the
#: parent's peak across exec on Linux).
_START = """
import re, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from pipelines.catalog import Catalog
from pipelines.stories.index import StoryIndex
catalog = Catalog(sys.argv[2])
started = time.perf_counter()
StoryIndex.of(catalog)
elapsed = time.perf_counter() - started
print(elapsed, int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text())[1]) / 1024)
"""


def start_up(catalog_path: Path, count: int) -> None:
    """A new process's story index: the first built from the catalog (it saves the file), the next opened."""
    saved = catalog_path.with_name(catalog_path.name + ".lsh")
    saved.unlink(missing_ok=True)
    figures = []
    for _ in range(2):
        run = subprocess.run([sys.executable, "-c", _START, str(REPO), str(catalog_path)], capture_output=True,
                             text=True, check=True)
        figures.append([float(value) for value in run.stdout.split()])
    (built, built_peak), (opened, opened_peak) = figures
    print(f"  a new process at {count:,} articles: story index built from the catalog (and saved beside it) in "
          f"{built:,.2f} s, peak memory {built_peak:,.0f} MiB; opened from that file in {opened:,.2f} s, peak "
          f"{opened_peak:,.0f} MiB ({saved.stat().st_size / 2**20:,.0f} MiB file; {built / max(opened, 1e-3):,.0f}x)")


def assign_in_one_process(folder: Path, count: int) -> float:
    catalog = Catalog(folder / "baseline.sqlite")
    index = StoryIndex.of(catalog)
    generated = list(articles(count))
    gc.freeze()  # (as on 2 cores: the generated articles are not the assigner's to scan)
    started = time.perf_counter()
    for done, article in enumerate(generated, 1):
        index.add(article, commit=False)
        if done % COMMIT_EVERY == 0:
            catalog.commit()
    catalog.commit()
    catalog.close()
    return count / (time.perf_counter() - started)


def signatures(sample: list[StoryArticle]) -> None:
    sets = [shingles(article.standfirst, article.body) for article in sample]
    started = time.perf_counter()
    for found in sets:
        signature(found)
    rensa = (time.perf_counter() - started) / len(sets)
    try:
        from datasketch import MinHash
    except ImportError:
        print(f"  rensa {rensa * 1e6:,.0f} µs/article; datasketch not installed (pip install datasketch to compare)")
        return
    started = time.perf_counter()
    for found in sets:
        sketch = MinHash(num_perm=PERMUTATIONS)
        sketch.update_batch([shingle.encode() for shingle in found])
    datasketch = (time.perf_counter() - started) / len(sets)
    print(f"  rensa {rensa * 1e6:,.0f} µs/article, datasketch {datasketch * 1e6:,.0f} µs/article: "
          f"{datasketch / rensa:,.0f}x")


def _memory_index(index: StoryIndex, done: int) -> str:
    if not isinstance(index.bands, MemoryBands):
        return ""
    return f"; LSH index in memory {index.bands.nbytes / done:,.0f} B/article ({index.bands.nbytes / 2**20:,.0f} MiB)"


def _redis_memory(url: str) -> int:
    if not url:
        return 0
    import redis

    return int(redis.Redis.from_url(url).info("memory")["used_memory"])


def report(count: int, redis_url: str) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-stories-") as tmp:
        folder = Path(tmp)
        print(f"Story assignment, {count:,} generated articles ({PER_DAY:,} a day, 20 outlets, 15% republished)")
        two_cores, early = assign_on_two_cores(folder, count, redis_url)
        print(f"  2 cores (features in 2 worker processes, assignment in the main one): {two_cores:,.0f} assigned/s "
              f"(target >= 2,000/s); peak memory of the assigning process "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
        baseline = min(count, BASELINE)
        one = assign_in_one_process(folder, baseline)
        print(f"  baseline, one process computing features itself ({baseline:,} articles): {one:,.0f} assigned/s; "
              f"2 cores over the same {baseline:,}: {early:,.0f}/s, ratio {early / one:.2f}x")
        print("Signatures (128 permutations):")
        signatures(list(articles(500)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--redis", action="store_true", help="the LSH bands in a local redis-server")
    args = parser.parse_args()
    if args.redis:
        from tests.servers import redis_server

        with redis_server() as url:
            report(args.articles, url)
    else:
        report(args.articles, "")


if __name__ == "__main__":
    main()
