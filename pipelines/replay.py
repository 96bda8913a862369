"""Offline replay: the archive's WARCs, run again through the capture path, with no network.

The main process streams the archive (:mod:`pipelines.warc_reader`) and hands
each article capture to a pool of worker processes (or a Dask cluster), which
decode, extract and write its files (:func:`pipelines.process.extract`); only a
bounded number of captures is in flight, so memory stays flat whatever the size
of the WARCs. The catalog is written here, in capture order, by the same steps
the crawl runs (:mod:`pipelines.process`): replaying an archive into an empty
catalog rebuilds what its crawls wrote (captures and their versions, unchanged
revisits, rejections, the seen-state, each run's extraction coverage).

Which captures are articles is read from the crawl's own ``metadata`` records
(``role: article``); WARCs from other crawlers have none, so every ``200`` HTML
response of theirs is tried, under the outlet whose domains cover its host.
The outputs are named from the capture alone (:mod:`pipelines.output`), so
replaying the WARCs of a crawl gives byte for byte the files the crawl wrote.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import sqlite3
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from pipelines.capture import ARTICLE, HTML_MEDIA_TYPES, REQUISITE, Capture
from pipelines.catalog import Catalog
from pipelines.health import RunStats, count, record_run
from pipelines.outlets import OutletProfile, Outlets
from pipelines.process import (
    DUPLICATE,
    NEW,
    REJECTED,
    UNCHANGED,
    UPDATED,
    CaptureSettings,
    Extracted,
    extract,
    mark_fetched,
    mark_requisite,
    names_for,
    record,
)
from pipelines.stories.index import StoryIndex
from pipelines.urls import url_key
from pipelines.warc_reader import Damage, read_archive, read_capture

ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz", ".wacz")
DASK_BATCH = 16  # captures per Dask task: one task per capture spends more on scheduling than on extraction
LOCAL_BATCH = 4  # captures per local process task
#: What replay does with a capture: extract it, record an unchanged revisit, or (catch-up) only its seen-state.
EXTRACT, SEEN_ONLY = "extract", "seen-only"
COMMIT_EVERY = 200  # catalog rows per transaction
MAX_REDIRECTS = 20  # hops followed back from an article to the first URL that redirected to it
#: A crawl's WARC file names (pipelines.output): outlet, time, serial, writer (``<pid>~<host>`` for a worker).
_OUR_WARC = re.compile(r"^([a-z][a-z0-9_]*)-\d{17}-(\d{5})-([A-Za-z0-9._~]+)\.warc\.gz$")


@dataclass
class ReplayStats:
    files: int = 0
    bytes: int = 0
    captures: int = 0
    extracted: int = 0
    unchanged: int = 0  # revisit records of articles already archived
    rejected: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    damaged: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "bytes": self.bytes,
            "captures": self.captures,
            "extracted": self.extracted,
            "unchanged": self.unchanged,
            "rejected": dict(self.rejected),
            "skipped": dict(self.skipped),
            "damaged": self.damaged,
            "damaged_count": sum(1 for d in self.damaged if not d["used"]),
            "seconds": round(self.seconds, 3),
            "articles_per_second": round(self.extracted / self.seconds, 2) if self.seconds else 0.0,
        }


def archive_files(paths: Iterable[Path]) -> list[Path]:
    """The archive files named or found under the given paths, in name order (chronological for ours)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(ARCHIVE_SUFFIXES))
            )
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return found


