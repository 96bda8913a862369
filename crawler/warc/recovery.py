"""Recovering the WARC files a killed writer left open.

A crawl killed at any moment leaves closed files intact and one ``.open`` file per outlet that reads up to
its last whole fetch, perhaps followed by a torn one. :func:`recover_open_files` cuts each stale ``.open``
file back to its last whole fetch (a response whose metadata record never reached the file is cut too:
nothing would say what it was) and closes it under its final name.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import zlib
from pathlib import Path
from typing import BinaryIO

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler import signals as archive_signals
from crawler.outlets import served
from crawler.warc.writer import FETCH_END, GZIP_WBITS, OPEN_SUFFIX
from pipelines.output import remove_stale_partials

logger = logging.getLogger(__name__)

_HEAD = 4096  # bytes of a record read to find its WARC-Type
_WARC_TYPE = re.compile(rb"\r\nWARC-Type:[ \t]*([A-Za-z]+)")


def complete_fetches_length(fh: BinaryIO) -> int:
    """Length of the leading run of whole fetches in ``fh``: complete gzip members, up to the last one that
    holds a fetch's closing metadata record (or the file's warcinfo record)."""
    good = consumed = 0
    inflater, head = zlib.decompressobj(GZIP_WBITS), b""
    while chunk := fh.read(1 << 16):
        while chunk:
            try:
                head += inflater.decompress(chunk, 1 << 20)[: _HEAD - len(head)]
                while inflater.unconsumed_tail:
                    head += inflater.decompress(inflater.unconsumed_tail, 1 << 20)[: _HEAD - len(head)]
            except zlib.error:
                return good
            if not inflater.eof:
                consumed += len(chunk)
                break
            used = len(chunk) - len(inflater.unused_data)
            consumed += used
            if (kind := _WARC_TYPE.search(head)) and kind[1].decode() in {FETCH_END, "warcinfo"}:
                good = consumed
            chunk = inflater.unused_data
            inflater, head = zlib.decompressobj(GZIP_WBITS), b""
    return good


def recover_open_files(directory: Path) -> list[tuple[Path, Path | None, int]]:
    """Close the ``.open`` files a killed writer left in ``directory``.

    A file still locked by a live writer is left alone. Each stale one is cut
    back to its last whole fetch and renamed; one with no complete record
    is removed. Returns ``(open file, final file or None, bytes cut off)``.
    """
    results = []
    for path in sorted(Path(directory).glob(f"*.warc.gz{OPEN_SUFFIX}")):
        with open(path, "r+b") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            size = os.fstat(fh.fileno()).st_size
            good = complete_fetches_length(fh)
            fh.truncate(good)
            if good == 0:
                path.unlink()
                final = None
            else:
                fh.flush()
                os.fsync(fh.fileno())
                final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
                os.rename(path, final)
        results.append((path, final, size - good))
    return results


class WarcRecovery:
    """Scrapy extension: when a crawl opens, close what a killed crawl of the same outlets left open.

    Each recovered file is announced (``warc_closed``: it gets its index; ``warc_recovered``: catch-up marks its
    articles as fetched), and the hidden ``.*.part`` text files the killed crawl left are deleted.
    """

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("WARC_ENABLED", True):
            raise NotConfigured("WARC_ENABLED is off")
        self.crawler = crawler
        self.root = Path(crawler.settings.get("ARCHIVE_ROOT", "archive"))
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcRecovery:
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        for outlet in served(spider):
            self.recover(outlet)

    def recover(self, outlet: str) -> None:
        directory = self.root / outlet / "warc"
        directory.mkdir(parents=True, exist_ok=True)
        recovered = recover_open_files(directory)
        if recovered and (removed := remove_stale_partials(self.root / outlet / "text")):
            logger.info("Removed %d unfinished temporary text file(s) of an interrupted crawl", removed)
        send = self.crawler.signals.send_catch_log
        for open_file, final, cut in recovered:
            self.crawler.stats.inc_value("warc/recovered_files")
            logger.warning(
                "Recovered %s left by an interrupted crawl: %s (%d trailing bytes dropped)",
                open_file.name, f"closed as {final.name}" if final else "no complete record, removed", cut,
            )
            if final is not None:
                send(archive_signals.warc_closed, path=final)
                send(archive_signals.warc_recovered, path=final, outlet=outlet)
