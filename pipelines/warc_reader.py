"""Reading captures back out of WARC, ARC and WACZ files, whatever state they are in.

:func:`read_archive` streams one file's HTTP responses and revisit records as
:class:`~pipelines.capture.Capture` objects, each with its :class:`~pipelines.capture.WarcLocation`,
the outlet its crawl declared (warcinfo ``isPartOf``) and what the crawl's ``metadata``
record says about it (its role, the URL that redirected to it). It reports every
damaged stretch as a :class:`Damage` with its offset, then carries on from the next
record it can find: a corrupt gzip member, a truncated record or a bad digest costs
that record only. Payloads stay as archived; :meth:`Capture.body` decodes them.
"""

from __future__ import annotations

import gzip
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from pipelines.capture import Capture, WarcLocation
from pipelines.payload import MAX_PAYLOAD

MAX_DAMAGES_PER_FILE = 1000
_GZIP_MEMBER = b"\x1f\x8b\x08"
_WARC_START = re.compile(rb"(?:^|\n)(WARC/1\.[01]\r?\n)")
_LEADING_SPACE = b" \t\r\n"


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


def read_capture(path: Path, offset: int) -> Capture:
    """The capture whose record starts at ``offset`` of ``path`` (one seek), without its metadata record.

    Raises ``ValueError`` when no response or revisit record starts there.
    """
    with open(path, "rb") as fh:
        fh.seek(offset)
        state = _FileState(path.name)
        iterator = ArchiveIterator(fh, arc2warc=True)
        for record in iterator:
            state.take(record, iterator)
            if (captured := state.flush()) is not None:
                return captured[0]
            break
    raise ValueError(f"no response or revisit record at offset {offset} of {path.name}")


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
            info = archive.getinfo(name)
            try:
                if info.compress_type == zipfile.ZIP_STORED:  # as WACZ stores WARCs: read in place, not in memory
                    with open(path, "rb") as fh:
                        yield from _read_stream(io.BufferedReader(_Window(fh, _data_offset(fh, info), info.file_size)),
                                                f"{path.name}!{Path(name).name}")
                    continue
                data = archive.read(name)
            except (zipfile.BadZipFile, OSError, zlib.error) as error:
                yield Damage(f"{path.name}!{name}", 0, f"unreadable inside the WACZ: {error}")
                continue
            yield from _read_stream(io.BytesIO(data), f"{path.name}!{Path(name).name}")


def _data_offset(fh: BinaryIO, info: zipfile.ZipInfo) -> int:
    """Where a zip member's data starts: after its local header (30 bytes, then its name and extra field)."""
    fh.seek(info.header_offset)
    header = fh.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"no local header for {info.filename} at offset {info.header_offset}")
    return info.header_offset + 30 + int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")


class _Window(io.RawIOBase):
    """``size`` bytes of a file from ``start``, as a file of their own (a WARC stored in a WACZ)."""

    def __init__(self, fh: BinaryIO, start: int, size: int) -> None:
        self.fh, self.start, self.size, self.position = fh, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self.size - self.position)
        if wanted <= 0:
            return 0
        self.fh.seek(self.start + self.position)
        data = self.fh.read(wanted)
        buffer[:len(data)] = data
        self.position += len(data)
        return len(data)


def _read_stream(fh: BinaryIO, name: str) -> Iterator[Capture | Damage]:
    state = _FileState(name)
    start = _first_record(fh)
    fh.seek(start)
    head = fh.read(len(_GZIP_MEMBER))
    compressed: bool | None = True if head == _GZIP_MEMBER else None if head[:1] not in b"Wf" else False
    if start:
        yield Damage(name, 0, f"{start} stray byte(s) before the first record, skipped", used=True)
    if compressed and _single_member(fh, start):
        # one gzip member around the whole file (not per record): read it as one stream
        fh.seek(start)
        fh = gzip.GzipFile(fileobj=fh)  # type: ignore[assignment]
        compressed, start = False, 0
        yield Damage(name, 0, "whole file is one gzip member, not one per record: read as a stream", used=True)
    position: int | None = start
    failed_at = start
    damaged = 0
    while position is not None and damaged < MAX_DAMAGES_PER_FILE:
        fh.seek(position)
        iterator = ArchiveIterator(fh, arc2warc=True, check_digests=True)
        failed_at = position
        try:
            for record in iterator:
                failed_at = max(iterator.offset, position)
                yield from state.take(record, iterator)
            position = None
            if compressed and state.records and (cut := _cut_after(fh, failed_at)) is not None:
                failed_at = cut
                raise ValueError(f"the file is cut short: it ends inside the gzip member at offset {cut}")
        except Exception as error:  # noqa: BLE001 - a damaged stretch, whatever the cause: skip past it
            damaged += 1
            yield Damage(name, failed_at, _describe(error))
            position = _next_record_start(fh, failed_at + 1, compressed)
        yield from state.flush() or ()
    if damaged >= MAX_DAMAGES_PER_FILE:
        yield Damage(name, failed_at, f"gave up on the file after {damaged} damaged stretches")
    elif not state.records and not damaged and _has_content(fh):
        yield Damage(name, start, "no WARC or ARC record found")


def _cut_after(fh: BinaryIO, offset: int) -> int | None:
    """Where the file is cut, if it is, after the last record (its gzip member at ``offset``): that member
    ends early (the record may be whole, but what followed is lost), or a partial member follows it."""
    fh.seek(offset)
    inflater, used = zlib.decompressobj(31), 0
    try:
        while not inflater.eof and (chunk := fh.read(1 << 16)):
            while chunk and not inflater.eof:
                inflater.decompress(chunk, 1 << 20)
                used += len(chunk) - len(inflater.unconsumed_tail) - len(inflater.unused_data)
                chunk = inflater.unconsumed_tail
    except zlib.error:
        return offset
    if not inflater.eof:
        return offset
    fh.seek(offset + used)
    return offset + used if fh.read(1 << 16).strip(b" \t\r\n\0") else None