def replay(
    paths: Iterable[Path],
    output: Path,
    outlets: Outlets,
    settings: CaptureSettings | None = None,
    workers: int = 0,
    progress: Any = None,
    catalog: Catalog | Path | str | None = None,
    dask: str | None = None,
    skip_recorded: bool = False,
    coverage: bool = True,
) -> ReplayStats:
    """Run every capture in ``paths`` through the capture path into ``output``; never raises on bad archives.

    Extraction runs in ``workers`` local processes, or on a Dask cluster (``dask``: see :func:`extraction_pool`).
    Rows go to ``catalog``: an open :class:`Catalog`, or a database URL or SQLite file to open (by default
    ``output/catalog.sqlite``). ``skip_recorded``: captures the catalog has a row for are only marked as
    fetched (catch-up after a killed crawl). ``coverage``: record each crawl run's extraction coverage.
    """
    settings = settings or CaptureSettings()
    files = archive_files(paths)
    stats = ReplayStats(files=len(files))
    started = time.monotonic()
    opened = not isinstance(catalog, Catalog)
    store = Catalog(catalog or output / "catalog.sqlite") if opened else catalog
    try:
        StoryIndex.of(store, settings.redis_url, output)  # where story assignment keeps its LSH index
        with extraction_pool(workers or os.cpu_count() or 1, dask) as (pool, parallel, batch_size), _Index() as index:
            recorder = _Recorder(store, settings, stats, coverage)
            queue = _Queue(pool, output, settings.max_size, batch_size, 4 * parallel, recorder)
            for item in _captures(files, index, stats):
                if item.role == REQUISITE:
                    mark_requisite(store, item, commit=False)  # which requisites an outlet's archive holds
                job = _plan(item, outlets, index, stats)
                if job is not None and skip_recorded and store.has_capture(job[0].location.record_id):
                    job = (job[0], job[1], SEEN_ONLY)  # recorded already: only its seen-state, if that is missing
                if job is not None:
                    queue.put(*job)
                if progress is not None:
                    progress(stats)
            queue.finish()
            recorder.finish()
    finally:
        if opened:
            store.close()
        else:
            store.commit()
        stats.seconds = time.monotonic() - started
    return stats


# --- reading: what each capture is -------------------------------------------------------------------


def _captures(files: list[Path], index: _Index, stats: ReplayStats) -> Iterator[Capture]:
    """Every capture of the files, in order; damage is tallied, redirects and payloads indexed."""
    for path in files:
        done_before = stats.bytes
        for item in read_archive(path):
            if isinstance(item, Damage):
                stats.damaged.append(asdict(item))
                continue
            assert item.location is not None
            stats.captures += 1
            stats.bytes = done_before + item.location.offset + item.location.length
            index.add(item, path)
            yield item
        stats.bytes = done_before + path.stat().st_size


def _plan(
    capture: Capture, outlets: Outlets, index: _Index, stats: ReplayStats
) -> tuple[Capture, OutletProfile, str] | None:
    """What the capture path does with a capture: (capture, its outlet, EXTRACT or UNCHANGED), or None
    (skipped, and counted)."""
    ours = capture.role is not None
    if capture.status != 200:
        stats.skipped["not-200"] += 1
        return None
    if ours and capture.role != ARTICLE:
        stats.skipped[f"role-{capture.role or 'none'}"] += 1
        return None
    if capture.is_revisit:
        resolved = index.resolve(capture)
        if resolved is None:
            stats.skipped["revisit-unresolved"] += 1
            return None
        capture = resolved
    elif not ours and capture.media_type not in HTML_MEDIA_TYPES:
        stats.skipped["not-html"] += 1
        return None
    outlet = outlets.of(capture.url, capture.outlet)
    if capture.redirected_from:
        capture = replace(capture, redirected_from=index.redirect_chain(capture))
    if not capture.is_revisit:
        try:
            names_for(capture, outlet.name)
        except ValueError:
            stats.skipped["unnamed"] += 1
            return None
    return capture, outlet, UNCHANGED if capture.is_revisit else EXTRACT


