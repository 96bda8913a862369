"""The reading room (``scrapy serve``) over an archive made by real crawls: every page and its JSON twin, search
with its filters, facets, pages and orders, exports, the Atom feed, run logs, the token, hostile input.

Everything runs for real: the crawls are ``scrapy crawlall`` of the local outlet web, the reading room is
``python -m scrapy serve`` in its own process, requests go over a socket.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import feedparser
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from pipelines.catalog import migrate
from pipelines.catalog.store import read_only_engine
from tests.conftest import REPO, SHARED, free_port, run_crawl
from tests.localweb import FIXTURES, LocalWeb
from tests.reading_room import (
    EDITED,
    EDITED_HEADLINE_PREFIX,
    EDITED_PARAGRAPH,
    HOSTILE,
    HOSTILE_PARAGRAPH,
    IMAGE,
    SCRIPT,
    Answer,
    ReadingRoom,
)
from tests.servers import postgres_server

ALMAYADEEN = ("https://english.almayadeen.net/news/politics/"
              "netanyahu-sending-delegation-to-white-house-for-talks-on-rafah-attack")
ALMAYADEEN_TITLE = "Netanyahu sending delegation to White House for talks on Rafah attack"
REAL_OUTLETS = {"aljazeera", "almayadeen", "axios", "bbc", "guardian", "inkl", "jns", "ndtv", "npr", "timesofisrael"}
ARCHIVED = {"almayadeen", "axios", "inkl", "jns", "ndtv", "bulk"}
PAGES = ["/search", "/search?q=rafah", "/stories", "/stories?min_outlets=1", "/outlets", "/changes", "/runs", "/api"]


def serve_env() -> dict[str, str]:
    return {"NEWSARCHIVE_READER_TOKEN": ""}  # whatever the developer's shell holds


@pytest.fixture(scope="module")
def archive(reading_room_archive: Path) -> Path:
    """almayadeen, axios, inkl, jns, ndtv and the bulk outlet (an edited article, a hostile one), crawled for real; the
    scheduling service started once (its job store: almayadeen and ndtv scheduled, ndtv paused)."""
    root = reading_room_archive
    scrapy = [sys.executable, "-m", "scrapy", "schedule", "-s", f"ARCHIVE_ROOT={root}"]
    service = subprocess.Popen([*scrapy, "-s", "SCHEDULE_OUTLETS=almayadeen,ndtv", "-s", "SCHEDULE_OVERRIDE=every 1h"],
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (root / "schedule.heartbeat").exists():
            assert time.monotonic() < deadline and service.poll() is None, "the scheduling service did not start"
            time.sleep(0.2)
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(30)
    paused = subprocess.run([*scrapy, "--pause", "ndtv"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert paused.returncode == 0, paused.stdout + paused.stderr
    return root


@pytest.fixture(scope="module")
def room(archive: Path) -> Iterator[ReadingRoom]:
    with ReadingRoom(archive, env=serve_env()) as server:
        yield server
    assert "Traceback" not in server.output(), server.output()[-5000:]


def api(room: ReadingRoom, path: str, **params: object) -> dict:
    answer = room.get(path + ("?" + urlencode(params, doseq=True) if params else ""))
    assert answer.status == 200, (path, params, answer.text[:2000])
    assert answer.headers["content-type"].startswith("application/json")
    return answer.json()


def page(room: ReadingRoom, path: str) -> str:
    answer = room.get(path)
    assert answer.status == 200, (path, answer.text[:2000])
    assert answer.headers["content-type"].startswith("text/html")
    return answer.text


def catalog_rows(archive: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(archive / "catalog.sqlite") as connection:
        return connection.execute(sql, args).fetchall()


# -- the server


def test_serve_prints_its_address_binds_loopback_and_every_page_answers(room: ReadingRoom) -> None:
    assert f"Reading room on http://127.0.0.1:{room.port}/" in room.output()
    assert room.get("/", follow=False).status == 307
    for path in PAGES:
        answer = room.get(path)
        assert answer.status == 200, path
        headers = answer.headers
        assert "script-src 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
        assert "<script" not in answer.text.lower(), path  # no script at all, of ours or anyone's
    assert api(room, "/healthz") == {"ok": True, "catalog": "present"}
    # the OpenAPI document describes every JSON twin, and /api renders it (no Swagger UI from a CDN)
    schema = api(room, "/api/openapi.json")
    for path in ("/api/search", "/api/search/export", "/api/article/{ref}", "/api/article", "/api/outlets",
                 "/api/changes", "/api/runs", "/changes.atom", "/runs/{run_id}/log", "/api/stories",
                 "/api/story/{story_id}"):
        assert path in schema["paths"], path
        assert f"<code>GET {path}</code>" in page(room, "/api"), path
    assert room.get("/docs").status == 404 and room.get("/static/reader.css").status == 200


# -- search


def test_search_language_phrases_operators_and_prefixes(room: ReadingRoom) -> None:
    def total(q: str) -> int:
        return api(room, "/api/search", q=q)["total"]

    assert total("house white") == 5 and total('"house white"') == 0 and total('"white house"') == 5
    assert total("rafah") == 5 and total("rafah AND axios") == 4
    assert total("rafah -axios") == total("rafah NOT axios") == total("rafah") - total("rafah axios") == 1
    assert total("netanyahu OR everest") == total("netanyahu") + total("everest") == 6
    assert total("deleg*") >= total("delegation") == 4
    assert total('"talks regarding a potential attack"') == 1
    found = api(room, "/api/search", q='"talks regarding a potential attack"')
    assert [hit["url"] for hit in found["hits"]] == [ALMAYADEEN] and found["words"] == [
        "talks", "regarding", "a", "potential", "attack"]
    # the HTML page shows the same hits, the words highlighted, each title linking to its article page
    html = page(room, "/search?" + urlencode({"q": "rafah"}))
    for hit in api(room, "/api/search", q="rafah")["hits"]:
        assert f'<a href="{hit["href"]}">{hit["title"]}</a>' in html
    assert "<mark>Rafah</mark>" in html and "5</strong> articles match" in html


def test_filters_facets_and_the_chart(room: ReadingRoom) -> None:
    everything = api(room, "/api/search", per_page=100)
    assert everything["total"] == 24 and {hit["outlet"] for hit in everything["hits"]} == ARCHIVED
    facets = {name: {f["value"]: f["count"] for f in values} for name, values in everything["facets"].items()}
    assert facets["outlets"] == {"almayadeen": 4, "axios": 4, "inkl": 3, "jns": 4, "ndtv": 4, "bulk": 5}
    assert facets["authors"]["Barak Ravid"] == 1 and facets["sources"]["AFP"] == 1
    assert sorted(everything["known_outlets"]) == sorted(ARCHIVED)

    def only(**params: object) -> dict:
        return api(room, "/api/search", per_page=100, **params)

    assert {hit["outlet"] for hit in only(outlet="ndtv")["hits"]} == {"ndtv"}
    assert only(outlet=["ndtv", "axios"])["total"] == 8
    assert [hit["outlet"] for hit in only(author="barak ravid")["hits"]] == ["axios"]
    assert [hit["outlet"] for hit in only(source="AFP")["hits"]] == ["ndtv"]
    assert {hit["section"] for hit in only(section="Politics")["hits"]} == {"Politics"}
    assert only(language="en")["total"] == 20 and only(language="fr")["total"] == 0  # JNS states en-US
    march_28 = only(published_from="2024-03-28", published_to="2024-03-28")
    assert march_28["total"] > 0 and all(hit["published"].startswith("2024-03-28") for hit in march_28["hits"])
    assert only(fetched_from="2999-01-01")["total"] == 0 and only(fetched_to="2000-01-01")["total"] == 0
    # every facet links to the search it names
    for facet in everything["facets"]["outlets"] + everything["facets"]["sources"]:
        followed = api(room, "/api" + facet["href"])
        assert followed["total"] == facet["count"], facet
    # the chart: matches per day and outlet, and the share of the outlet's articles that day
    rafah = api(room, "/api/search", q="rafah")
    assert sum(row["count"] for row in rafah["per_day"]) == rafah["total"]
    every = [json.loads(line) for line in exported(room, "jsonl").text.splitlines()]
    for row in rafah["per_day"]:  # all the outlet's articles that day, whether they match or not
        assert row["outlet_total"] == sum(1 for a in every if (a["outlet"], a["day"]) == (row["outlet"], row["day"]))
        assert row["share"] == round(row["count"] / row["outlet_total"], 4) and 0 < row["share"] <= 1
    html = page(room, "/search?q=rafah")
    assert html.count('<svg class="chart"') == 2 and "matching articles per day and outlet" in html


def test_pages_and_orders(room: ReadingRoom) -> None:
    first = api(room, "/api/search", per_page=5)
    assert first["pages"] == 5 and len(first["hits"]) == 5 and first["pagination"]["previous"] is None
    seen: list[str] = []
    for number in range(1, 6):
        seen += [hit["record_id"] for hit in api(room, "/api/search", per_page=5, page=number)["hits"]]
    assert len(seen) == len(set(seen)) == 24
    newest = [hit["day"] for hit in api(room, "/api/search", per_page=100, order="newest")["hits"]]
    oldest = [hit["day"] for hit in api(room, "/api/search", per_page=100, order="oldest")["hits"]]
    assert newest == sorted(newest, reverse=True) and oldest == sorted(oldest) and newest == oldest[::-1]
    # relevance: the headline weighs most
    ranked = api(room, "/api/search", q="delegation", order="relevance")["hits"]
    assert [hit["score"] for hit in ranked] == sorted((hit["score"] for hit in ranked), reverse=True)
    html = page(room, "/search?per_page=5&page=2")
    assert 'rel="prev"' in html and 'rel="next"' in html and '<span aria-current="page">2</span>' in html
    assert room.get("/api/search?per_page=5&page=6").status == 400  # beyond the last page


# -- articles


def test_article_page_text_metadata_provenance_and_pywb_link(room: ReadingRoom, archive: Path) -> None:
    found = room.get("/article?" + urlencode({"outlet": "almayadeen", "url": ALMAYADEEN + "?utm_source=x"}),
                     follow=False)
    assert found.status == 303
    href = found.headers["location"]
    [(record_id, text_path, page_path, warc_file, offset, length, fetched)] = catalog_rows(
        archive, "SELECT record_id, article_text_path, page_text_path, warc_file, warc_offset, warc_length, fetched "
                 "FROM captures WHERE url = ? AND status = 'extracted'", ALMAYADEEN)
    assert href == "/article/" + record_id.strip("<>").removeprefix("urn:uuid:")
    view = api(room, "/api" + href)
    text = (archive / text_path).read_text("utf-8")
    assert view["article_text"] == text and view["page_text"] == (archive / page_path).read_text("utf-8")
    seed = SHARED / "seeds" / "001_b54b54907a20df92.txt"
    if seed.exists():
        assert view["article_text"].encode() == seed.read_bytes()
    assert view["metadata"]["title"] == ALMAYADEEN_TITLE and view["metadata"]["source"] == "Axios"
    assert view["metadata"]["published"] == "2024-03-28T05:38:00+02:00" and view["metadata"]["section"] == "Politics"
    provenance = view["provenance"]
    assert (provenance["warc_file"], provenance["warc_offset"], provenance["warc_length"]) == (
        warc_file, offset, length)
    assert provenance["warc_path"] == f"almayadeen/warc/{warc_file}" and (archive / provenance["warc_path"]).is_file()
    stamp = re.sub(r"\D", "", fetched)[:14]
    assert view["pywb"] == f"http://127.0.0.1:8080/almayadeen/{stamp}/{ALMAYADEEN}"
    assert [v["version"] for v in view["versions"]] == [1] and view["versions"][0]["shown"]
    html = page(room, href)
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;").replace(
        "'", "&#39;")
    assert f'<pre id="article-text">\n{escaped}</pre>' in html
    assert f'id="pywb-link" class="button" href="{view["pywb"]}"' in html and warc_file in html
    assert api(room, "/api/article", outlet="almayadeen", url=ALMAYADEEN)["record_id"] == record_id
    assert api(room, "/api/article", record=record_id)["record_id"] == record_id
    assert page(room, "/article?" + urlencode({"record": record_id})) == html


def test_an_edited_article_has_two_versions_and_the_diff(room: ReadingRoom, archive: Path) -> None:
    rows = catalog_rows(archive, "SELECT record_id, version, status FROM captures WHERE url = ? ORDER BY fetched",
                        EDITED)
    assert [(version, status) for _, version, status in rows] == [(1, "extracted"), (2, "extracted")]
    view = api(room, "/api/article", outlet="bulk", url=EDITED)  # the latest version
    assert view["version"] == view["latest_version"] == 2 and view["metadata"]["title"].startswith(
        EDITED_HEADLINE_PREFIX)
    first, second = view["versions"]
    assert (first["version"], second["version"]) == (1, 2) and first["diff"] is None and second["shown"]
    change = second["diff"]
    assert change["headline"]["changes"][0] == ["+", EDITED_HEADLINE_PREFIX]
    assert change["byline"] == {"old": "Dana Reyes", "new": "", "changes": [["-", "Dana Reyes"]]}
    body = [line for hunk in change["body"] for line in hunk["lines"]]
    assert {"op": "+", "text": EDITED_PARAGRAPH} in body and change["summary"] == "headline, byline, body (+1 lines)"
    html = page(room, second["href"])
    assert "<ins>Updated: </ins>" in html and "<del>Dana Reyes</del>" in html
    assert f"<ins>{EDITED_PARAGRAPH}</ins>" in html
    assert html.count('class="version') >= 2 and "Version 1" in html and "Version 2" in html
    # the first version's own page shows its text, with the later version listed
    older = api(room, "/api" + first["href"])
    assert older["version"] == 1 and not older["article_text"].startswith(EDITED_HEADLINE_PREFIX)


def test_unchanged_revisits_are_listed_as_checks(room: ReadingRoom, archive: Path) -> None:
    url = EDITED.replace("story-2", "story-0")
    [(revisit,)] = catalog_rows(archive, "SELECT record_id FROM captures WHERE url = ? AND status = 'unchanged'", url)
    view = api(room, "/api/article", outlet="bulk", url=url)
    [version] = view["versions"]
    assert [check["record_id"] for check in version["unchanged_checks"]] == [revisit]
    checked = api(room, "/api" + version["unchanged_checks"][0]["href"])
    assert checked["status"] == "unchanged" and checked["shown_record_id"] == version["record_id"]
    assert checked["article_text"] == view["article_text"]
    assert "Checked, unchanged:" in page(room, version["href"])


# -- changes, outlets, runs


def test_changes_page_its_twin_and_the_atom_feed(room: ReadingRoom) -> None:
    changes = api(room, "/api/changes")
    assert changes["total"] == 1
    [change] = changes["changes"]
    assert change["url"] == EDITED and change["version"] == 2 and change["previous"]["version"] == 1
    assert change["diff"]["headline"]["new"].startswith(EDITED_HEADLINE_PREFIX)
    assert api(room, "/api/changes", outlet="bulk")["total"] == 1 and api(room, "/api/changes", outlet="ndtv")[
        "total"] == 0
    html = page(room, "/changes")
    assert f'<a href="{change["href"]}">' in html and "<ins>Updated: </ins>" in html and "/changes.atom" in html
    answer = room.get("/changes.atom")
    assert answer.status == 200 and answer.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(answer.body)
    assert not feed.bozo, feed.bozo_exception
    [entry] = feed.entries
    assert entry.id == change["record_id"].strip("<>") and entry.link == room.base + change["href"]
    assert entry.title.startswith("bulk: Updated:") and "+ " + EDITED_PARAGRAPH in entry.content[0].value
    assert feedparser.parse(room.get("/changes.atom?outlet=ndtv").body).entries == []


def test_outlets_page_schedule_health_and_last_runs(room: ReadingRoom) -> None:
    view = api(room, "/api/outlets")
    rows = {row["outlet"]: row for row in view["outlets"]}
    assert set(rows) >= REAL_OUTLETS | {"bulk"} and view["schedule_error"] is None
    # the job store: almayadeen scheduled, ndtv paused; the others not scheduled yet (their own schedules)
    assert rows["almayadeen"]["state"] == "active" and rows["almayadeen"]["next_run"]
    assert rows["almayadeen"]["schedule"].startswith("every 1h")
    assert rows["ndtv"]["state"] == "paused" and rows["ndtv"]["paused"] and rows["ndtv"]["next_run"] is None
    assert rows["bbc"]["state"] == "not scheduled" and rows["bbc"]["schedule"] == "*/15 * * * *"
    assert rows["bulk"]["degraded"] and "byline 0%" in rows["bulk"]["health"]
    assert not rows["almayadeen"]["degraded"]
    assert len(rows["bulk"]["last_runs"]) == 2 and len(rows["bulk"]["coverage"]) == 2
    assert all(run["log_href"] for run in rows["bulk"]["last_runs"] + rows["axios"]["last_runs"])
    assert rows["bulk"]["figures"]["new_versions"] == 1 and rows["bulk"]["figures"]["articles"] == 5
    html = page(room, "/outlets")
    assert "degraded since" in html and 'aria-label="extraction coverage of bulk per run"' in html
    for name in rows:
        assert f'id="outlet-{name}"' in html
    assert html.count('<span class="badge state-paused">paused</span>') == 1


def test_runs_page_and_the_run_logs(room: ReadingRoom) -> None:
    runs = api(room, "/api/runs")
    assert runs["total"] >= 5 and {run["outlet"] for run in runs["runs"]} >= ARCHIVED
    assert all(run["status"] == "ok" and run["log_href"] for run in runs["runs"] if run["trigger"] == "crawlall")
    bulk = api(room, "/api/runs", outlet="bulk")["runs"]
    assert len(bulk) == 2 and bulk[0]["revisits"] == 4 and bulk[1]["new_articles"] == 5
    html = page(room, "/runs")
    for run in runs["runs"]:
        assert f'<a href="{run["log_href"]}">log</a>' in html
    log = room.get(bulk[0]["log_href"])
    assert log.status == 200 and log.headers["content-type"].startswith("text/plain")
    assert "Spider closed (finished)" in log.text
    assert room.get("/runs/999999/log").status == 404


def test_a_log_path_outside_the_archive_is_never_served(room: ReadingRoom, archive: Path) -> None:
    with sqlite3.connect(archive / "catalog.sqlite") as connection:  # as if the runs table said so
        ids = [connection.execute("INSERT INTO runs (outlet, trigger, started, status, log) VALUES "
                                  "('elsewhere', 'test', '2020-01-01T00:00:00+00:00', 'ok', ?)", (log,)).lastrowid
               for log in ("/etc/passwd", "../../../../../../etc/passwd", str(archive / ".." / room.log.name))]
    assert room.log.is_file()  # a file that exists, beside the archive
    try:
        for run_id in ids:
            assert room.get(f"/runs/{run_id}/log").status == 404
        assert all(run["log_href"] is None for run in api(room, "/api/runs", outlet="elsewhere")["runs"])
    finally:
        with sqlite3.connect(archive / "catalog.sqlite") as connection:
            connection.execute("DELETE FROM runs WHERE outlet = 'elsewhere'")


# -- exports


def exported(room: ReadingRoom, fmt: str, **params: object) -> Answer:
    answer = room.get("/api/search/export?" + urlencode({"format": fmt, **params}, doseq=True))
    assert answer.status == 200, answer.text[:2000]
    disposition = answer.headers["content-disposition"]
    assert re.fullmatch(rf'attachment; filename="newsarchive-search-\d{{8}}T\d{{6}}Z\.{fmt}"', disposition)
    return answer


@pytest.mark.parametrize("params", [{}, {"q": "rafah"}, {"q": "white house", "outlet": ["axios", "ndtv"]}])
def test_exports_hold_every_match_in_each_format(room: ReadingRoom, params: dict) -> None:
    search = api(room, "/api/search", per_page=100, **params)
    expected = {hit["record_id"] for hit in search["hits"]}
    assert len(expected) == search["total"] > 0
    lines = [json.loads(line) for line in exported(room, "jsonl", **params).text.splitlines()]
    table = list(csv.DictReader(io.StringIO(exported(room, "csv", **params).text, newline="")))
    parquet = pq.read_table(io.BytesIO(exported(room, "parquet", **params).body)).to_pylist()
    for rows in (lines, table, parquet):
        assert len(rows) == search["total"] and {row["record_id"] for row in rows} == expected
        assert all(row["body"] and row["title"] for row in rows)
    by_id = {row["record_id"]: row for row in parquet}
    for hit in search["hits"]:
        assert by_id[hit["record_id"]]["authors"] == hit["authors"] and by_id[hit["record_id"]]["url"] == hit["url"]
    order = [row["record_id"] for row in lines]
    assert order == [row["record_id"] for row in table] == [row["record_id"] for row in parquet]


def test_an_export_streams_with_flat_memory(tmp_path: Path) -> None:
    """An export of 45,000 articles of 3 kB (135 MB of text) as JSONL and Parquet: once the server has exported
    5,000 of them, exporting all nine times as many adds next to nothing to its peak memory (it streams)."""
    archive = tmp_path / "archive"
    archive.mkdir()
    engine = sa.create_engine(f"sqlite:///{archive / 'catalog.sqlite'}")
    migrate(engine)
    filler = ("lorem ipsum dolor sit amet consectetur " * 80)[:3000]
    with engine.begin() as connection:  # no text search in this test: the index's triggers would only cost time
        for trigger in ("articles_fts_insert", "articles_fts_delete", "articles_fts_update"):
            connection.exec_driver_sql(f"DROP TRIGGER {trigger}")
        connection.execute(sa.text(
            "INSERT INTO articles (outlet, url_key, record_id, version, url, title, body, day) VALUES "
            "(:outlet, :key, :record, 1, :url, :title, :body, :day)"),
            [{"outlet": "small" if n < 5000 else "bulk", "key": f"k{n}",
              "record": f"<urn:uuid:{n:08d}-0000-4000-8000-000000000000>", "url": f"https://www.bulk.test/news/{n}",
              "title": f"Story {n}", "body": f"{n} {filler}", "day": f"2024-01-{n % 28 + 1:02d}"}
             for n in range(45_000)])
    engine.dispose()

    def export(server: ReadingRoom, fmt: str, **params: str) -> int:
        """Rows received, reading the answer as it comes."""
        query = urlencode({"format": fmt, **params})
        with urllib.request.urlopen(f"{server.base}/api/search/export?{query}", timeout=300) as answer:
            if fmt == "jsonl":
                return sum(1 for _ in answer)
            return pq.read_metadata(io.BytesIO(answer.read())).num_rows

    with ReadingRoom(archive, env=serve_env()) as server:
        def peak() -> float:
            status = Path(f"/proc/{server.process.pid}/status").read_text()
            return int(re.search(r"VmHWM:\s+(\d+) kB", status)[1]) / 1024

        assert export(server, "jsonl", outlet="small") == export(server, "parquet", outlet="small") == 5000
        before = peak()
        assert export(server, "jsonl") == export(server, "parquet") == 45_000
        grown = peak() - before
    assert grown < 20, f"exporting 45,000 articles after 5,000 raised the server's peak memory by {grown:.0f} MB"


# -- the token, the Host check, an empty archive, a port in use


def test_bound_beyond_loopback_it_needs_a_token_on_every_request(archive: Path) -> None:
    refused = subprocess.run([sys.executable, "-m", "scrapy", "serve", "--host", "0.0.0.0", "--port", str(free_port()),
                              "-s", f"ARCHIVE_ROOT={archive}"], cwd=REPO, capture_output=True, text=True, timeout=60,
                             env={**os.environ, **serve_env()})
    assert refused.returncode != 0 and "not a loopback address: set a token" in refused.stdout + refused.stderr
    token = "s3cret-reading-room-token"
    pywb = {"READER_PYWB_URL": "http://pywb.example:9090/"}
    with ReadingRoom(archive, host="0.0.0.0", env={"NEWSARCHIVE_READER_TOKEN": token}, settings=pywb) as server:
        assert f"Reading room on http://0.0.0.0:{server.port}/" in server.output()
        for path in ("/search", "/api/search", "/healthz", "/static/reader.css", "/api/openapi.json", "/changes.atom"):
            missing = server.get(path)
            assert missing.status == 401 and "needs its token" in missing.text, path
            assert server.get(path, {"Authorization": "Bearer wrong"}).status == 403, path
            assert server.get(path, {"Authorization": f"Bearer {token}"}).status == 200, path
        assert server.get("/api/search", {"Authorization": "Basic " + token}).status == 403
        assert server.get("/search", {"Cookie": "reader_token=forged"}).status == 403
        opened = server.get(f"/search?q=rafah&token={token}", follow=False)
        assert opened.status == 303 and opened.headers["location"] == "/search?q=rafah"
        cookie = opened.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and token not in cookie
        assert server.get("/search?q=rafah", {"Cookie": cookie.split(";")[0]}).status == 200
        assert server.get(f"/search?token=wrong{token}").status == 403
        # the compose health check: `scrapy serve --health` with the token, and without it
        health = [sys.executable, "-m", "scrapy", "serve", "--health", "--host", "0.0.0.0", "--port", str(server.port)]
        ok = subprocess.run(health, cwd=REPO, capture_output=True, text=True, timeout=60,
                            env={**server.env, "NEWSARCHIVE_READER_TOKEN": token})
        assert ok.returncode == 0 and ok.stdout.startswith("healthy"), ok.stdout + ok.stderr
        bad = subprocess.run(health, cwd=REPO, capture_output=True, text=True, timeout=60, env=server.env | serve_env())
        assert bad.returncode == 1 and "401" in bad.stdout
        # the pywb links follow READER_PYWB_URL
        view = server.get("/api/article?" + urlencode({"outlet": "almayadeen", "url": ALMAYADEEN}),
                          {"Authorization": f"Bearer {token}"}).json()
        assert view["pywb"].startswith("http://pywb.example:9090/almayadeen/") and view["pywb"].endswith(ALMAYADEEN)
    assert token not in server.output()  # the access log hides ?token=


def test_a_loopback_server_answers_only_to_loopback_names(room: ReadingRoom) -> None:
    for host in ("127.0.0.1", "localhost", f"127.0.0.1:{room.port}", f"localhost:{room.port}"):
        assert room.get("/healthz", {"Host": host}).status == 200, host
    for host in ("evil.example", f"rebind.attacker.test:{room.port}", "127.0.0.1.evil.example"):
        answer = room.get("/healthz", {"Host": host})
        assert answer.status == 400 and "answers only to the addresses of this machine" in answer.text, host


def test_an_empty_archive_says_so(tmp_path: Path) -> None:
    with ReadingRoom(tmp_path / "nothing-yet", env=serve_env()) as server:
        assert "no catalog yet" in server.output()
        empty = server.get("/search")
        assert empty.status == 503 and "The archive is empty" in empty.text and "Traceback" not in empty.text
        assert server.get("/api/search").json()["empty"] is True
        assert server.get("/outlets").status == 200 and server.get("/healthz").json()["catalog"] == "missing"
    assert not (tmp_path / "nothing-yet" / "catalog.sqlite").exists()  # the reading room never makes one


def test_a_port_in_use_is_said_plainly(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "scrapy", "serve", "--port", str(port), "-s",
                               f"ARCHIVE_ROOT={tmp_path}"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


# -- hostile input


HOSTILE_QUERIES = ['"white house', "AND", "OR", "NOT", "rafah AND", "OR rafah", "NOT rafah", "*", "(rafah", "rafah)",
                   "'; DROP TABLE captures; --", "' OR 1=1 --", '""', "-", "a" * 600, "rafah\x00", "NOT NOT rafah"]
HOSTILE_PARAMS = [
    {"outlet": "no-such-outlet"}, {"outlet": "'; DROP TABLE captures; --"}, {"page": "-1"}, {"page": "0"},
    {"page": str(10**9)}, {"page": "abc"}, {"page": "1e3"}, {"page": str(10**40)}, {"per_page": "0"},
    {"per_page": "101"}, {"per_page": "-5"}, {"published_from": "2024-13-45"}, {"published_from": "yesterday"},
    {"published_to": "2024-02-30"}, {"fetched_from": "2024-03-01", "fetched_to": "2024-02-01"},
    {"order": "random"}, {"order": "day; DROP TABLE articles"}, {"author": "x\x00y"}, {"source": "s" * 300},
]


def assert_refused(answer: Answer, where: object) -> None:
    assert 400 <= answer.status < 500, (where, answer.status, answer.text[:500])
    assert "Traceback" not in answer.text and 'File "' not in answer.text, where
    if answer.headers.get("content-type", "").startswith("application/json"):
        assert answer.json()["error"], where
    else:
        assert re.search(r'<p( class="message")?>[^<]{10,}', answer.text), (where, answer.text[:500])


def test_hostile_input_gets_a_4xx_with_a_message_on_every_endpoint(room: ReadingRoom, archive: Path) -> None:
    captures = catalog_rows(archive, "SELECT count(*) FROM captures")
    searches = ["/search", "/api/search", "/api/search/export"]
    for path in searches:
        for q in HOSTILE_QUERIES:
            assert_refused(room.get(f"{path}?{urlencode({'q': q})}"), (path, q))
        for params in HOSTILE_PARAMS:
            assert_refused(room.get(f"{path}?{urlencode(params)}"), (path, params))
    assert_refused(room.get("/api/search/export?format=exe"), "format")
    for path in ("/changes", "/api/changes", "/runs", "/api/runs", "/changes.atom"):
        for params in ({"outlet": "no-such-outlet"}, {"page": "0"}, {"page": "-1"}, {"page": str(10**9)},
                       {"page": "x"}, {"outlet": "a\x00"}):
            if path == "/changes.atom" and "page" in params:
                continue
            assert_refused(room.get(f"{path}?{urlencode(params)}"), (path, params))
    traversal = ["/article/../../etc/passwd", "/article/..%2F..%2Fetc%2Fpasswd", "/api/article/..%2F..%2Fetc%2Fpasswd",
                 "/article/not-a-uuid", "/api/article/00000000-0000-4000-8000-000000000000",
                 "/article?record=../../etc/passwd", "/api/article?record=%3Curn%3Auuid%3Ax%3E",
                 "/article?" + urlencode({"outlet": "bulk", "url": "file:///etc/passwd"}),
                 "/article?" + urlencode({"outlet": "../../etc", "url": "https://x"}), "/article", "/api/article",
                 "/static/../../etc/passwd", "/static/..%2F..%2Fetc%2Fpasswd", "/static/%2Fetc%2Fpasswd",
                 "/runs/../../etc/passwd/log", "/runs/-1/log", "/runs/0/log", "/runs/abc/log",
                 f"/runs/{10**30}/log", "/no/such/page", "/api/no-such-endpoint", "/%00", "/search%00"]
    for path in traversal:
        answer = room.get(path)
        assert_refused(answer, path)
        assert "root:x:0:0" not in answer.text, path
    for method in ("POST", "PUT", "DELETE"):
        request = urllib.request.Request(room.base + "/search", data=b"q=x", method=method)
        try:
            urllib.request.urlopen(request, timeout=30)
            raise AssertionError(f"{method} was answered")
        except urllib.error.HTTPError as error:
            assert error.code == 405, method
    assert catalog_rows(archive, "SELECT count(*) FROM captures") == captures  # nothing was dropped
    assert "Traceback" not in room.output()


def test_archived_markup_is_shown_as_inert_text(room: ReadingRoom) -> None:
    view = api(room, "/api/article", outlet="bulk", url=HOSTILE)
    assert SCRIPT in view["metadata"]["title"] and HOSTILE_PARAGRAPH in view["article_text"]
    pages = [page(room, view["versions"][0]["href"]),
             page(room, "/search?" + urlencode({"q": "thursday planned"})),
             page(room, "/search?" + urlencode({"q": "", "per_page": 100})),
             page(room, "/search?" + urlencode({"q": "alert"}))]
    for html in pages:
        for raw in (SCRIPT, IMAGE, "<script", "<img"):
            assert raw not in html.lower()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[0]
    # the snippet highlights the query's words and nothing the article's text brackets itself
    assert "<mark>alert</mark>" in pages[3] and "<mark>planned</mark>" in pages[1]


# -- stories


def seed_story(room: ReadingRoom) -> dict:
    found = [story for story in api(room, "/api/stories")["stories"]
             if any(member["url"] == ALMAYADEEN for member in story["members"])]
    assert len(found) == 1, found
    return found[0]


def test_stories_page_and_one_story_with_its_graph_and_timeline(room: ReadingRoom) -> None:
    seed = seed_story(room)
    assert seed["outlet_names"] == ["almayadeen", "axios", "inkl", "jns", "ndtv"]
    origins = {member["outlet"]: (member["origin"], member["credited"]) for member in seed["members"]}
    assert origins == {"axios": ("", False), "inkl": ("axios", True), "jns": ("", False), "ndtv": ("AFP", True),
                       "almayadeen": ("axios", True)}
    listing = page(room, "/stories")
    assert f'<a href="/story/{seed["id"]}">{seed["title"]}</a>' in listing
    assert "almayadeen, axios, inkl, jns, ndtv" in listing
    assert api(room, "/api/stories", outlet="jns")["stories"][0]["id"] == seed["id"]
    assert api(room, "/api/stories", since="2030-01-01")["stories"] == []
    # one story: the graph with the agency as a node, credited edges solid, the timeline, the members
    view = api(room, f"/api/story/{seed['id']}")
    nodes = {node["name"]: node for node in view["graph"]["nodes"]}
    assert set(nodes) == {"almayadeen", "axios", "inkl", "jns", "ndtv", "AFP"}
    assert nodes["AFP"]["kind"] == "agency" and nodes["axios"]["origin"] and not nodes["jns"]["origin"]
    assert {(e["from"], e["to"], e["credited"]) for e in view["graph"]["edges"]} == {
        ("inkl", "axios", True), ("almayadeen", "axios", True), ("ndtv", "AFP", True)}
    assert [row["outlet"] for row in view["timeline"]] == ["axios", "inkl", "jns", "ndtv", "almayadeen"]
    html = page(room, f"/story/{seed['id']}")
    assert '<svg class="chart story-graph"' in html and '<svg class="chart story-timeline"' in html
    assert '<g class="edge credited" data-from="almayadeen" data-to="axios">' in html
    assert '<g class="node agency origin" data-name="AFP">' in html and "agency, not archived" in html
    graph = html.split('<svg class="chart story-graph"', 1)[1].split("</svg>", 1)[0]
    assert "stroke-dasharray" not in graph.split('<g class="node')[0]  # every edge here is credited: solid
    assert "credited</span>" in html and "uncredited</span>" in html  # the legend: solid and dashed
    for member in view["members"]:
        assert f'href="{member["href"]}"' in html
    assert "<script" not in html.lower()
    # an article of the story links to it
    article = page(room, "/article?" + urlencode({"outlet": "almayadeen", "url": ALMAYADEEN}))
    assert f'<a href="/story/{seed["id"]}">In story {seed["id"]}: 5 outlets</a>' in article


def test_an_uncredited_republication_is_drawn_dashed() -> None:
    from reader.charts import syndication_graph

    nodes = [{"name": "axios", "kind": "outlet", "articles": 1, "origin": True},
             {"name": "inkl", "kind": "outlet", "articles": 1, "origin": False},
             {"name": "Reuters", "kind": "agency", "articles": 0, "origin": True}]
    edges = [{"from": "inkl", "to": "axios", "credited": False, "articles": 1},
             {"from": "axios", "to": "Reuters", "credited": True, "articles": 2}]
    svg = str(syndication_graph(nodes, edges, 7))
    uncredited = svg.split('<g class="edge uncredited" data-from="inkl" data-to="axios">', 1)[1].split("</g>")[0]
    credited = svg.split('<g class="edge credited" data-from="axios" data-to="Reuters">', 1)[1].split("</g>")[0]
    assert 'stroke-dasharray="6 4"' in uncredited and "stroke-dasharray" not in credited
    assert "credited ×2" in credited and '<g class="node agency origin" data-name="Reuters">' in svg


def test_bad_story_requests_get_a_4xx_with_a_message(room: ReadingRoom) -> None:
    for path in ("/story/999999", "/api/story/999999"):
        answer = room.get(path)
        assert answer.status == 404 and "no story 999999 in the catalog" in answer.text, path
    for path in ("/story/abc", "/api/story/abc", "/story/0", "/story/-1", f"/story/{10**30}", "/story/1%00",
                 "/stories?since=yesterday", "/api/stories?since=2024-02-30", "/stories?outlet=no-such-outlet",
                 "/api/stories?outlet=a%00", "/stories?min_outlets=0", "/stories?limit=0", "/api/stories?limit=x",
                 "/api/stories?limit=100000"):
        assert_refused(room.get(path), path)


def test_a_hostile_headline_is_inert_on_the_story_pages(room: ReadingRoom) -> None:
    found = [story for story in api(room, "/api/stories", outlet="bulk", min_outlets=1, limit=500)["stories"]
             if any(member["url"] == HOSTILE for member in story["members"])]
    assert len(found) == 1  # the bulk outlet's generated articles share their words: one story
    assert any(SCRIPT in member["title"] for member in found[0]["members"])
    story_page = page(room, f"/story/{found[0]['id']}")
    for html in (story_page, page(room, "/stories?outlet=bulk&min_outlets=1")):
        for raw in (SCRIPT, IMAGE, "<script", "<img"):
            assert raw not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in story_page  # the members table and the timeline's tips


# -- PostgreSQL


def test_the_reading_room_over_a_postgresql_catalog(tmp_path: Path) -> None:
    with postgres_server() as database:
        archive = tmp_path / "archive"
        with LocalWeb(FIXTURES) as web:
            crawl = run_crawl("almayadeen", archive, web, {"DATABASE_URL": database})
        assert crawl.returncode == 0, crawl.log[-3000:]
        # the reading room's engine refuses writes on the database itself
        engine = read_only_engine(database)
        with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"), engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM captures"))
        engine.dispose()
        with ReadingRoom(archive, settings={"DATABASE_URL": database}, env=serve_env()) as server:
            found = server.get("/api/search?" + urlencode({"q": '"talks regarding a potential attack"'})).json()
            assert [hit["url"] for hit in found["hits"]] == [ALMAYADEEN]
            everything = server.get("/api/search?per_page=100").json()
            assert everything["total"] == 4 and everything["facets"]["outlets"][0]["value"] == "almayadeen"
            assert server.get("/api/search?q=%22white+house").status == 400
            view = server.get("/api" + found["hits"][0]["href"]).json()
            [item] = [item for item in crawl.items if item["url"] == ALMAYADEEN]
            assert view["article_text"] == (archive / item["files"]["article_text"]).read_text("utf-8")
            lines = server.get("/api/search/export?format=jsonl").text.splitlines()
            assert len(lines) == 4
            assert server.get("/search?q=rafah").status == 200 and server.get("/outlets").status == 200
            assert server.get("/api/search?author=x%00y").status == 400  # a NUL never reaches PostgreSQL
            server_log = server.output()
        assert "Traceback" not in server_log


def test_the_sqlite_engine_refuses_writes(archive: Path) -> None:
    engine = read_only_engine(str(archive / "catalog.sqlite"))
    with pytest.raises(sa.exc.OperationalError, match="readonly|read-only|query_only"), engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM captures"))
    engine.dispose()
    assert catalog_rows(archive, "SELECT count(*) FROM captures")[0][0] > 0


def test_a_catalog_made_before_the_search_index_says_how_to_build_it(tmp_path: Path) -> None:
    """An archive catalogued before the index existed: the search page says so and how to build it; replaying
    the archive builds it."""
    archive = tmp_path / "archive"
    with LocalWeb(FIXTURES) as web:
        assert run_crawl("almayadeen", archive, web).returncode == 0
    with sqlite3.connect(archive / "catalog.sqlite") as db:  # as a catalog made before migration 0005 holds it
        db.execute("DELETE FROM articles")
    with ReadingRoom(archive, env=serve_env()) as server:
        before = server.get("/api/search?q=rafah").json()
        page = server.get("/search?q=rafah").text
    assert before["total"] == 0 and "search index is empty" in before["notice"]
    assert f"scrapy replay {archive.resolve()} -o {archive.resolve()}" in before["notice"] and 'class="notice"' in page
    rebuilt = subprocess.run([sys.executable, "-m", "scrapy", "replay", str(archive), "-o", str(archive)], cwd=REPO,
                             capture_output=True, text=True, timeout=120)
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
    with ReadingRoom(archive, env=serve_env()) as server:
        after = server.get("/api/search?q=rafah").json()
    assert after["total"] >= 1 and after["notice"] == ""
