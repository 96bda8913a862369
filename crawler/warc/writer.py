"""WARC files the way archive crawlers write them.

A :class:`WarcFileWriter` owns one outlet's series of files: each is written as
``<outlet>-<UTC timestamp>-<serial>-<host>.warc.gz.open`` (``<pid>~<host>`` for a frontier worker, one of
many writers) under an exclusive
``flock``, starts with a ``warcinfo`` record, stores one gzip member per record
and is renamed to ``.warc.gz`` when it is closed or reaches its size limit.

Each write is one fetch: its records (response, request, metadata, as Heritrix
writes them) are compressed into memory first and reach the file together,
ending with the metadata record. A process killed mid-write can still leave a
fetch torn, even between two whole records (a write may take several system
calls); :func:`recover_open_files` cuts the file back to its last whole fetch and
closes it properly, so no response is kept without the metadata that says what it was.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import socket
import zlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from crawler.warc.records import WarcRecord, warcinfo_record
from pipelines.capture import WarcLocation

logger = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"
#: zlib's level (the WARC_GZIP_LEVEL setting). bench/warc_gzip_levels.py on 1,103 real article pages (149 kB on
#: average), three runs: 6 (zlib's default, Heritrix's) took 3.4-4.0 ms a fetch; 5 took 0.66-0.84x that (median
#: 0.69x) for 1.6% more bytes, 4 about half for 5% more, 9 1.4-1.6x for 0.6% fewer.
GZIP_LEVEL = 5
GZIP_WBITS = 16 + zlib.MAX_WBITS
#: zlib's memory level: setting up its default (8) cost more than compressing a request or metadata record (52 µs
#: for 600 bytes, 25 µs at 5); on whole pages 5 compresses as fast and as small (AEB's pages: 5.26x against 5.23x).
GZIP_MEMLEVEL = 5
FETCH_END = "metadata"  # the record that closes each fetch's group


def gzip_level(value: object) -> int:
    """A zlib level from 1 to 9 (WARC_GZIP_LEVEL), or ``ValueError`` naming the setting."""
    try:
        level = int(str(value).strip())
    except ValueError:
        level = 0
    if not 1 <= level <= 9:
        raise ValueError(f"WARC_GZIP_LEVEL must be a whole number from 1 (fastest) to 9 (smallest), not {value!r}")
    return level


def warc_host_label() -> str:
    """The host part of a WARC file name: the machine name, safe for a path."""
    return re.sub(r"[^A-Za-z0-9.]+", "_", socket.gethostname()) or "localhost"


def worker_label() -> str:
    """The host part of the WARC file names of one of several writers: ``<pid>~<host>``, as Heritrix's."""
    return f"{os.getpid()}~{warc_host_label()}"


class WarcFileWriter:
    """Appends groups of records to rotating, compressed WARC files of one outlet."""

    def __init__(
        self,
        directory: Path,
        prefix: str,
        warcinfo: dict[str, str],
        max_size: int = 1024**3,
        on_close: Callable[[Path], None] | None = None,
        host: str | None = None,
        on_closing: Callable[[Path], None] | None = None,
        level: int = GZIP_LEVEL,
    ) -> None:
        self.directory = Path(directory)
        self.level = gzip_level(level)
        self.host = host or warc_host_label()
        self.on_closing = on_closing  # before a file is closed (its .open name)
        self.on_close = on_close  # after (its final name)
        self.prefix = prefix
        self.warcinfo = warcinfo
        self.max_size = max_size
        self.closed_files: list[Path] = []
        self._serial = 0
        self._fh: BinaryIO | None = None
        self._path: Path | None = None
        self._size = 0
        self._counts: dict[str, int] = {}

    @property
    def current_path(self) -> Path | None:
        """The ``.open`` file being written, if any."""
        return self._path

    def write(self, records: list[WarcRecord], rotate: bool = True) -> list[WarcLocation]:
        """Write one fetch's ``records`` (the last its metadata record) together into the current file; then
        rotate if it is full (unless told not to)."""
        if not records or records[-1].rec_type != FETCH_END:
            raise ValueError(f"a write is one fetch and ends with its {FETCH_END} record")
        data, spans = pack(records, self.level)
        if self._fh is None:
            self._open()
        assert self._fh is not None and self._path is not None
        start = self._size
        self._fh.write(data)
        self._fh.flush()
        self._size += len(data)
        final_name = self._path.name[: -len(OPEN_SUFFIX)]
        locations = []
        for record, (offset, length, rid) in zip(records, spans, strict=True):
            ordinal = self._counts.get(record.rec_type, 0)
            self._counts[record.rec_type] = ordinal + 1
            locations.append(WarcLocation(
                final_name, start + offset, length, ordinal, rid, record.header("WARC-Date"),
                record.header("WARC-Payload-Digest"),
                record.header("WARC-Refers-To") if record.rec_type == "revisit" else ""))
        if rotate:
            self.rotate_if_full()
        return locations

    @property
    def full(self) -> bool:
        """Whether the current file has reached ``max_size``."""
        return self._fh is not None and self._size >= self.max_size

    def rotate_if_full(self) -> None:
        """Close the current file if it is full (the next write opens a new one)."""
        if self.full:
            self.close()

    def close(self) -> None:
        """Close the current file and give it its final name."""
        if self._fh is None or self._path is None:
            return
        if self.on_closing is not None:
            self.on_closing(self._path)
        self._fh.flush()
        os.fsync(self._fh.fileno())
        final = self._path.with_name(self._path.name[: -len(OPEN_SUFFIX)])
        os.rename(self._path, final)
        self._fh.close()  # releases the flock only after the rename
        self.closed_files.append(final)
        logger.info("Closed WARC %s (%d bytes)", final, self._size)
        self._fh, self._path, self._size = None, None, 0
        if self.on_close is not None:
            self.on_close(final)

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")[:17]
            name = f"{self.prefix}-{stamp}-{self._serial:05d}-{self.host}.warc.gz{OPEN_SUFFIX}"
            self._serial += 1
            try:
                fh = open(self.directory / name, "xb")
            except FileExistsError:
                continue
            break
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._fh, self._path, self._size = fh, self.directory / name, 0
        self._counts = {}
        data, _ = pack([warcinfo_record(name[: -len(OPEN_SUFFIX)], self.warcinfo)])
        fh.write(data)
        fh.flush()
        self._size = len(data)
        logger.info("Opened WARC %s", self._path)


def pack(records: Iterable[WarcRecord], level: int = GZIP_LEVEL) -> tuple[bytes, list[tuple[int, int, str]]]:
    """Serialise ``records`` as one gzip member each: the bytes, and each record's (offset, length, record id).

    ``level`` (GZIP_LEVEL: bench/warc_gzip_levels.py measures the choice), or 1 for a payload that is already
    content-encoded: compressing compressed bytes again buys nothing but costs time on the crawl's thread.
    """
    members = []
    spans = []
    offset = 0
    for record in records:
        packer = zlib.compressobj(1 if record.encoded else level, zlib.DEFLATED, GZIP_WBITS, GZIP_MEMLEVEL)
        member = packer.compress(record.to_bytes()) + packer.flush()
        members.append(member)
        spans.append((offset, len(member), record.record_id))
        offset += len(member)
    return b"".join(members), spans