class _Index:
    """What replay remembers of captures already read, on disk (so memory stays flat): where each payload
    is (to resolve revisit records) and which URL redirected to which (the keys an article was fetched under).

    A private temporary SQLite database: the operating system removes it when the process ends, however it ends.
    """

    def __enter__(self) -> _Index:
        self._db = sqlite3.connect("")  # "": a temporary database, its file unlinked as soon as it is made
        self._db.execute("CREATE TABLE payloads (digest TEXT, url TEXT, record_id TEXT, path TEXT, offset INTEGER)")
        self._db.execute("CREATE INDEX by_digest ON payloads (digest)")
        self._db.execute("CREATE INDEX by_url ON payloads (url)")
        self._db.execute("CREATE TABLE redirects (url TEXT PRIMARY KEY, came_from TEXT)")
        return self

    def __exit__(self, *exc: object) -> None:
        self._db.close()

    def add(self, capture: Capture, path: Path) -> None:
        location = capture.location
        assert location is not None
        if capture.redirected_from:
            self._db.execute(
                "INSERT OR REPLACE INTO redirects VALUES (?, ?)", (capture.url, capture.redirected_from[-1])
            )
        if not location.is_revisit and "!" not in location.file:  # records inside a WACZ cannot be re-read by offset
            self._db.execute(
                "INSERT INTO payloads VALUES (?, ?, ?, ?, ?)",
                (location.payload_digest, capture.url, location.record_id, str(path), location.offset),
            )

    def redirect_chain(self, capture: Capture) -> tuple[str, ...]:
        """Every URL that redirected, hop by hop, to the capture's (its metadata record names only the last)."""
        chain = list(capture.redirected_from)
        while len(chain) < MAX_REDIRECTS:
            found = self._db.execute("SELECT came_from FROM redirects WHERE url = ?", (chain[0],)).fetchone()
            if found is None or found[0] in chain or found[0] == capture.url:
                break
            chain.insert(0, found[0])
        return tuple(chain)

    def resolve(self, revisit: Capture) -> Capture | None:
        """A revisit record as the capture path takes it: unchanged when it repeats the same article (kept
        as a revisit, its original named), else the original's payload under the revisit's URL; None when
        the original is not in the archive."""
        location = revisit.location
        assert location is not None
        same_article = url_key(revisit.refers_to_url or revisit.url) == url_key(revisit.url)
        if location.revisit_of not in {"", "?"} and same_article:
            return revisit  # the crawl's own revisits name their original
        found = None
        if location.payload_digest:
            found = self._db.execute(
                "SELECT url, record_id, path, offset FROM payloads WHERE digest = ? ORDER BY rowid DESC LIMIT 1",
                (location.payload_digest,),
            ).fetchone()
        if found is None:
            found = self._db.execute(
                "SELECT url, record_id, path, offset FROM payloads WHERE url = ? ORDER BY rowid DESC LIMIT 1",
                (revisit.refers_to_url or revisit.url,),
            ).fetchone()
        if found is None:
            return None
        url, record_id, path, offset = found
        if url_key(url) == url_key(revisit.url):
            return replace(revisit, location=replace(location, revisit_of=record_id))
        try:
            original = read_capture(Path(path), offset)
        except Exception:  # noqa: BLE001 - an original that cannot be read back leaves the revisit unresolved
            return None
        return replace(
            revisit,
            payload=original.payload,
            headers={**original.headers, **revisit.headers},
            location=replace(location, revisit_of=""),
        )


# --- extraction: here, in local processes or on Dask ---------------------------------------------------


@contextmanager
def extraction_pool(workers: int, dask: str | None) -> Iterator[tuple[Executor | None, int, int]]:
    """Where captures are extracted, how many batches at once, and how many captures make a batch: this
    process, a local process pool, or Dask (whose per-task overhead wants larger batches).

    ``dask`` is the address of a Dask scheduler (``tcp://host:8786``; every machine running
    ``dask worker tcp://host:8786`` takes part, each needing this project installed and ``output`` at the
    same path, e.g. a shared mount), or ``"local"``: a Dask cluster of ``workers`` processes on this machine.
    The archive is read here and each capture sent to a worker; only the catalog columns come back.
    Local worker processes end with the replay that started them, however it ends (:func:`_follow_parent`).
    """
    if dask:
        from distributed import Client, LocalCluster

        cluster = None
        if dask == "local":
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
        client = Client(cluster or dask)
        try:
            yield client.get_executor(pure=False), max(1, sum(client.nthreads().values())), DASK_BATCH
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    elif workers > 1:
        pool = ProcessPoolExecutor(workers, initializer=_follow_parent, initargs=(os.getpid(),))
        try:
            yield pool, workers, LOCAL_BATCH
        finally:
            pool.shutdown(cancel_futures=True)
    else:
        yield None, 1, 1


