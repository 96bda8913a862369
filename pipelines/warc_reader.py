"""Reading captures back out of WARC, ARC and WACZ files, whatever state they are in.

:func:`read_archive` streams one file's HTTP responses as :class:`Capture`
objects (revisit records resolved to the capture they repeat) and reports every
damaged stretch as a :class:`Damage` with its offset, then carries on from the
next record it can find: a corrupt gzip member, a truncated record or a bad
digest costs that record only. Payloads are decoded here (left-over chunked
framing, ``Content-Encoding``), so the extractor gets a :class:`~pipelines.extract.Page`
just as a live crawl gives it.
"""

from __future__ import annotations

import gzip
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from pipelines.payload import MAX_PAYLOAD

MAX_DAMAGES_PER_FILE = 1000
_GZIP_MEMBER = b"\x1f\x8b\x08"
_WARC_START = re.compile(rb"(?:^|\n)(WARC/1\.[01]\r?\n)")


@dataclass
class Capture:
    """One archived HTTP response, with where it is and how the crawler came to fetch it."""

    file: str  # WARC file name (for a WACZ: the WARC's name inside it)
    offset: int
    length: int
    ordinal: int  # how many response records precede it in its file
    record_id: str
    uri: str
    date: str
    status: int
    reason: str
    headers: dict[str, str]  # lower-case names, as sent (repeated ones joined with ", ")
    payload: bytes  # as stored: content-encoded, possibly still chunked (empty for a revisit)
    payload_digest: str
    kind: str = "response"  # or "revisit": the payload is that of an earlier capture
    refers_to_uri: str = ""  # a revisit's WARC-Refers-To-Target-URI
    outlet: str = ""  # the warcinfo's isPartOf
    fields: dict[str, str] = field(default_factory=dict)  # the metadata record about it, if any
    digest_problem: str = ""  # a payload digest that does not match (the record is used all the same)


@dataclass(frozen=True)
class Damage:
    """A stretch of a file that could not be read (``used`` is False) or a record read despite a fault."""

    file: str
    offset: int
    error: str
    used: bool = False


def read_archive(path: Path) -> Iterator[Capture | Damage]:
    """Every capture of a WARC/ARC (plain or gzip) or WACZ file, and every damaged stretch."""
    if path.suffix.lower() == ".wacz":
        yield from _read_wacz(path)
        return
    with open(path, "rb") as fh:
        yield from _read_stream(fh, path.name)


def _read_wacz(path: Path) -> Iterator[Capture | Damage]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        yield Damage(path.name, 0, f"not a readable WACZ (zip): {error}")
        return
    with archive:
        names = [n for n in archive.namelist() if re.search(r"\.(?:w)?arc(?:\.gz)?$", n, re.I)]
        if not names:
            yield Damage(path.name, 0, "WACZ holds no WARC files")
        for name in sorted(names):
            try:
                data = archive.read(name)
            except (zipfile.BadZipFile, OSError, zlib.error) as error:
                yield Damage(f"{path.name}!{name}", 0, f"unreadable inside the WACZ: {error}")
                continue
            yield from _read_stream(io.BytesIO(data), f"{path.name}!{Path(name).name}")


def _read_stream(fh: BinaryIO, name: str) -> Iterator[Capture | Damage]:
    state = _FileState(name)
    head = fh.read(2)
    fh.seek(0)
    compressed = head == _GZIP_MEMBER[:2]
    if compressed and _single_member(fh):
        # one gzip member around the whole file (not per record): read it as one stream
        fh = gzip.GzipFile(fileobj=fh)  # type: ignore[assignment]
        compressed = False
        yield Damage(name, 0, "whole file is one gzip member, not one per record: read as a stream", used=True)
    position: int | None = 0
    damaged = 0
    while position is not None and damaged < MAX_DAMAGES_PER_FILE:
        fh.seek(position)
        iterator = ArchiveIterator(fh, arc2warc=True, check_digests=True)
        failed_at = position
        try:
            for record in iterator:
                failed_at = max(iterator.offset, position)
                captured = state.take(record, iterator)
                if captured is not None:
                    yield captured
            position = None
        except Exception as error:  # noqa: BLE001 - a damaged stretch, whatever the cause: skip past it
            damaged += 1
            yield Damage(name, failed_at, _describe(error))
            position = _next_record_start(fh, failed_at + 1, compressed)
        if (pending := state.flush()) is not None:
            yield pending
    if damaged >= MAX_DAMAGES_PER_FILE:
        yield Damage(name, failed_at, f"gave up on the file after {damaged} damaged stretches")


