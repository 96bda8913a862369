"""CDXJ indexes of closed WARC files, as pywb and the offline re-crawl read them (cdxj-indexer)."""

from __future__ import annotations

import os
from pathlib import Path

from cdxj_indexer.main import CDXJIndexer


def write_cdxj(warc: Path, index_dir: Path) -> Path:
    """A sorted CDXJ index of ``warc`` (cdxj-indexer, as pywb reads it) at ``index_dir/<name>.cdxj``."""
    index_dir.mkdir(parents=True, exist_ok=True)
    target = index_dir / f"{warc.name}.cdxj"
    partial = target.with_name(target.name + ".part")
    with open(partial, "w", encoding="utf-8") as out:
        CDXJIndexer(out, [str(warc)], sort=True).process_all()
    os.replace(partial, target)
    return target


if __name__ == "__main__":  # python -m crawler.warc.index WARC INDEX_DIR: index one WARC (run as a WARC closes)
    import sys

    write_cdxj(Path(sys.argv[1]), Path(sys.argv[2]))
