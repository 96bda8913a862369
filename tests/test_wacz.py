"""``scrapy wacz``: the reading room's archive (real crawls of the local outlet web) packaged as WACZ by real
``python -m scrapy wacz`` processes, checked with py-wacz's own validator and read back by ``scrapy replay``."""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from crawler.schedule.packages import package_day, package_path, previous_day
from tests.conftest import REPO
from tests.reading_room import OUTLETS
from tests.test_service import ServiceProcess, wait_for

ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def scrapy(archive: Path, *args: str, limit_file_size: int = 0, timeout: float = 180) -> subprocess.CompletedProcess:
    def limited() -> None:  # a disk that fills up: writes past the limit fail with EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    return subprocess.run([sys.executable, "-m", "scrapy", *args, "-s", f"ARCHIVE_ROOT={archive}"], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, env=ENV,
                          preexec_fn=limited if limit_file_size else None)


def wacz(archive: Path, *args: str, **options: int) -> subprocess.CompletedProcess:
    return scrapy(archive, "wacz", *args, **options)


def validate(package: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wacz", "validate", "-f", str(package)], capture_output=True,
                          text=True, timeout=120)


def pages(package: Path) -> list[dict]:
    with zipfile.ZipFile(package) as archive:
        lines = archive.read("pages/pages.jsonl").decode("utf-8").splitlines()
    return [json.loads(line) for line in lines]


def extracted(archive: Path) -> list[tuple[str, str, str]]:
    """Every extracted article capture of an archive's catalog: (url, capture time, its article text)."""
    with sqlite3.connect(archive / "catalog.sqlite") as connection:
        rows = connection.execute("SELECT url, fetched, article_text_path FROM captures WHERE status = 'extracted'")
        return sorted((url, fetched, (archive / path).read_text("utf-8")) for url, fetched, path in rows)


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(".partial"))


@pytest.fixture()
def archive(reading_room_archive: Path, tmp_path: Path) -> Path:
    """A copy of the reading room's archive that a test may damage."""
    copy = tmp_path / "archive"
    shutil.copytree(reading_room_archive, copy, ignore=shutil.ignore_patterns("*.lock", "catalog.sqlite*"))
    # the catalog through SQLite's backup: its WAL may be checkpointed and removed by a closing reader meanwhile
    with sqlite3.connect(reading_room_archive / "catalog.sqlite") as source, \
            sqlite3.connect(copy / "catalog.sqlite") as target:
        source.backup(target)
    return copy


def test_package_is_valid_and_lists_every_article_with_its_metadata_and_text(reading_room_archive: Path,
                                                                               tmp_path: Path) -> None:
    package = tmp_path / "all.wacz"
    done = wacz(reading_room_archive, "-o", str(package))
    assert done.returncode == 0, done.stderr
    assert "Wrote" in done.stdout and not leftovers(tmp_path)
    checked = validate(package)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    header, *listed = pages(package)
    assert header["format"] == "json-pages-1.0" and header["hasText"] is True
    latest = {}
    for url, fetched, text in extracted(reading_room_archive):
        latest[url] = (fetched, text)  # an article's latest version is its page
    assert sorted(page["url"] for page in listed) == sorted(latest)
    for page in listed:
        fetched, text = latest[page["url"]]
        assert page["ts"].startswith(fetched[:19]) and page["text"] == text
        assert page["title"] == text.split("\n", 1)[0]
        assert {"byline", "source", "published", "outlet", "record_id"} <= page.keys()
    seed = next(page for page in listed if "two senior Israeli officials to Washington" in page["text"])
    assert (seed["outlet"], seed["source"]) == ("almayadeen", "Axios")  # seed 001 and its credited source

    with zipfile.ZipFile(package) as archive:
        packaged = sorted(Path(name).name for name in archive.namelist() if name.startswith("archive/"))
    on_disk = sorted(path.name for path in reading_room_archive.glob("*/warc/*.warc.gz"))
    assert packaged == on_disk


def test_replaying_the_package_writes_the_texts_the_warcs_give(reading_room_archive: Path, tmp_path: Path) -> None:
    package = tmp_path / "all.wacz"
    assert wacz(reading_room_archive, "-q", "-o", str(package)).returncode == 0
    from_warcs, from_package = tmp_path / "from-warcs", tmp_path / "from-package"
    warcs = sorted(str(path) for path in reading_room_archive.glob("*/warc/*.warc.gz"))
    for source, output in ((warcs, from_warcs), ([str(package)], from_package)):
        done = scrapy(output, "replay", *source, "-o", str(output), "--workers", "1")
        assert done.returncode == 0, done.stderr[-2000:]
    assert extracted(from_package) == extracted(from_warcs)
    assert len(extracted(from_package)) >= len(OUTLETS)


