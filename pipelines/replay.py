"""Offline replay: re-run extraction on archived WARCs, with no network, as the crawl did.

The main process streams the archive (:mod:`pipelines.warc_records`) and hands
each article capture to a pool of worker processes, which decode, extract and
write its files; only a bounded number of captures is in flight, so memory
stays flat whatever the size of the WARCs. Which captures are articles is read
from the crawl's own ``metadata`` records (``role: article``); WARCs from other
crawlers have none, so every ``200`` HTML response of theirs is tried.

The outputs are named from the capture alone (:mod:`pipelines.output`), so
replaying the WARCs of a crawl gives byte for byte the files the crawl wrote.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from pipelines.catalog import Catalog
from pipelines.extract import ExtractionHints, Page, Rejection, extract_page
from pipelines.output import capture_names, write_outputs
from pipelines.payload import MAX_PAYLOAD, decode_payload
from pipelines.warc_reader import Capture, Damage, read_archive

ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz", ".wacz")
DASK_BATCH = 16  # captures per Dask task: one task per capture spends more on scheduling than on extraction
OTHER_OUTLET = "other"  # where captures of WARCs with no known outlet go
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class OutletInfo:
    """What extraction needs to know about an outlet (from its declaration)."""

    site_name: str = ""
    hints: ExtractionHints = ExtractionHints()


@dataclass
class ReplayStats:
    files: int = 0
    bytes: int = 0
    captures: int = 0
    extracted: int = 0
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
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(ARCHIVE_SUFFIXES)))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return found


def replay(
    paths: Iterable[Path],
    output: Path,
    outlets: dict[str, OutletInfo],
    workers: int = 0,
    progress: Any = None,
    catalog_url: Path | str | None = None,
    dask: str | None = None,
) -> ReplayStats:
    """Extract every article capture in ``paths`` into ``output``; never raises on bad archives.

    Extraction runs in ``workers`` local processes, or on a Dask cluster (``dask``: see :func:`extraction_pool`).
    Rows go to the catalog at ``catalog_url`` (a database URL or a SQLite file; by default
    ``output/catalog.sqlite``).
    """
    files = archive_files(paths)
    stats = ReplayStats(files=len(files))
    workers = workers or os.cpu_count() or 1
    started = time.monotonic()
    catalog = Catalog(catalog_url or output / "catalog.sqlite")
    in_flight: list[Future] = []
    batch: list[dict] = []
    try:
        with extraction_pool(workers, dask) as (pool, parallel, batch_size), _OriginIndex() as origins:
            for path, item in _items(files, origins, stats):
                task = _task_for(item, path, outlets, stats)
                if task is None:
                    continue
                if pool is None:
                    _record(catalog, stats, _run_task(output, task))
                else:
                    batch.append(task)
                    if len(batch) >= batch_size:
                        in_flight.append(pool.submit(_run_batch, output, batch))
                        batch = []
                    while len(in_flight) > 4 * parallel:
                        _record_all(catalog, stats, in_flight.pop(0).result())
                if progress is not None:
                    progress(stats)
            if batch:
                in_flight.append(pool.submit(_run_batch, output, batch))
            for future in in_flight:
                _record_all(catalog, stats, future.result())
    finally:
        catalog.close()
        stats.seconds = time.monotonic() - started
    return stats


@contextmanager
def extraction_pool(workers: int, dask: str | None) -> Iterator[tuple[Executor | None, int, int]]:
    """Where captures are extracted, how many batches at once, and how many captures make a batch: this
    process, a local process pool, or Dask (whose per-task overhead wants larger batches).

    ``dask`` is the address of a Dask scheduler (``tcp://host:8786``; every machine running
    ``dask worker tcp://host:8786`` takes part, each needing this project installed and ``output`` at the
    same path, e.g. a shared mount), or ``"local"``: a Dask cluster of ``workers`` processes on this machine.
    The archive is read here and each capture sent to a worker; only the catalog rows come back.
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
        pool = ProcessPoolExecutor(workers)
        try:
            yield pool, workers, 4
        finally:
            pool.shutdown(cancel_futures=True)
    else:
        yield None, 1, 1


def _items(files: list[Path], origins: _OriginIndex, stats: ReplayStats) -> Iterator[tuple[Path, Capture]]:
    for path in files:
        done_before = stats.bytes
        for item in read_archive(path):
            if isinstance(item, Damage):
                stats.damaged.append(asdict(item))
                continue
            stats.captures += 1
            stats.bytes = done_before + item.offset + item.length
            if item.digest_problem:
                stats.damaged.append(asdict(Damage(item.file, item.offset, item.digest_problem, used=True)))
            if item.kind == "response":
                origins.add(item, path)
            elif not origins.resolve(item):
                stats.skipped["revisit-unresolved"] += 1
                continue
            yield path, item
        stats.bytes = done_before + path.stat().st_size


