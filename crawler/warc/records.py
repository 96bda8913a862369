"""WARC 1.1 records as the crawl writes them, built straight to bytes.

warcio's record builder is general (streams, unknown lengths, header lookups by
case-folded scans) and cost about 0.4 ms a fetch on the crawl's one thread, more
than compressing the records. A crawl always holds the whole block in memory, so
a record here is its type, its named headers and its block; digests are SHA-1 in
base 32 as warcio writes them, HTTP heads are serialised as warcio serialises them
(non-ASCII header values percent-encoded, RFC 8187). ``tests/test_warc_writer.py``
holds each kind of record to what warcio's builder makes of the same exchange.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date

WARC_VERSION_LINE = b"WARC/1.1\r\n"
IDENTICAL_PAYLOAD_DIGEST = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
CONTENT_TYPES = {
    "warcinfo": "application/warc-fields",
    "response": "application/http; msgtype=response",
    "revisit": "application/http; msgtype=response",
    "request": "application/http; msgtype=request",
    "metadata": "application/warc-fields",
}


@dataclass(frozen=True, slots=True)
class WarcRecord:
    """One record: its type, its named headers in order (Content-Length is the block's, added on writing) and
    its block. ``encoded``: the payload is content-encoded already (the writer compresses it fast)."""

    rec_type: str
    headers: dict[str, str]
    block: bytes
    encoded: bool = False

    def header(self, name: str) -> str:
        return self.headers.get(name, "")

    @property
    def record_id(self) -> str:
        return self.headers["WARC-Record-ID"]

    def to_bytes(self) -> bytes:
        named = "".join(f"{name}: {value}\r\n" for name, value in self.headers.items())
        return b"".join((WARC_VERSION_LINE, named.encode("utf-8"), b"Content-Length: %d\r\n\r\n" % len(self.block),
                         self.block, b"\r\n\r\n"))


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def warc_date(moment: datetime | None = None) -> str:
    """A WARC-Date with microseconds, as WARC 1.1 allows (default: now)."""
    return datetime_to_iso_date((moment or datetime.now(UTC)).replace(tzinfo=None), use_micros=True)


def sha1_digest(data: bytes | memoryview) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def http_head(statusline: str, headers: list[tuple[str, str]]) -> bytes:
    """An HTTP status or request line and its headers, as the block of a record begins (blank line included)."""
    text = statusline + "\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:  # rare: header values percent-encoded as warcio does (RFC 8187), so both agree;
        parsed = StatusAndHeaders(statusline, list(headers), protocol="")  # a reason phrase kept as received
        parsed.percent_encode_non_ascii_headers()
        return parsed.to_str().encode("latin-1", "replace") + b"\r\n"


def warc_record(rec_type: str, url: str, block: bytes, headers: dict[str, str], payload_from: int = 0,
                encoded: bool = False) -> WarcRecord:
    """A record of ``block`` (an HTTP head then the payload from ``payload_from``, or fields); ``headers``:
    WARC-Date and what else it needs. Its WARC-Payload-Digest is the payload's, as warcio gives every
    record but warcinfo and revisits."""
    named = {"WARC-Type": rec_type, "WARC-Record-ID": new_record_id()}
    if url:
        named["WARC-Target-URI"] = url
    named.update(headers)
    named.setdefault("WARC-Date", warc_date())
    if rec_type not in ("warcinfo", "revisit"):
        named["WARC-Payload-Digest"] = sha1_digest(memoryview(block)[payload_from:])  # no copy of the payload
    named["WARC-Block-Digest"] = sha1_digest(block)
    named["Content-Type"] = CONTENT_TYPES.get(rec_type, "application/warc-record")
    return WarcRecord(rec_type, named, block, encoded)


def revisit_record(url: str, head: bytes, payload_digest: str, refers_to: dict[str, str], profile: str,
                   headers: dict[str, str]) -> WarcRecord:
    """A revisit of the capture ``refers_to`` (its ``record_id``, ``url``, ``date``): ``head`` is this fetch's
    HTTP head (identical-payload-digest) or empty (server-not-modified: the block is empty, as WARC 1.1 allows)."""
    return warc_record("revisit", url, head, {
        **headers, "WARC-Refers-To": refers_to["record_id"], "WARC-Profile": profile,
        "WARC-Refers-To-Target-URI": refers_to["url"], "WARC-Refers-To-Date": refers_to["date"],
        "WARC-Payload-Digest": payload_digest,
    })


def warcinfo_record(filename: str, info: dict[str, str]) -> WarcRecord:
    """The record opening a file: what wrote it, for whom (``info``'s empty fields are left out)."""
    fields = "".join(f"{name}: {value}\r\n" for name, value in info.items() if value).encode("utf-8")
    return warc_record("warcinfo", "", fields, {"WARC-Filename": filename})