def test_one_outlet_and_a_range(reading_room_archive: Path, tmp_path: Path) -> None:
    package = tmp_path / "ndtv.wacz"
    done = wacz(reading_room_archive, "ndtv", "-o", str(package), "--since", "2000-01-01", "--until", "2999-12-31")
    assert done.returncode == 0, done.stderr
    assert {page["outlet"] for page in pages(package)[1:]} == {"ndtv"}
    with zipfile.ZipFile(package) as archive:
        assert all(Path(name).name.startswith("ndtv-") for name in archive.namelist() if name.startswith("archive/"))

    future = wacz(reading_room_archive, "ndtv", "-o", str(tmp_path / "none.wacz"), "--since", "2999-01-01")
    assert future.returncode == 1 and "Nothing to package" in future.stderr
    assert not (tmp_path / "none.wacz").exists()


@pytest.mark.parametrize(("arguments", "message"), [
    (("nosuchoutlet",), "unknown outlet"),
    (("--since", "yesterday"), "--since takes a day"),
    (("--since", "2026-03-02", "--until", "2026-03-01"), "the range is empty"),
    (("--until", "2026-02-30"), "--until takes a day"),
])
def test_bad_arguments_are_usage_errors(reading_room_archive: Path, tmp_path: Path, arguments: tuple[str, ...],
                                        message: str) -> None:
    done = wacz(reading_room_archive, *arguments, "-o", str(tmp_path / "x.wacz"))
    assert done.returncode == 2 and message in done.stderr
    assert not list(tmp_path.iterdir())


def test_an_existing_package_is_replaced_only_with_force(reading_room_archive: Path, tmp_path: Path) -> None:
    package = tmp_path / "kept.wacz"
    package.write_bytes(b"someone's file")
    refused = wacz(reading_room_archive, "ndtv", "-o", str(package))
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert package.read_bytes() == b"someone's file"
    replaced = wacz(reading_room_archive, "ndtv", "-o", str(package), "--force")
    assert replaced.returncode == 0, replaced.stderr
    assert validate(package).returncode == 0