def _task_for(capture: Capture, path: Path, outlets: dict[str, OutletInfo], stats: ReplayStats) -> dict | None:
    """The extraction job for a capture the crawl treated as an article, or None (counted as skipped)."""
    role = capture.fields.get("role")
    content_type = capture.headers.get("content-type", "").split(";")[0].strip().lower()
    if capture.status != 200:
        stats.skipped["not-200"] += 1
        return None
    if role is not None and role != "article":
        stats.skipped[f"role-{role or 'none'}"] += 1
        return None
    if role == "article" and capture.kind == "revisit":
        stats.skipped["unchanged-revisit"] += 1  # the crawl wrote nothing for it: its payload was archived before
        return None
    if role is None and content_type not in HTML_TYPES:
        stats.skipped["not-html"] += 1
        return None
    outlet = capture.outlet if capture.outlet in outlets else OTHER_OUTLET
    info = outlets.get(outlet, OutletInfo())
    try:
        names = capture_names(outlet, capture.file, capture.ordinal, capture.record_id, capture.date)
    except ValueError:
        stats.skipped["unnamed"] += 1
        return None
    return {
        "outlet": outlet,
        "capture": capture,
        "names": names,
        "site_name": info.site_name,
        "hints": info.hints,
    }


def _run_task(output: Path, task: dict) -> dict[str, Any]:
    """In a worker: decode, extract and write one capture; return its catalog row."""
    capture: Capture = task["capture"]
    provenance = {
        "record_id": capture.record_id,
        "outlet": task["outlet"],
        "url": capture.uri,
        "fetched": capture.date,
        "warc_file": capture.file,
        "warc_offset": capture.offset,
        "warc_length": capture.length,
        "payload_digest": capture.payload_digest,
    }
    try:
        body = decode_payload(capture.payload, capture.headers)
    except ValueError as error:
        return {**provenance, "status": "rejected", "reason": "bad-encoding", "detail": str(error)}
    page = Page(capture.uri, body, capture.headers, capture.date)
    result = extract_page(page, site_name=task["site_name"], hints=task["hints"])
    if isinstance(result, Rejection):
        return {**provenance, "status": "rejected", "reason": result.reason, "detail": result.detail}
    return {**provenance, **write_outputs(output, task["names"], result, task["outlet"], provenance)}


def _run_batch(output: Path, tasks: list[dict]) -> list[dict[str, Any]]:
    return [_run_task(output, task) for task in tasks]


def _record_all(catalog: Catalog, stats: ReplayStats, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        _record(catalog, stats, row)


def _record(catalog: Catalog, stats: ReplayStats, row: dict[str, Any]) -> None:
    catalog.record(commit=(stats.extracted + sum(stats.rejected.values())) % 200 == 0, **row)
    if row["status"] == "extracted":
        stats.extracted += 1
    else:
        stats.rejected[row["reason"]] += 1


class _OriginIndex:
    """Where each response's payload lives, on disk (so memory stays flat), to resolve revisit records."""

    def __enter__(self) -> _OriginIndex:
        self._folder = tempfile.TemporaryDirectory(prefix="replay-index-")
        self._db = sqlite3.connect(Path(self._folder.name) / "origins.sqlite")
        self._db.execute("CREATE TABLE origins (digest TEXT, uri TEXT, path TEXT, offset INTEGER)")
        self._db.execute("CREATE INDEX by_digest ON origins (digest)")
        self._db.execute("CREATE INDEX by_uri ON origins (uri)")
        return self

    def __exit__(self, *exc: object) -> None:
        self._db.close()
        self._folder.cleanup()

    def add(self, capture: Capture, path: Path) -> None:
        if "!" not in capture.file:  # records inside a WACZ cannot be re-read by offset
            self._db.execute("INSERT INTO origins VALUES (?, ?, ?, ?)",
                             (capture.payload_digest, capture.uri, str(path), capture.offset))

    def resolve(self, revisit: Capture) -> bool:
        """Give a revisit record the payload of the capture it repeats; False if that is not in the archive."""
        found = None
        if revisit.payload_digest:
            found = self._db.execute("SELECT path, offset FROM origins WHERE digest = ? ORDER BY rowid DESC LIMIT 1",
                                     (revisit.payload_digest,)).fetchone()
        if found is None:
            found = self._db.execute("SELECT path, offset FROM origins WHERE uri = ? ORDER BY rowid DESC LIMIT 1",
                                     (revisit.refers_to_uri or revisit.uri,)).fetchone()
        if found is None:
            return False
        try:
            with open(found[0], "rb") as fh:
                fh.seek(found[1])
                original = next(iter(ArchiveIterator(fh, arc2warc=True)))
                payload = original.raw_stream.read(MAX_PAYLOAD + 1)
                original_headers = original.http_headers.headers if original.http_headers is not None else []
        except Exception:  # noqa: BLE001 - an original that cannot be read back leaves the revisit unresolved
            return False
        if len(payload) > MAX_PAYLOAD:
            return False
        revisit.payload = payload
        revisit.headers = {**{name.lower(): value for name, value in original_headers}, **revisit.headers}
        return True


def print_summary(stats: ReplayStats, stream: Any = sys.stderr) -> None:
    summary = stats.summary()
    lines = [
        f"Replayed {stats.files} file(s), {stats.bytes / 1e6:.1f} MB, {stats.captures} captures in {stats.seconds:.1f}s",
        f"  articles extracted: {stats.extracted} ({summary['articles_per_second']}/s)",
    ]
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
