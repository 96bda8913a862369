"""The WARC file writer: naming, rotation, atomic records, and recovery after a kill."""

from __future__ import annotations

import fcntl
import os
import random
import re
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.warc.records import (
    IDENTICAL_PAYLOAD_DIGEST,
    SERVER_NOT_MODIFIED,
    WarcRecord,
    http_head,
    revisit_record,
    warc_record,
)
from crawler.warc.recovery import complete_fetches_length, recover_open_files
from crawler.warc.writer import OPEN_SUFFIX, WarcFileWriter, gzip_level, pack
from tests.conftest import REPO, scrapy_command
from tests.warc_reading import read_records, warcio_check

INFO = {"software": "test", "isPartOf": "demo"}


def response(n: int, size: int = 3000) -> WarcRecord:
    body = random.Random(n).randbytes(size)  # incompressible, so sizes are predictable
    head = http_head("HTTP/1.1 200 OK", [("Content-Type", "text/plain")])
    return warc_record("response", f"https://example.com/{n}", head + body, {}, payload_from=len(head))


def fetch(n: int, size: int = 3000) -> list[WarcRecord]:
    """One fetch as the crawl writes it: the response, then the metadata record that closes the group."""
    record = response(n, size)
    metadata = warc_record("metadata", f"https://example.com/{n}", b"role: article\r\n",
                           {"WARC-Concurrent-To": record.record_id})
    return [record, metadata]


def _parsed(data: bytes) -> tuple[dict[str, str], bytes]:
    record = next(iter(ArchiveIterator(BytesIO(data))))
    headers = dict(record.rec_headers.headers)
    block = (record.http_headers.to_ascii_bytes() if record.http_headers else b"") + record.raw_stream.read()
    return headers, block


def _warcio_bytes(record) -> bytes:
    out = BytesIO()
    WARCWriter(out, gzip=False, warc_version="1.1").write_record(record)
    return out.getvalue()


def test_records_are_those_warcio_builds() -> None:
    """Each kind of record the crawl writes has the headers, digests and block warcio's builder gives the same
    exchange (non-ASCII header values percent-encoded alike), and reads back with warcio."""
    builder = WARCWriter(None, warc_version="1.1")
    url, date = "https://example.com/caf\u00e9?q=1", "2026-12-02T01:02:03.456789Z"
    headers = [("Content-Type", "text/html"), ("Content-Disposition", "inline; filename=\"caf\u00e9.html\""),
               ("Content-Encoding", "gzip")]
    body = b"\x1f\x8b" + random.Random(1).randbytes(500)
    head = http_head("HTTP/1.1 200 OK", headers)
    ours = warc_record("response", url, head + body, {"WARC-Date": date, "WARC-IP-Address": "127.0.0.1"},
                       payload_from=len(head), encoded=True)
    theirs = builder.create_warc_record(
        url, "response", payload=BytesIO(body), length=len(body), http_headers=StatusAndHeaders(
            "200 OK", list(headers), protocol="HTTP/1.1"),
        warc_headers_dict={"WARC-Date": date, "WARC-IP-Address": "127.0.0.1", "WARC-Record-ID": ours.record_id})
    assert _parsed(ours.to_bytes()) == _parsed(_warcio_bytes(theirs))
    previous = {"record_id": ours.record_id, "url": url, "date": date,
                "payload_digest": ours.header("WARC-Payload-Digest")}
    for profile, revisit_head in ((IDENTICAL_PAYLOAD_DIGEST, head), (SERVER_NOT_MODIFIED, b"")):
        revisit = revisit_record(url, revisit_head, previous["payload_digest"], previous, profile,
                                 {"WARC-Date": date})
        expected = builder.create_revisit_record(
            url, previous["payload_digest"], url, date, warc_headers_dict={
                "WARC-Date": date, "WARC-Refers-To": ours.record_id, "WARC-Record-ID": revisit.record_id},
            http_headers=StatusAndHeaders("200 OK", list(headers), protocol="HTTP/1.1") if revisit_head else None)
        expected.rec_headers.replace_header("WARC-Profile", profile)
        assert _parsed(revisit.to_bytes()) == _parsed(_warcio_bytes(expected))
    request_head = http_head("GET /caf%C3%A9?q=1 HTTP/1.1", [("Host", "example.com")])
    request = warc_record("request", url, request_head, {"WARC-Date": date}, payload_from=len(request_head))
    expected = builder.create_warc_record(
        url, "request", payload=BytesIO(b""), length=0, warc_headers_dict={
            "WARC-Date": date, "WARC-Record-ID": request.record_id},
        http_headers=StatusAndHeaders("GET /caf%C3%A9?q=1 HTTP/1.1", [("Host", "example.com")], is_http_request=True))
    assert _parsed(request.to_bytes()) == _parsed(_warcio_bytes(expected))
    fields = b"via: https://example.com/\r\nrole: article\r\n"
    metadata = warc_record("metadata", url, fields, {"WARC-Date": date, "WARC-Refers-To": ours.record_id})
    expected = builder.create_warc_record(url, "metadata", payload=BytesIO(fields), length=len(fields),
                                          warc_headers_dict={"WARC-Date": date, "WARC-Refers-To": ours.record_id,
                                                             "WARC-Record-ID": metadata.record_id})
    assert _parsed(metadata.to_bytes()) == _parsed(_warcio_bytes(expected))
    # a reason phrase in Latin-1 (warcio's writer cannot encode it) is kept as the server sent it
    odd = http_head("HTTP/1.1 200 Tr\u00e8s bien", [("X-Note", "\u00e9t\u00e9")])
    assert odd.startswith(b"HTTP/1.1 200 Tr\xe8s bien\r\n") and b"X-Note: %C3%A9t%C3%A9\r\n" in odd


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
    lone_response, _ = pack(fetch(3)[:1])
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


