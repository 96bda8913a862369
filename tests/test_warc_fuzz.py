"""The WARC reader under hostile archives: mutated copies of a valid WARC never crash or hang replay."""

from __future__ import annotations

import io
import signal
import zlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.capture import Capture
from pipelines.payload import decode_payload
from pipelines.warc_reader import Damage, _read_stream
from tests.localweb.generate import BULK_HOST, article_html, write_warc

PAGES = [(f"https://{BULK_HOST}/news/story-{n}", article_html(n).encode()) for n in range(6)]


def valid_warc(tmp: Path) -> bytes:
    return write_warc(tmp, "bulk", PAGES).read_bytes()


class _Hang(Exception):
    pass


def _alarm(*_: object) -> None:
    raise _Hang


def read_all(data: bytes) -> list[Capture | Damage]:
    """Everything the reader makes of ``data``, within 10 seconds (a hang fails the test)."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(10)
    try:
        items = list(_read_stream(io.BytesIO(data), "fuzzed.warc.gz"))
        for item in items:
            if isinstance(item, Capture):
                try:
                    decode_payload(item.payload, item.headers)
                except ValueError:
                    pass  # an undecodable payload is a clear error, not a crash
        return items
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


mutations = st.lists(
    st.tuples(
        st.sampled_from(["flip", "cut", "insert", "delete"]), st.floats(0, 1), st.binary(min_size=1, max_size=64)
    ),
    min_size=1,
    max_size=4,
)


def mutate(data: bytes, steps: list[tuple[str, float, bytes]]) -> bytes:
    buffer = bytearray(data)
    for kind, where, blob in steps:
        at = int(where * (len(buffer) - 1)) if buffer else 0
        if kind == "flip" and buffer:
            buffer[at] ^= blob[0] or 1
        elif kind == "cut":
            del buffer[at:]
        elif kind == "insert":
            buffer[at:at] = blob
        elif kind == "delete":
            del buffer[at : at + len(blob)]
    return bytes(buffer)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=mutations)
def test_mutated_warcs_never_crash_or_hang(tmp_path_factory, steps) -> None:
    original = valid_warc(tmp_path_factory.mktemp("warc"))
    intact = [i for i in read_all(original) if isinstance(i, Capture)]
    assert len(intact) == len(PAGES)
    items = read_all(mutate(original, steps))
    captures = [i for i in items if isinstance(i, Capture)]
    # whatever was lost is accounted for: a record is read, or damage is reported somewhere in the file
    if len(captures) < len(PAGES):
        assert any(isinstance(i, Damage) for i in items) or len(mutate(original, steps)) < len(original)


def test_a_warc_cut_short_anywhere_is_reported(tmp_path: Path) -> None:
    """Every cut that ends the file inside a record — a response's, a request's, a metadata record's, or
    the headers of the first — is a damaged stretch (replay exits 1), whatever the record kind."""
    data = valid_warc(tmp_path)
    members, start = [], 0
    while start < len(data):  # the gzip members: one per record
        inflater = zlib.decompressobj(31)
        inflater.decompress(data[start:])
        end = len(data) - len(inflater.unused_data)
        members.append((start, end))
        start = end
    assert len(members) > 6
    for first, last in members:
        for cut in (first + 40, (first + last) // 2, last - 9):  # the headers, the middle, the gzip trailer
            items = read_all(data[:cut])
            assert any(isinstance(item, Damage) and not item.used for item in items), (first, cut)
    assert not any(isinstance(item, Damage) for item in read_all(data))
