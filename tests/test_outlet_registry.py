"""One test over the whole outlet registry: every outlet, with no test code of its own.

Each outlet must have fixtures (``fixtures/<name>/``, or in another
``OUTLET_FIXTURES`` folder; site files or a captured WARC) covering every
discovery URL it declares, and a crawl of the local outlet web must archive
exactly the article pages its ``expected.json`` lists, in valid WARC files.
Site files come with a WARC recorded from them (``make fixtures``), which
``scrapy checkoutlet`` replays: it must still be what the files serve.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings

from crawler.discovery import SITEMAP_INDEX, UNREADABLE, read_document
from crawler.fixtures import fixture_dir as find_fixture_dir
from crawler.fixtures import fixture_roots, fixture_warcs, read_expected
from crawler.outlet import OutletSpider
from crawler.schedule.triggers import schedule_trigger
from pipelines.payload import decode_payload
from tests.conftest import run_crawl
from tests.localweb import FIXTURES, LocalWeb
from tests.localweb.record import recorded_responses, required_urls, site_files
from tests.warc_reading import read_records, warcio_check

SETTINGS = get_project_settings()
LOADER = SpiderLoader.from_settings(SETTINGS)
OUTLETS = sorted(LOADER.list())


def outlet_class(name: str) -> type[OutletSpider]:
    return LOADER.load(name)


def test_registry_lists_outlets_but_not_the_base() -> None:
    assert len(OUTLETS) >= 8
    assert all(issubclass(outlet_class(name), OutletSpider) for name in OUTLETS)
    assert not hasattr(OutletSpider, "name") or not OutletSpider.name


def fixture_dir(name: str) -> Path:
    folder = find_fixture_dir(SETTINGS, name)
    if folder is None:
        folder = FIXTURES / name
        pytest.fail(
            f"outlet {name!r} has no fixtures: add {folder}/web/<host>/... and {folder}/expected.json, then "
            f"`make fixtures` (or capture a WARC with `scrapy capture {name}`; see {FIXTURES}/README.md)"
        )
    return folder


@pytest.mark.parametrize("name", OUTLETS)
def test_outlet_is_declared_consistently(name: str) -> None:
    spider = outlet_class(name)
    assert Path(inspect.getfile(spider)).name == f"{name}.py", "an outlet's file is named after the outlet"
    assert re.fullmatch(r"[a-z][a-z0-9_]*", name)
    assert spider.allowed_domains, "allowed_domains is required"
    assert spider.article_pattern, "article_pattern is required"
    re.compile(spider.article_pattern)
    assert spider.feeds or spider.sitemaps or spider.front_pages, "declare at least one way to discover articles"
    schedule_trigger(spider.schedule)  # raises on a malformed schedule
    for url in spider.feeds + spider.sitemaps + spider.front_pages:
        host = urlsplit(url).hostname or ""
        assert any(host == d or host.endswith("." + d) for d in spider.allowed_domains), (
            f"{url} is outside allowed_domains {spider.allowed_domains}"
        )


@pytest.mark.parametrize("name", OUTLETS)
def test_fixtures_cover_every_discovery_url(name: str) -> None:
    folder = fixture_dir(name)
    spider = outlet_class(name)
    web = LocalWeb(fixture_roots(SETTINGS))
    for url in spider.feeds + spider.sitemaps + spider.front_pages:
        body = web.body(url)
        assert body is not None, f"{url} has no fixture file under {folder}/web nor capture in its WARC"
        if url in spider.front_pages:
            continue
        document = read_document(body, url)
        assert document.kind != UNREADABLE, f"{url}: {document.error}"
        assert document.links, f"{url} lists no links"
        if document.kind != SITEMAP_INDEX:
            assert any(spider(name=name).is_article(link.url) for link in document.links), (
                f"{url} links to no article matching the outlet's article_pattern"
            )


@pytest.mark.parametrize("name", OUTLETS)
def test_crawl_archives_expected_articles(name: str, local_web: LocalWeb, tmp_path: Path) -> None:
    expected = read_expected(fixture_dir(name))
    crawl = run_crawl(name, tmp_path, local_web)
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert "Traceback" not in crawl.log, crawl.log[-3000:]

    archived = sorted(item["url"] for item in crawl.items)
    assert archived == sorted(expected["articles"])
    assert not set(archived) & set(expected.get("not_articles", []))
    assert all(item["warc"]["record_id"] for item in crawl.items)

    warcs = crawl.warcs(name)
    assert warcs and not list((tmp_path / name / "warc").glob("*.open"))
    responses: Counter[str] = Counter()
    for path in warcs:
        checked = warcio_check(path)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        records = read_records(path)
        assert records[0].type == "warcinfo"
        by_id = {r.id: r for r in records}
        for record in records:
            if record.type == "response":
                responses[record.uri] += 1
            if record.type in {"request", "metadata"}:
                assert by_id[record.headers["WARC-Concurrent-To"]].type == "response"
        assert Counter(r.type for r in records)["request"] == Counter(r.type for r in records)["response"]
    declared = outlet_class(name)
    for url in declared.feeds + declared.sitemaps + declared.front_pages + tuple(expected["articles"]):
        assert responses[url] >= 1, f"{url} was not archived"


@pytest.fixture(scope="module")
def site_files_web() -> Iterator[LocalWeb]:
    """The outlets' site files alone, served (not the WARCs recorded from them)."""
    with LocalWeb(fixture_roots(SETTINGS), warcs=False) as web:
        yield web


@pytest.mark.parametrize("name", OUTLETS)
def test_recorded_warc_is_what_the_site_files_serve(name: str, site_files_web: LocalWeb) -> None:
    """The WARC recorded from an outlet's site files (what ``scrapy checkoutlet`` replays) has not gone stale.

    Each of its responses must be what the site files serve for that URL now (same status, same decoded body),
    and it must hold every expected article and every declared feed, sitemap and front page. Fixtures that are a
    captured WARC alone (no ``web/``) have nothing to be recorded from.
    """
    folder = fixture_dir(name)
    if not site_files(folder):
        return
    rerun = f"run `make fixtures` (python -m tests.localweb.record {name}) and commit the WARC"
    warcs = fixture_warcs(folder)
    assert warcs, f"{folder} has site files but no WARC recorded from them: {rerun}"
    try:
        responses = recorded_responses(warcs)
    except ValueError as error:
        pytest.fail(f"the recorded WARC of {name} cannot be read back ({error}): {rerun}")
    held = {url for url, _, _ in responses}
    missing = [url for url in required_urls(outlet_class(name), read_expected(folder)) if url not in held]
    assert not missing, f"the recorded WARC of {name} lacks {missing}: {rerun}"
    stale = []
    for url, status, body in responses:  # in recording order: a "sequence" quirk answers in turn
        now_status, headers, payload = site_files_web.fetch(url)
        now_body = decode_payload(payload, headers)
        if (now_status, now_body) != (status, body):
            stale.append(f"{url}: recorded {status}, {len(body)} bytes; the files serve {now_status}, "
                         f"{len(now_body)} bytes" + (", another body" if len(body) == len(now_body) else ""))
    assert not stale, f"the recorded WARC of {name} is stale: {rerun}\n  " + "\n  ".join(stale)
