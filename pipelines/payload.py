"""HTTP payloads as a browser sees them: left-over chunked framing and ``Content-Encoding`` undone.

Archived responses keep the payload as it came over the wire (still gzip- or brotli-encoded, sometimes
still chunked, when another crawler wrote the WARC); everything that reads one back decodes it here, with a
cap on the decoded size, so a tiny compression bomb never becomes gigabytes in memory.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping

import brotli

#: The most a payload may decode to unless a caller sets its own cap.
MAX_PAYLOAD = 64 * 1024 * 1024
_CHUNK_SIZE = re.compile(rb"([0-9a-fA-F]+)[ \t]*(?:;[^\r\n]*)?\r?\n")


class PayloadTooLarge(ValueError):
    """The payload decodes to more than the cap allows."""


def decode_payload(payload: bytes, headers: Mapping[str, str], max_size: int = MAX_PAYLOAD) -> bytes:
    """The body as a browser would see it: left-over chunked framing and Content-Encoding undone.

    ``headers`` has lower-case names. Raises :class:`PayloadTooLarge` when the result exceeds ``max_size``,
    ``ValueError`` when an encoding cannot be undone.
    """
    if "chunked" in headers.get("transfer-encoding", "").lower():
        payload = dechunk(payload)
    for coding in reversed([c.strip().lower() for c in headers.get("content-encoding", "").split(",") if c.strip()]):
        if coding in {"gzip", "x-gzip"}:
            payload = _inflate(payload, 16 + zlib.MAX_WBITS, max_size)
        elif coding == "deflate":
            try:
                payload = _inflate(payload, zlib.MAX_WBITS, max_size)
            except PayloadTooLarge:
                raise
            except ValueError:  # raw deflate, as some servers send it
                payload = _inflate(payload, -zlib.MAX_WBITS, max_size)
        elif coding == "br":
            payload = _unbrotli(payload, max_size)
        elif coding not in {"identity", "none"}:
            raise ValueError(f"unsupported Content-Encoding {coding!r}")
    if len(payload) > max_size:
        raise PayloadTooLarge(f"decoded payload over {max_size} bytes")
    return payload


def _inflate(data: bytes, wbits: int, max_size: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    try:
        output = inflater.decompress(data, max_size + 1)
    except zlib.error as error:
        raise ValueError(f"bad compressed payload: {error}") from error
    if len(output) > max_size:
        raise PayloadTooLarge(f"decoded payload over {max_size} bytes")
    return output


def _unbrotli(data: bytes, max_size: int) -> bytes:
    """Brotli-decode at most ``max_size`` bytes: a tiny bomb must not expand to gigabytes in memory."""
    decompressor = brotli.Decompressor()
    output = bytearray()
    try:
        piece = decompressor.process(data, output_buffer_limit=1 << 20)
        while True:
            output += piece
            if len(output) > max_size:
                raise PayloadTooLarge(f"decoded payload over {max_size} bytes")
            if decompressor.is_finished() or not piece:
                break
            piece = decompressor.process(b"", output_buffer_limit=1 << 20)
    except brotli.error as error:
        raise ValueError(f"bad brotli payload: {error}") from error
    return bytes(output)


def dechunk(data: bytes) -> bytes:
    """Undo HTTP chunked framing; data that is not validly chunked is returned as it is."""
    output = bytearray()
    position = 0
    while True:
        match = _CHUNK_SIZE.match(data, position)
        if not match:
            return data
        size = int(match[1], 16)
        position = match.end()
        if size == 0:
            return bytes(output)
        if position + size > len(data):
            return data
        output += data[position : position + size]
        position += size
        if data[position : position + 2] == b"\r\n":
            position += 2
        elif data[position : position + 1] == b"\n":
            position += 1
