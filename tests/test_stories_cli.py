"""``scrapy stories``: the seed story through a real crawl of the local outlet web, as the command shows it.

The archive is the reading room's (tests/reading_room.py, one session fixture): ``scrapy crawlall`` of Axios,
inkl, Al Mayadeen, NDTV and JNS (and the generated bulk outlet) into one SQLite catalog. Every command runs as a
real ``python -m scrapy stories`` process.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import REPO

SEED = {  # the seed story: each outlet's capture of it, and who it is republished from (credited)
    "axios": "https://www.axios.com/2024/03/27/netanyahu-rafah-delegation-white-house-reversal",
    "inkl": "https://www.inkl.com/news/in-reversal-netanyahu-sending-delegation-to-white-house-for-rafah-talks",
    "almayadeen": "https://english.almayadeen.net/news/politics/"
                  "netanyahu-sending-delegation-to-white-house-for-talks-on-rafah-attack",
    "ndtv": "https://www.ndtv.com/world-news/israel-asks-us-to-reschedule-scrapped-meeting-on-rafah-offensive-plans"
            "-5326000",
    "jns": "https://www.jns.org/days-after-canceled-israeli-delegation-to-dc-parties-to-reschedule-rafah-talks/",
}
MEMBER_KEYS = {"outlet", "url", "record_id", "published", "origin", "credited", "copy_group"}


def stories(archive: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "scrapy", "stories", *args, "-s", f"ARCHIVE_ROOT={archive}"],
                          cwd=REPO, capture_output=True, text=True, timeout=120, env=env)


def ok(archive: Path, *args: str) -> str:
    done = stories(archive, *args)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def listed(reading_room_archive: Path) -> list[dict]:
    return json.loads(ok(reading_room_archive, "--json"))


@pytest.fixture(scope="module")
def seed(listed: list[dict]) -> dict:
    holding = [story for story in listed if any(m["url"] == SEED["almayadeen"] for m in story["members"])]
    assert len(holding) == 1, json.dumps(listed, indent=1)[:5000]
    return holding[0]


def test_the_seed_story_holds_every_outlets_capture_with_its_credited_origin(
        reading_room_archive: Path, listed: list[dict], seed: dict) -> None:
    # one story holds the seed captures of all five outlets, and no other story holds any of them
    by_url = {m["url"]: m for m in seed["members"]}
    assert set(SEED.values()) <= set(by_url), sorted(by_url)
    for story in listed:
        if story["id"] != seed["id"]:
            assert not {m["url"] for m in story["members"]} & set(SEED.values()), story
    for member in seed["members"]:
        assert MEMBER_KEYS <= set(member), member
    # each member is the capture the catalog holds of that article
    with sqlite3.connect(reading_room_archive / "catalog.sqlite") as connection:
        for outlet, url in SEED.items():
            member = by_url[url]
            assert member["outlet"] == outlet
            found = connection.execute("SELECT outlet, url FROM captures WHERE record_id = ?",
                                       (member["record_id"],)).fetchone()
            assert found == (outlet, url), (outlet, member["record_id"], found)
    origin = {outlet: (by_url[url]["origin"], by_url[url]["credited"]) for outlet, url in SEED.items()}
    assert origin["almayadeen"] == ("axios", True)  # Al Mayadeen's rewrite credits Axios
    assert origin["inkl"] == ("axios", True)  # inkl's copy of Axios
    assert origin["ndtv"] == ("AFP", True)  # NDTV's AFP wire story
    assert origin["axios"] == ("", False) and origin["jns"] == ("", False)  # write-ups of their own
    assert by_url[SEED["almayadeen"]]["copy_group"] == by_url[SEED["inkl"]]["copy_group"] \
        == by_url[SEED["axios"]]["copy_group"] is not None
    assert seed["outlet_names"] == sorted(SEED) and seed["articles"] == 5 and seed["outlets"] == 5
    assert seed["first_seen"]["outlet"] == "axios"  # 15:06 UTC, before inkl (15:21)
    # members in publication order, UTC (NDTV states +05:30, Al Mayadeen +02:00)
    assert [m["outlet"] for m in seed["members"]] == ["axios", "inkl", "jns", "ndtv", "almayadeen"]


def test_the_list_as_a_table(reading_room_archive: Path, seed: dict) -> None:
    out = ok(reading_room_archive)
    assert "story" in out and "outlets" in out and "copies" in out and "headline" in out
    row = next(line for line in out.splitlines() if line.split()[:1] == [str(seed["id"])])
    assert seed["title"] in row and "2024-03-27..2024-03-28" in row
    assert "almayadeen, axios, inkl, jns, ndtv" in out
    # narrowed: by outlet, by day, by count
    only_jns = json.loads(ok(reading_room_archive, "--json", "--outlet", "jns"))
    assert [story["id"] for story in only_jns] == [seed["id"]]
    assert json.loads(ok(reading_room_archive, "--json", "--since", "2030-01-01")) == []
    assert len(json.loads(ok(reading_room_archive, "--json", "--limit", "1"))) == 1


def test_one_story_members_groups_graph_and_timeline(reading_room_archive: Path, seed: dict) -> None:
    out = ok(reading_room_archive, str(seed["id"]))
    assert out.startswith(f"Story {seed['id']}: {seed['title']}")
    for url in SEED.values():
        assert url in out
    assert "almayadeen ← republished from axios (credited)" in out
    assert "inkl ← republished from axios (credited)" in out
    assert "ndtv ← republished from AFP (credited; agency, not archived)" in out
    assert "jns (its own write-up)" in out
    assert "origin axios (the outlet its members credit)" in out  # the copy group
    timeline = out.split("Timeline", 1)[1]
    assert "2024-03-27" in timeline and "2024-03-28" in timeline and "first" in timeline
    assert timeline.index("axios") < timeline.index("inkl") < timeline.index("ndtv") < timeline.index("almayadeen")
    shown = json.loads(ok(reading_room_archive, str(seed["id"]), "--json"))
    assert shown["id"] == seed["id"] and len(shown["members"]) == 5 and len(shown["timeline"]) == 5
    edges = {(e["origin"], e["credited"], e["to"] is None) for e in shown["edges"]}
    assert edges == {("axios", True, False), ("AFP", True, True)}


def test_bad_ids_and_options_are_said_plainly(reading_room_archive: Path, tmp_path: Path) -> None:
    missing = stories(reading_room_archive, "999999")
    assert missing.returncode == 1 and "no story 999999 in the catalog" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad = ((["abc"], "a story id is a whole number"), (["1", "2"], "name one story at most"),
           (["--since", "yesterday"], "--since takes a day"), (["--limit", "0"], "--limit must be"),
           (["--outlet", "nowhere"], "unknown outlet 'nowhere'"),
           (["1", "--outlet", "jns"], "narrow the list of stories"))
    with ThreadPoolExecutor(4) as pool:  # each a process of its own, run side by side
        runs = list(pool.map(lambda args: stories(reading_room_archive, *args), [args for args, _ in bad]))
    for (args, said), done in zip(bad, runs, strict=True):
        assert done.returncode == 2 and said in done.stderr, (args, done.stderr[-2000:])
        assert "Traceback" not in done.stderr
    empty = stories(tmp_path / "nothing", "--json")
    assert empty.returncode == 0 and json.loads(empty.stdout) == [] and "The archive is empty" in empty.stderr
    assert not (tmp_path / "nothing" / "catalog.sqlite").exists()