def _follow_parent(parent: int) -> None:
    """In a worker process: end when the replay that started it ends, even by SIGKILL.

    A pool's workers otherwise outlive a killed parent, blocked on the pool's call queue forever. Linux
    delivers SIGKILL on the parent's death (``PR_SET_PDEATHSIG``); elsewhere, and as a second guard, a
    thread notices the parent is gone within a second.
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="follow-parent", daemon=True).start()


def _extract_batch(root: Path, jobs: list[tuple[Capture, OutletProfile]], max_size: int) -> list[Extracted]:
    return [extract(capture, outlet, root, max_size) for capture, outlet in jobs]


@dataclass
class _Slot:
    """A capture waiting for its turn at the catalog (payload dropped: the worker has it)."""

    capture: Capture
    outlet: str
    kind: str  # EXTRACT, UNCHANGED (a revisit record) or SEEN_ONLY (in the catalog already)
    batch: Future | None = None
    position: int = 0
    extracted: Extracted | None = None
    ready: bool = False


class _Queue:
    """Captures in archive order: extraction runs ahead in batches, the catalog takes them in order."""

    def __init__(
        self, pool: Executor | None, root: Path, max_size: int, batch_size: int, max_batches: int, recorder: _Recorder
    ) -> None:
        self.pool, self.root, self.max_size = pool, root, max_size
        self.batch_size, self.max_batches = batch_size, max_batches
        self.recorder = recorder
        self.slots: deque[_Slot] = deque()  # every capture not recorded yet, in archive order
        self.jobs: list[tuple[Capture, OutletProfile]] = []  # the batch being filled...
        self.waiting: list[_Slot] = []  # ...and its slots
        self.running: list[Future] = []  # batches submitted and not done: their captures are in memory

    def put(self, capture: Capture, outlet: OutletProfile, kind: str) -> None:
        slot = _Slot(capture.without_payload(), outlet.name, kind, ready=kind != EXTRACT)
        self.slots.append(slot)
        if kind == EXTRACT and self.pool is None:
            slot.extracted, slot.ready = extract(capture, outlet, self.root, self.max_size), True
        elif kind == EXTRACT:
            self.jobs.append((capture, outlet))
            self.waiting.append(slot)
            if len(self.jobs) >= self.batch_size:
                self._submit()
        self._record()
        while len(self.running) > self.max_batches:  # enough in flight: let the workers catch up
            wait(self.running, return_when=FIRST_COMPLETED)
            self._record()

    def finish(self) -> None:
        if self.jobs:
            self._submit()
        self._record(everything=True)

    def _submit(self) -> None:
        assert self.pool is not None
        future = self.pool.submit(_extract_batch, self.root, self.jobs, self.max_size)
        for position, slot in enumerate(self.waiting):
            slot.batch, slot.position = future, position
        self.running.append(future)
        self.jobs, self.waiting = [], []

    def _record(self, everything: bool = False) -> None:
        """Record the captures at the head of the queue whose extraction is done (``everything``: wait for all)."""
        self.running = [future for future in self.running if not future.done()]
        while self.slots:
            slot = self.slots[0]
            if not slot.ready:
                if slot.batch is None or not (everything or slot.batch.done()):
                    return
                slot.extracted, slot.ready = slot.batch.result()[slot.position], True
            self.recorder.take(self.slots.popleft())


class _Recorder:
    """The catalog side of replay: the capture path's steps 1 and 3, in capture order, and each run's coverage."""

    def __init__(self, catalog: Catalog, settings: CaptureSettings, stats: ReplayStats, coverage: bool) -> None:
        self.catalog, self.settings, self.stats, self.coverage = catalog, settings, stats, coverage
        self.runs: dict[str, tuple[str, RunStats]] = {}  # outlet -> (the run's key, its coverage figures)
        self.rows = 0

    def take(self, slot: _Slot) -> None:
        capture, outlet, extracted = slot.capture, slot.outlet, slot.extracted
        ours = capture.role == ARTICLE
        if ours:
            mark_fetched(self.catalog, capture, outlet, self.settings.revisits, commit=False)
        if slot.kind == SEEN_ONLY:
            self.stats.skipped["recorded-already"] += 1
            return
        outcome = record(self.catalog, capture, outlet, extracted if slot.kind == EXTRACT else None, commit=False)
        if not ours and outcome.change in {NEW, UPDATED, UNCHANGED}:
            mark_fetched(self.catalog, capture, outlet, self.settings.revisits, commit=False)
        if ours and slot.kind == EXTRACT and self.coverage:
            self._count(capture, outlet, extracted)
        self._tally(outcome.change, outcome.reason)
        self.rows += 1
        if self.rows % COMMIT_EVERY == 0:
            self.catalog.commit()

    def _count(self, capture: Capture, outlet: str, extracted: Extracted | None) -> None:
        """Count an article page of one of our crawls towards its run's coverage, as the crawl counted it."""
        run = _run_of(capture)
        if run is None:
            return
        current = self.runs.get(outlet)
        if current is None or current[0] != run:
            if current is not None:
                self._close_run(outlet)
            current = self.runs[outlet] = (run, RunStats())
        coverage = extracted.coverage if extracted is not None else None
        count(current[1], coverage, capture.date, self.settings.health.body_min_words)

    def _close_run(self, outlet: str) -> None:
        self.catalog.commit()
        record_run(self.catalog, outlet, self.runs.pop(outlet)[1].get_stats(), self.settings.health)

    def _tally(self, change: str, reason: str) -> None:
        if change in {NEW, UPDATED}:
            self.stats.extracted += 1
        elif change == UNCHANGED:
            self.stats.unchanged += 1
        elif change == REJECTED:
            self.stats.rejected[reason] += 1
        elif change == DUPLICATE:
            self.stats.skipped["duplicate-version"] += 1

    def finish(self) -> None:
        for outlet in list(self.runs):
            self._close_run(outlet)
        self.catalog.commit()


