"""The WARC file writer: naming, rotation, atomic records, and recovery after a kill."""

from __future__ import annotations

import fcntl
import random
import re
from io import BytesIO
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders

from crawler.warc.recovery import complete_fetches_length, recover_open_files
from crawler.warc.writer import OPEN_SUFFIX, WarcFileWriter, _compress, record_builder
from tests.warc_reading import read_records, warcio_check

INFO = {"software": "test", "isPartOf": "demo"}


def response(n: int, size: int = 3000):
    body = random.Random(n).randbytes(size)  # incompressible, so sizes are predictable
    head = StatusAndHeaders("200 OK", [("Content-Type", "text/plain")], protocol="HTTP/1.1")
    return record_builder().create_warc_record(
        f"https://example.com/{n}", "response", payload=BytesIO(body), length=len(body), http_headers=head
    )


def fetch(n: int, size: int = 3000) -> list:
    """One fetch as the crawl writes it: the response, then the metadata record that closes the group."""
    record = response(n, size)
    fields = b"role: article\r\n"
    metadata = record_builder().create_warc_record(
        f"https://example.com/{n}", "metadata", payload=BytesIO(fields), length=len(fields),
        warc_headers_dict={"WARC-Concurrent-To": record.rec_headers.get_header("WARC-Record-ID")},
    )
    return [record, metadata]


def test_rotation_names_and_warcinfo(tmp_path: Path) -> None:
    writer = WarcFileWriter(tmp_path, "demo", INFO, max_size=8000)
    locations = [writer.write(fetch(n))[0] for n in range(12)]
    writer.close()
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) >= 3 and not list(tmp_path.glob(f"*{OPEN_SUFFIX}"))
    serials = [int(re.fullmatch(r"demo-\d{17}-(\d{5})-[A-Za-z0-9._]+\.warc\.gz", f.name)[1]) for f in files]
    assert sorted(serials) == list(range(len(files)))
    for path in files:
        assert warcio_check(path).returncode == 0
        records = read_records(path)
        assert records[0].type == "warcinfo" and "isPartOf: demo" in records[0].raw_payload.decode()
        assert records[0].headers["WARC-Filename"] == path.name
    # every location points at its record: one seek, one gzip member
    for n, where in enumerate(locations):
        with open(tmp_path / where.file, "rb") as fh:
            fh.seek(where.offset)
            record = next(iter(ArchiveIterator(BytesIO(fh.read(where.length)))))
            assert record.rec_headers.get_header("WARC-Target-URI") == f"https://example.com/{n}"
            assert record.rec_headers.get_header("WARC-Record-ID") == where.record_id


def test_recovery_cuts_a_torn_record_and_closes_the_file(tmp_path: Path) -> None:
    writer = WarcFileWriter(tmp_path, "demo", INFO)
    for n in range(5):
        writer.write(fetch(n))
    open_file = writer.current_path
    assert open_file is not None and open_file.name.endswith(OPEN_SUFFIX)
    good_size = open_file.stat().st_size
    torn = b"\x1f\x8b\x08\x00 torn half of a gzip member"  # what a kill mid-write leaves
    writer._fh.write(torn)
    writer._fh.flush()

    assert recover_open_files(tmp_path) == [], "a file locked by a live writer must be left alone"

    writer._fh.close()  # the writer "dies": its lock goes with it
    with open(open_file, "rb") as fh:
        assert complete_fetches_length(fh) == good_size
    [(path, final, cut)] = recover_open_files(tmp_path)
    assert path == open_file and final is not None and cut == len(torn)
    assert final.stat().st_size == good_size
    assert warcio_check(final).returncode == 0
    assert [r.type for r in read_records(final)] == ["warcinfo"] + ["response", "metadata"] * 5


def test_recovery_drops_a_response_whose_metadata_never_reached_the_file(tmp_path: Path) -> None:
    """A kill between two records of one write: the response is whole, but nothing says what it was."""
    writer = WarcFileWriter(tmp_path, "demo", INFO)
    for n in range(3):
        writer.write(fetch(n))
    open_file = writer.current_path
    good_size = open_file.stat().st_size
    lone_response, _ = _compress(fetch(3)[:1])
    writer._fh.write(lone_response)
    writer._fh.flush()
    writer._fh.close()
    [(path, final, cut)] = recover_open_files(tmp_path)
    assert path == open_file and final.stat().st_size == good_size and cut == len(lone_response)
    assert warcio_check(final).returncode == 0
    assert [r.uri for r in read_records(final) if r.type == "response"] == [
        f"https://example.com/{n}" for n in range(3)
    ]


def test_a_write_is_one_fetch_ending_with_its_metadata(tmp_path: Path) -> None:
    writer = WarcFileWriter(tmp_path, "demo", INFO)
    with pytest.raises(ValueError, match="ends with its metadata record"):
        writer.write([response(1)])
    writer.close()


def test_recovery_removes_a_file_without_a_complete_record(tmp_path: Path) -> None:
    stale = tmp_path / f"demo-20240101000000000-00000-host.warc.gz{OPEN_SUFFIX}"
    torn = b"\x1f\x8b\x08\x00 nothing complete"
    stale.write_bytes(torn)
    [(path, final, cut)] = recover_open_files(tmp_path)
    assert path == stale and final is None and cut == len(torn)
    assert not stale.exists()


def test_open_file_is_exclusively_locked(tmp_path: Path) -> None:
    writer = WarcFileWriter(tmp_path, "demo", INFO)
    writer.write(fetch(1))
    with open(writer.current_path, "rb") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            locked = False
        except BlockingIOError:
            locked = True
    writer.close()
    assert locked
