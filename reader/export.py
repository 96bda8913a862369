"""Exports of a search, streamed: JSONL, CSV or Parquet, written as the database hands the rows over.

Each format is a generator of byte chunks over :meth:`pipelines.search.Search.rows` (which streams from the
database in batches), so memory stays flat whatever the number of rows: a JSONL or CSV chunk is one batch of
lines, a Parquet chunk one row group (pyarrow writes it to a sink the generator drains).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.search import FIELDS

#: The columns of an export: the result fields, then the article's text.
COLUMNS = (*FIELDS, "standfirst", "body")
FORMATS = {
    "jsonl": "application/x-ndjson; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
#: Rows per chunk (and per Parquet row group): a few MB of text at most in memory at once.
BATCH = 500
_INTEGERS = {"version", "word_count"}
SCHEMA = pa.schema([
    pa.field(name, pa.list_(pa.string()) if name == "authors" else pa.int64() if name in _INTEGERS else pa.string())
    for name in COLUMNS
])


def _batches(rows: Iterable[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def jsonl(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    for batch in _batches(rows):
        yield "".join(json.dumps({name: row.get(name) for name in COLUMNS}, ensure_ascii=False) + "\n"
                      for row in batch).encode("utf-8")


def csv_rows(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """CSV (RFC 4180, CRLF line ends) with a header line; authors joined with ``; ``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for batch in _batches(rows):
        for row in batch:
            writer.writerow(["; ".join(row.get(name) or []) if name == "authors" else row.get(name)
                             for name in COLUMNS])
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


class _Sink(io.RawIOBase):
    """A write-only stream that keeps what was written until :meth:`drain` hands it over."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def drain(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


def parquet(rows: Iterable[dict[str, Any]], row_group: int = BATCH) -> Iterator[bytes]:
    """Parquet: one row group per batch of rows, each sent as soon as it is written."""
    sink = _Sink()
    writer = pq.ParquetWriter(sink, SCHEMA, compression="zstd")
    try:
        for batch in _batches(rows, row_group):
            columns = {name: [row.get(name) for row in batch] for name in COLUMNS}
            writer.write_table(pa.table(columns, schema=SCHEMA), row_group_size=row_group)
            if data := sink.drain():
                yield data
    finally:
        writer.close()
    yield sink.drain()


WRITERS = {"jsonl": jsonl, "csv": csv_rows, "parquet": parquet}