def _first_record(fh: BinaryIO) -> int:
    """Where the first record starts: past any blank lines a careless tool put before it."""
    fh.seek(0)
    head = fh.read(4096)
    return len(head) - len(head.lstrip(_LEADING_SPACE)) if head.lstrip(_LEADING_SPACE) else 0


def _has_content(fh: BinaryIO) -> bool:
    fh.seek(0)
    return bool(fh.read(4096).strip())


class _FileState:
    """What reading one file needs to remember: its warcinfo, response order, the capture awaiting metadata."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.outlet = ""
        self.responses = 0
        self.records = 0
        self.pending: Capture | None = None
        self.pending_damage: Damage | None = None

    def take(self, record: ArcWarcRecord, iterator: ArchiveIterator) -> list[Capture | Damage]:
        """What reading ``record`` completes: the capture before it (once its metadata record had its chance)."""
        self.records += 1
        kind = record.rec_type
        headers = record.rec_headers
        if kind == "warcinfo":
            self.outlet = _warc_fields(record.raw_stream.read(1 << 20)).get("isPartOf", self.outlet)
            return _whole(record)
        if kind == "metadata" and self.pending is not None and self.pending.location is not None:
            if self.pending.location.record_id in {headers.get_header("WARC-Refers-To"),
                                                   headers.get_header("WARC-Concurrent-To")}:
                self.pending = _described(self.pending, _warc_fields(record.raw_stream.read(1 << 20)))
            return _whole(record)
        if kind not in {"response", "revisit"}:
            return _whole(record)
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
        if len(payload) > MAX_PAYLOAD:
            return [*done, Damage(self.name, offset, f"payload over {MAX_PAYLOAD} bytes, skipped")]
        if http is None or not http.statusline:
            return done
        status = (http.get_statuscode() or "").strip()
        record_id = headers.get_header("WARC-Record-ID") or f"<{self.name}:{offset}>"
        location = WarcLocation(
            file=self.name, offset=offset, length=length, ordinal=ordinal, record_id=record_id,
            date=headers.get_header("WARC-Date") or "",
            payload_digest=headers.get_header("WARC-Payload-Digest") or "",
            revisit_of=(headers.get_header("WARC-Refers-To") or "?") if kind == "revisit" else "",
        )
        self.pending = Capture(
            url=(headers.get_header("WARC-Target-URI") or "").strip().strip("<>"),
            status=int(status) if status.isdigit() else 0,
            headers=http_headers(http.headers),
            payload=payload,
            location=location,
            reason=http.statusline.partition(" ")[2],
            outlet=self.outlet,
            refers_to_url=headers.get_header("WARC-Refers-To-Target-URI") or "",
        )
        self.pending_damage = Damage(self.name, offset, problems[0], used=True) if problems else None
        return done

    def flush(self) -> list[Capture | Damage]:
        """The capture awaiting its metadata record (after the damage it was read despite), if any."""
        pending, damage = self.pending, self.pending_damage
        self.pending = self.pending_damage = None
        return [item for item in (damage, pending) if item is not None]


def _whole(record: ArcWarcRecord) -> list[Capture | Damage]:
    """Nothing, once the rest of a record not kept is read (as the reader must, to reach the next one) and found
    whole: ``ValueError`` for one cut short (the end of a file cut off inside a request or metadata record)."""
    if record.format == "warc" and record.rec_headers.get_header("Content-Length") is None:
        raise ValueError(f"{record.rec_type or 'a'} record without a Content-Length: its headers are cut short")
    while record.raw_stream.read(1 << 16):
        pass
    if getattr(record.raw_stream, "limit", 0) > 0:
        raise ValueError(f"{record.rec_type or 'a'} record truncated: {record.raw_stream.limit} bytes short of its "
                         "Content-Length")
    return []


def _described(capture: Capture, fields: dict[str, str]) -> Capture:
    """The capture with what its crawl's metadata record says: its role and the URL that redirected to it."""
    redirected = fields.get("redirectedFrom", "")
    return replace(capture, role=fields.get("role", ""), redirected_from=(redirected,) if redirected else ())


def _warc_fields(data: bytes) -> dict[str, str]:
    fields = {}
    for line in data.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def http_headers(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """HTTP headers as a capture holds them: lower-case names, a repeated header's values joined with ", "."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _single_member(fh: BinaryIO, start: int = 0) -> bool:
    """Whether a gzip file is one member holding several records (warcio refuses those)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    fh.seek(start)
    head = b""
    try:
        while not inflater.eof and len(head) < 1 << 20:
            chunk = fh.read(1 << 16)
            if not chunk:
                break
            head += inflater.decompress(chunk, 1 << 20)
    except zlib.error:
        return False
    return len(_WARC_START.findall(head)) > 1


def _next_record_start(fh: BinaryIO, start: int, compressed: bool | None) -> int | None:
    """The offset of the next gzip member (``compressed``), WARC header line (not), or either (not known yet:
    the file began with neither) at or after ``start``."""
    fh.seek(start)
    carry = b""
    base = start
    while chunk := fh.read(1 << 20):
        data = carry + chunk
        member = data.find(_GZIP_MEMBER) if compressed is not False else -1
        header = _WARC_START.search(data) if not compressed else None
        found = [at for at in (member, header.start(1) if header else -1) if at >= 0]
        if found:
            return base + min(found)
        carry = data[-16:]
        base += len(data) - len(carry)
    return None


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text[:300]}"