def test_every_gzip_level_gives_the_same_records_and_the_level_is_applied(tmp_path: Path) -> None:
    rng = random.Random(7)
    words = ["".join(rng.choice("aeiounrstlmdk") for _ in range(rng.randint(2, 9))) for _ in range(800)]
    page = " ".join(rng.choice(words) for _ in range(9000))
    head = http_head("HTTP/1.1 200 OK", [("Content-Type", "text/html")])
    sizes, blocks = {}, {}
    for level in (1, 5, 9):
        writer = WarcFileWriter(tmp_path / str(level), "demo", INFO, level=level)
        record = warc_record("response", "https://example.com/a", head + page.encode(), {}, payload_from=len(head))
        writer.write([record, warc_record("metadata", "https://example.com/a", b"role: article\r\n",
                                          {"WARC-Concurrent-To": record.record_id})])
        writer.close()
        [path] = writer.closed_files
        assert warcio_check(path).returncode == 0
        sizes[level] = path.stat().st_size
        blocks[level] = [r.raw_payload for r in read_records(path) if r.type == "response"]
    assert blocks[1] == blocks[5] == blocks[9] == [page.encode()]
    assert sizes[1] > sizes[5] and sizes[1] > sizes[9]  # the fastest level packs least


@pytest.mark.parametrize("value", ["0", "10", "fast", "", None, "4.5"])
def test_a_gzip_level_outside_1_to_9_is_named(value: object) -> None:
    with pytest.raises(ValueError, match="WARC_GZIP_LEVEL must be a whole number from 1"):
        gzip_level(value)
    assert gzip_level(" 4 ") == 4 and gzip_level(9) == 9


def test_a_crawl_with_a_bad_gzip_level_stops_before_fetching_and_names_it(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    command = scrapy_command("bulk", archive, "http://127.0.0.1:9", {"SPIDER_MODULES": "tests.outlets",
                                                                      "WARC_GZIP_LEVEL": "11"})
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode != 0 and "WARC_GZIP_LEVEL must be a whole number from 1 (fastest) to 9" in done.stderr
    assert not list(archive.glob("*/warc/*"))