def test_a_damaged_warc_is_left_out_and_listed(archive: Path, tmp_path: Path) -> None:
    damaged = sorted((archive / "ndtv" / "warc").glob("*.warc.gz"))[0]
    data = bytearray(damaged.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = b"\x00" * 64  # a corrupt gzip member in the middle of the file
    damaged.write_bytes(bytes(data))
    package = tmp_path / "out.wacz"
    done = wacz(archive, "-o", str(package))
    assert done.returncode == 1
    assert f"LEFT OUT (damaged): {damaged}" in done.stderr
    assert validate(package).returncode == 0
    with zipfile.ZipFile(package) as packaged:
        names = {Path(name).name for name in packaged.namelist()}
    assert damaged.name not in names
    assert {page["outlet"] for page in pages(package)[1:]} == set(OUTLETS) - {"ndtv"} | {"bulk"}


def test_a_full_disk_leaves_no_package_and_no_partial_file(reading_room_archive: Path, tmp_path: Path) -> None:
    package = tmp_path / "full.wacz"
    done = wacz(reading_room_archive, "-o", str(package), limit_file_size=64 * 1024)
    assert done.returncode == 1 and "No package written" in done.stderr, done.stderr[-2000:]
    assert not package.exists() and not leftovers(tmp_path)


def add_filler(warc: Path, megabytes: int) -> None:
    """Append ``megabytes`` of incompressible resource records to a WARC (a package that takes a while)."""
    from warcio.warcwriter import WARCWriter

    with open(warc, "ab") as fh:
        writer = WARCWriter(fh, gzip=True)
        for n in range(megabytes):
            writer.write_record(writer.create_warc_record(f"urn:filler:{n}", "resource", payload=io.BytesIO(
                os.urandom(2**20)), warc_content_type="application/octet-stream"))


def test_a_stopped_run_leaves_nothing_half_made(archive: Path, tmp_path: Path) -> None:
    add_filler(sorted((archive / "ndtv" / "warc").glob("*.warc.gz"))[0], 40)
    out = tmp_path / "out"
    out.mkdir()
    package = out / "stopped.wacz"
    # a run killed outright (SIGKILL) leaves its partial file behind: the next run removes it
    killed = out / f".{package.name}.999999999.partial"
    killed.write_bytes(b"PK half a package")
    command = [sys.executable, "-m", "scrapy", "wacz", "-o", str(package), "-s", f"ARCHIVE_ROOT={archive}"]
    process = subprocess.Popen(command, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None and leftovers(out) in ([], [killed.name]):
        time.sleep(0.005)
    assert process.poll() is None, "the run ended before it was stopped while writing"
    assert not killed.exists()
    process.send_signal(signal.SIGTERM)  # stopped while writing the package
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1 and "stopped" in stderr
    assert not package.exists() and not leftovers(out)
    done = wacz(archive, "-o", str(package))
    assert done.returncode == 0 and validate(package).returncode == 0


def captured_yesterday(archive: Path, outlet: str) -> date:
    """Say in the catalog that ``outlet``'s captures were made a day earlier (what the service packages)."""
    with sqlite3.connect(archive / "catalog.sqlite") as connection:
        rows = connection.execute("SELECT record_id, fetched FROM captures WHERE outlet = ?", (outlet,)).fetchall()
        for record_id, fetched in rows:
            earlier = datetime.fromisoformat(fetched.replace("Z", "+00:00")) - timedelta(days=1)
            connection.execute("UPDATE captures SET fetched = ? WHERE record_id = ?",
                               (earlier.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), record_id))
    return previous_day()


def test_daily_packages_of_each_outlet_are_made_once(archive: Path) -> None:
    day = captured_yesterday(archive, "ndtv")
    results = package_day(archive, ["ndtv", "jns"], day, [], timeout=120)
    assert results == {"ndtv": f"packaged: {package_path(archive, 'ndtv', day)}", "jns": "nothing to package"}
    assert validate(package_path(archive, "ndtv", day)).returncode == 0
    assert not package_path(archive, "jns", day).exists()
    assert package_day(archive, ["ndtv"], day, [], timeout=120) == {}  # made once


def test_the_service_makes_the_missed_daily_package_at_start(archive: Path) -> None:
    day = captured_yesterday(archive, "ndtv")
    service = ServiceProcess(archive, "http://127.0.0.1:9", {
        "SCHEDULE_OUTLETS": "ndtv", "SCHEDULE_OVERRIDE": "every 1h", "WACZ_DAILY": "True", "WACZ_DAILY_AT": "00:00",
    })
    try:
        service.start()
        wait_for(lambda: package_path(archive, "ndtv", day).exists(), 90, "the daily package", service)
        assert service.signal(signal.SIGTERM) == 0
        assert validate(package_path(archive, "ndtv", day)).returncode == 0
        assert f"Daily packages of {day}: 1 made" in service.log()
        assert "wacz-daily" not in service.listing()  # the service's own job is no outlet's schedule
    finally:
        service.close()


def test_a_warc_still_being_written_waits_for_the_next_package(archive: Path, tmp_path: Path) -> None:
    writing = sorted((archive / "jns" / "warc").glob("*.warc.gz"))[0]
    writing.rename(writing.with_name(writing.name + ".open"))  # as a running crawl has it
    package = tmp_path / "out.wacz"
    done = wacz(archive, "-o", str(package))
    assert done.returncode == 0, done.stderr
    assert f"still writing ({writing.name})" in done.stderr
    assert "jns" not in {page["outlet"] for page in pages(package)[1:]}


def test_nothing_whole_to_package_names_what_was_left_out(archive: Path, tmp_path: Path) -> None:
    for warc in (archive / "ndtv" / "warc").glob("*.warc.gz"):
        warc.write_bytes(warc.read_bytes()[:200])  # truncated
    done = wacz(archive, "ndtv", "-o", str(tmp_path / "out.wacz"))
    assert done.returncode == 1 and "No package written" in done.stderr
    assert "LEFT OUT: " in done.stderr and "ndtv-" in done.stderr
    assert not list(tmp_path.glob("*.wacz")) and not leftovers(tmp_path)


def test_long_texts_share_the_mebibyte_replaywebpage_searches(archive: Path, tmp_path: Path) -> None:
    full = {}
    with sqlite3.connect(archive / "catalog.sqlite") as connection:
        for url, path in connection.execute("SELECT url, article_text_path FROM captures WHERE status = 'extracted'"):
            text_file = archive / path
            long_text = "\n".join([text_file.read_text("utf-8")] * 80)  # made long: the article's text 80 times
            text_file.write_text(long_text, "utf-8")
            full[url] = long_text
    package = tmp_path / "long.wacz"
    done = wacz(archive, "-o", str(package))
    assert done.returncode == 0, done.stderr
    assert "cut to their first" in done.stdout and "finds" not in done.stdout
    with zipfile.ZipFile(package) as packaged:
        assert packaged.getinfo("pages/pages.jsonl").file_size <= 1024 * 1024
    listed = pages(package)[1:]
    texts = [page["text"] for page in listed]
    assert all(texts) and all(full[page["url"]].startswith(page["text"]) for page in listed)
    assert sum(len(text.encode()) for text in texts) > 0.8 * 1024 * 1024  # the mebibyte is used, not wasted
