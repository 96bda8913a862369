"""One test over the whole outlet registry: every outlet, with no test code of its own.

Each outlet must have fixtures (``tests/fixtures/outlets/<name>/``, or in another
``OUTLET_FIXTURES`` folder; files or a WARC) covering every discovery URL it
declares, and a crawl of the local outlet web must archive exactly the article
pages its ``expected.json`` lists, in valid WARC files.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings

from crawler.discovery import SITEMAP_INDEX, UNREADABLE, read_document
from crawler.fixtures import fixture_dir as find_fixture_dir
from crawler.fixtures import fixture_roots, read_expected
from crawler.outlet import OutletSpider
from crawler.schedule.triggers import schedule_trigger
from tests.conftest import run_crawl
from tests.localweb import FIXTURES, LocalWeb
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
            f"outlet {name!r} has no fixtures: add {folder}/web/<host>/... (or capture a WARC with "
            f"`scrapy capture {name}`) and {folder}/expected.json (see {FIXTURES}/README.md)"
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
