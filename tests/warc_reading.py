"""Reading WARCs back in tests with warcio's own reader and checker."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator


@dataclass
class Record:
    file: Path
    type: str
    id: str
    uri: str
    headers: dict[str, str]
    status: int | None
    raw_payload: bytes  # the HTTP payload as stored (still content-encoded)
    http_headers: list[tuple[str, str]]
    statusline: str


def read_records(path: Path) -> list[Record]:
    records = []
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            http = record.http_headers
            status = None
            if http is not None and record.rec_type in {"response", "revisit"}:
                status = int(http.get_statuscode())
            records.append(
                Record(
                    file=path,
                    type=record.rec_type,
                    id=record.rec_headers.get_header("WARC-Record-ID"),
                    uri=record.rec_headers.get_header("WARC-Target-URI") or "",
                    headers=dict(record.rec_headers.headers),
                    status=status,
                    raw_payload=record.raw_stream.read(),
                    http_headers=list(http.headers) if http is not None else [],
                    statusline=http.statusline if http is not None else "",
                )
            )
    return records


def warcio_check(*paths: Path) -> subprocess.CompletedProcess:
    """``warcio check -v``: exit 0 only when every digest of every file verifies."""
    return subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", *map(str, paths)], capture_output=True, text=True
    )
