"""CDXJ indexes of closed WARC files, as pywb and the offline re-crawl read them (cdxj-indexer)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from cdxj_indexer.main import CDXJIndexer
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler import signals as archive_signals

logger = logging.getLogger(__name__)


def write_cdxj(warc: Path, index_dir: Path) -> Path:
    """A sorted CDXJ index of ``warc`` (cdxj-indexer, as pywb reads it) at ``index_dir/<name>.cdxj``."""
    index_dir.mkdir(parents=True, exist_ok=True)
    target = index_dir / f"{warc.name}.cdxj"
    partial = target.with_name(target.name + ".part")
    with open(partial, "w", encoding="utf-8") as out:
        CDXJIndexer(out, [str(warc)], sort=True).process_all()
    os.replace(partial, target)
    return target


class WarcIndexer:
    """Scrapy extension: index each WARC as it closes (``warc_closed``), into ``<outlet>/indexes/``.

    Indexing re-reads the whole file (up to WARC_MAX_SIZE). A file that closes while the crawl runs (it reached
    its size) is indexed in a process of its own, so the crawl does not stall; the files closed as the crawl
    ends are indexed in the crawl's own process when its engine stops, as nothing is left to stall then and a
    new Python process costs more (0.8 s) than indexing a day's WARC of an outlet. Either way a crawl that ends
    has its indexes. An index that is never written (the crawl was killed) is made when needed (make browse,
    ARCHIVE_SOURCE).
    """

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("WARC_ENABLED", True):
            raise NotConfigured("WARC_ENABLED is off")
        self.indexers: list[subprocess.Popen] = []
        self.waiting: list[Path] = []  # closed, not yet handed to an indexer
        self.ending = False
        crawler.signals.connect(self.warc_closed, signal=archive_signals.warc_closed)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcIndexer:
        return cls(crawler)

    def warc_closed(self, path: Path) -> None:
        from twisted.internet import reactor

        self.waiting.append(path)
        # on the reactor's next turn: by then a file closed by the end of the crawl has ``ending`` set
        reactor.callLater(0, self._start_indexers)

    def spider_closed(self, spider: Spider) -> None:
        self.ending = True

    def _start_indexers(self) -> None:
        if self.ending:
            return
        for path in self.waiting:
            command = [sys.executable, "-m", "crawler.warc.index", str(path), str(path.parent.parent / "indexes")]
            logger.info("Indexing %s in a process of its own", path.name)
            self.indexers.append(subprocess.Popen(command, cwd=Path(__file__).resolve().parents[2]))
        self.waiting.clear()

    def engine_stopped(self) -> None:
        for indexer in self.indexers:
            if indexer.wait() != 0:
                logger.error("Indexing failed (%s): run it again with %s", indexer.returncode, " ".join(indexer.args))
        for path in self.waiting:
            try:
                write_cdxj(path, path.parent.parent / "indexes")
                logger.info("Indexed %s", path.name)
            except Exception:  # noqa: BLE001 - a damaged file: the crawl's other indexes are still written
                logger.exception("Indexing %s failed: it is indexed again when needed (make browse)", path)
        self.waiting.clear()


if __name__ == "__main__":  # python -m crawler.warc.index WARC INDEX_DIR: index one WARC (run as a WARC closes)
    write_cdxj(Path(sys.argv[1]), Path(sys.argv[2]))