def _run_of(capture: Capture) -> str | None:
    """Which crawl run of its outlet wrote the capture: a writer's files from its serial 00000 on are one run.

    Only a crawl's own runs count (a frontier worker serves every outlet for as long as it lives: no runs);
    another crawler's WARCs have none.
    """
    assert capture.location is not None
    match = _OUR_WARC.match(capture.location.file)
    if match is None or "~" in match[3]:
        return None
    return match[3] if match[2] != "00000" else f"{match[3]}/{capture.location.file}"


def print_summary(stats: ReplayStats, stream: Any = sys.stderr) -> None:
    summary = stats.summary()
    lines = [
        f"Replayed {stats.files} file(s), {stats.bytes / 1e6:.1f} MB, {stats.captures} captures "
        f"in {stats.seconds:.1f}s",
        f"  articles extracted: {stats.extracted} ({summary['articles_per_second']}/s)",
    ]
    if stats.unchanged:
        lines.append(f"  unchanged revisits: {stats.unchanged}")
    if stats.rejected:
        lines.append("  no article: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.rejected.items())))
    if stats.skipped:
        lines.append("  skipped: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.skipped.items())))
    for damage in stats.damaged:
        verb = "read despite" if damage["used"] else "DAMAGED"
        lines.append(f"  {verb}: {damage['file']} at offset {damage['offset']}: {damage['error']}")
    print("\n".join(lines), file=stream)


def write_stats(stats: ReplayStats, destination: str) -> None:
    text = json.dumps(stats.summary(), indent=2, sort_keys=True, default=str)
    if destination == "-":
        print(text)
    else:
        Path(destination).write_text(text + "\n", "utf-8")