class _FileState:
    """What reading one file needs to remember: its warcinfo, response order, the capture awaiting metadata."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.outlet = ""
        self.responses = 0
        self.pending: Capture | None = None

    def take(self, record: ArcWarcRecord, iterator: ArchiveIterator) -> Capture | Damage | None:
        kind = record.rec_type
        headers = record.rec_headers
        if kind == "warcinfo":
            self.outlet = _warc_fields(record.raw_stream.read(1 << 20)).get("isPartOf", self.outlet)
            return None
        if kind == "metadata" and self.pending is not None:
            if self.pending.record_id in {headers.get_header("WARC-Refers-To"), headers.get_header("WARC-Concurrent-To")}:
                self.pending.fields = _warc_fields(record.raw_stream.read(1 << 20))
            return None
        if kind not in {"response", "revisit"}:
            return None
        ordinal = self.responses
        self.responses += kind == "response"
        payload = record.raw_stream.read(MAX_PAYLOAD + 1)
        offset, length = iterator.get_record_offset(), iterator.get_record_length()
        done = self.flush()
        problems = list(getattr(record.digest_checker, "problems", None) or [])
        if any(problem.startswith("block digest failed") for problem in problems):
            raise ValueError(f"record damaged: {problems[0]}")
        if len(payload) <= MAX_PAYLOAD and getattr(record.raw_stream, "limit", 0) > 0:
            raise ValueError(f"record truncated: {record.raw_stream.limit} bytes short of its Content-Length")
        http = record.http_headers
        if len(payload) > MAX_PAYLOAD or http is None or not http.statusline:
            note = f"payload over {MAX_PAYLOAD} bytes, skipped" if len(payload) > MAX_PAYLOAD else ""
            return Damage(self.name, offset, note, used=False) if note and done is None else done
        status = (http.get_statuscode() or "").strip()
        self.pending = Capture(
            file=self.name,
            offset=offset,
            length=length,
            ordinal=ordinal,
            kind=kind,
            record_id=headers.get_header("WARC-Record-ID") or f"<{self.name}:{offset}>",
            uri=(headers.get_header("WARC-Target-URI") or "").strip().strip("<>"),
            date=headers.get_header("WARC-Date") or "",
            status=int(status) if status.isdigit() else 0,
            reason=http.statusline.partition(" ")[2],
            headers=_http_headers(http.headers),
            payload=payload,
            payload_digest=headers.get_header("WARC-Payload-Digest") or "",
            refers_to_uri=headers.get_header("WARC-Refers-To-Target-URI") or "",
            outlet=self.outlet,
            digest_problem=problems[0] if problems else "",
        )
        return done

    def flush(self) -> Capture | None:
        pending, self.pending = self.pending, None
        return pending


def _warc_fields(data: bytes) -> dict[str, str]:
    fields = {}
    for line in data.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def _http_headers(pairs: list[tuple[str, str]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _single_member(fh: BinaryIO) -> bool:
    """Whether a gzip file is one member holding several records (warcio refuses those)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    fh.seek(0)
    head = b""
    try:
        while not inflater.eof and len(head) < 1 << 20:
            chunk = fh.read(1 << 16)
            if not chunk:
                break
            head += inflater.decompress(chunk, 1 << 20)
    except zlib.error:
        fh.seek(0)
        return False
    fh.seek(0)
    return len(_WARC_START.findall(head)) > 1


def _next_record_start(fh: BinaryIO, start: int, compressed: bool) -> int | None:
    """The offset of the next gzip member (or WARC header line) at or after ``start``."""
    fh.seek(start)
    carry = b""
    base = start
    while chunk := fh.read(1 << 20):
        data = carry + chunk
        if compressed:
            found = data.find(_GZIP_MEMBER)
            if found >= 0:
                return base + found
        elif match := _WARC_START.search(data):
            return base + match.start(1)
        carry = data[-16:]
        base += len(data) - len(carry)
    return None


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text[:300]}"
