"""Adding an outlet, as the README walks through it: scaffold, crawl, capture fixtures, check, registry test.

The outlet is new to the project: its site is written here and served by the local outlet web, its file
goes to a temporary package and its fixtures to a temporary fixtures folder, both named in a temporary
settings module, so nothing is left in the repository.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_crawl
from tests.localweb import LOCAL_CRAWL_SETTINGS, LocalWeb
from tests.localweb.generate import _WORDS, news_article_html

NAME = "dailyplanet"
HOST = "www.dailyplanet.test"
SITE = "The Daily Planet"
ARTICLES = {
    "world/harbour-workers-end-strike-after-pay-deal-55120": "Harbour workers end strike after pay deal",
    "business/central-bank-holds-rates-at-four-percent-55121": "Central bank holds rates at four percent",
    "world/floods-close-mountain-pass-for-third-day-55122": "Floods close mountain pass for third day",
    "science/new-telescope-sends-first-images-55123": "New telescope sends first images",
    "business/rail-freight-volumes-climb-again-55124": "Rail freight volumes climb again",
}
PUBLISHED = "2024-03-28T{:02d}:00:00+00:00"


def write_site(root: Path) -> list[str]:
    """The new outlet's site: a front page announcing an RSS feed, a Google News sitemap named in robots.txt."""
    site = root / NAME / "web" / HOST
    urls = [f"https://{HOST}/{path}" for path in ARTICLES]
    for number, (path, title) in enumerate(ARTICLES.items()):
        rng = random.Random(path)
        paragraphs = [" ".join(rng.choice(_WORDS) for _ in range(45)).capitalize() + "." for _ in range(5)]
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(news_article_html(title, paragraphs, "Lois Lane", PUBLISHED.format(number), SITE))
    links = "".join(f'<li><a href="/{path}">{title}</a></li>' for path, title in ARTICLES.items())
    (site / "index.html").write_text(
        f'<!doctype html><html><head><title>{SITE}</title><meta property="og:site_name" content="{SITE}">'
        '<link rel="alternate" type="application/rss+xml" title="Latest" href="/feeds/latest.rss"></head><body>'
        '<nav><a href="/world">World</a> <a href="/business">Business</a> <a href="/about">About us</a> '
        '<a href="/tag/elections">Elections</a></nav>'
        f'<ul>{links}</ul><a href="/world?page=2">More</a></body></html>')
    (site / "robots.txt").write_text(f"User-agent: *\nDisallow: /search\nSitemap: https://{HOST}/sitemaps/news.xml\n")
    (site / "feeds").mkdir()
    items = "".join(f"<item><title>{ARTICLES[path]}</title><link>https://{HOST}/{path}</link>"
                    f"<pubDate>Thu, 28 Mar 2024 0{n}:00:00 GMT</pubDate></item>" for n, path in enumerate(ARTICLES))
    (site / "feeds" / "latest.rss").write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{SITE}</title>{items}</channel></rss>')
    (site / "sitemaps").mkdir()
    entries = "".join(
        f"<url><loc>{url}</loc><news:news><news:publication><news:name>{SITE}</news:name><news:language>en"
        f"</news:language></news:publication><news:publication_date>{PUBLISHED.format(n)}</news:publication_date>"
        f"<news:title>{ARTICLES[url.split('/', 3)[3]]}</news:title></news:news></url>" for n, url in enumerate(urls))
    (site / "sitemaps" / "news.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{entries}</urlset>')
    for section in ("world", "business", "about"):
        (site / section).mkdir(exist_ok=True)
        (site / section / "index.html").write_text(f"<html><body><h1>{section}</h1>{links}</body></html>")
    return urls


@pytest.fixture()
def project(tmp_path: Path) -> dict[str, str]:
    """A settings module adding a temporary outlets package and fixtures folder to the project's."""
    (tmp_path / "newoutlets").mkdir()
    (tmp_path / "newoutlets" / "__init__.py").write_text("")
    (tmp_path / "newfixtures").mkdir()
    (tmp_path / "settings_plus_new.py").write_text(
        "from settings import *  # noqa: F403\n"
        "SPIDER_MODULES = [*SPIDER_MODULES, 'newoutlets']  # noqa: F405\n"
        f"OUTLET_FIXTURES = [*OUTLET_FIXTURES, {str(tmp_path / 'newfixtures')!r}]  # noqa: F405\n")
    return {"PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)]), "SCRAPY_SETTINGS_MODULE": "settings_plus_new"}


def scrapy(env: dict[str, str], *args: str, proxy: str = "") -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "scrapy", *args]
    for name, value in {**LOCAL_CRAWL_SETTINGS, **({"LOCAL_WEB_PROXY": proxy} if proxy else {})}.items():
        command += ["-s", f"{name}={value}"]
    full_env = {**os.environ, **env}
    full_env.pop("http_proxy", None), full_env.pop("https_proxy", None)
    return subprocess.run(command, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=180)


@pytest.mark.slow
def test_scaffold_crawl_capture_check_and_the_registry_picks_the_outlet_up(
    tmp_path: Path, project: dict[str, str]
) -> None:
    urls = write_site(tmp_path / "site")
    with LocalWeb(tmp_path / "site") as web:
        scaffold = scrapy(project, "scaffold", NAME, f"https://{HOST}/", "-o", str(tmp_path / "newoutlets"),
                          proxy=web.proxy_url)
        assert scaffold.returncode == 0, scaffold.stdout + scaffold.stderr
        source = (tmp_path / "newoutlets" / f"{NAME}.py").read_text("utf-8")
        assert f'feeds = ("https://{HOST}/feeds/latest.rss",)' in source
        assert f'sitemaps = ("https://{HOST}/sitemaps/news.xml",)' in source
        assert "Google News sitemap" in source and "announced by the front page" in source
        assert 'site_name = "The Daily Planet"' in source

        # the generated file, unchanged, discovers and archives the outlet's articles (and nothing else)
        crawl = run_crawl(NAME, tmp_path / "archive", web, env=project)
        assert crawl.returncode == 0 and "Traceback" not in crawl.log, crawl.log[-3000:]
        assert sorted(item["url"] for item in crawl.items) == sorted(urls)

        capture = scrapy(project, "capture", NAME, "--articles", "3", "--to", str(tmp_path / "newfixtures"),
                         proxy=web.proxy_url)
        assert capture.returncode == 0, capture.stdout + capture.stderr
    fixtures = tmp_path / "newfixtures" / NAME
    warcs = list(fixtures.glob(f"{NAME}-*.warc.gz"))
    assert len(warcs) == 1 and not (fixtures / "web").exists()
    expected = json.loads((fixtures / "expected.json").read_text("utf-8"))
    assert len(expected["articles"]) == 3 and set(expected["articles"]) <= set(urls)
    assert expected["extraction_reviewed"] is False
    draft = expected["extraction"][expected["articles"][0]]
    assert draft["byline"] == "Lois Lane" and draft["source"] == SITE and draft["published"].startswith("2024-03-28")
    assert draft["text"].startswith(draft["title"] + "\n") and draft["title"] in ARTICLES.values()

    # offline, from the fixture WARC alone (the site is gone): the check, then the registry-wide test
    check = scrapy(project, "checkoutlet", NAME)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "3 article pages" in check.stdout and "byline      3/3" in check.stdout, check.stdout
    registry = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_outlet_registry.py", "-k", NAME],
        cwd=REPO, env={**os.environ, **project}, capture_output=True, text=True, timeout=300)
    assert registry.returncode == 0 and "4 passed" in registry.stdout, registry.stdout[-3000:]


def test_bad_input_gets_a_clear_message_and_no_traceback(tmp_path: Path, project: dict[str, str]) -> None:
    write_site(tmp_path / "site")
    empty = tmp_path / "site" / "empty" / "web" / "www.empty.test"
    empty.mkdir(parents=True)
    (empty / "index.html").write_text("<html><body><p>Coming soon.</p><a href='/about'>About</a></body></html>")
    out = tmp_path / "out"
    with LocalWeb(tmp_path / "site") as web:
        runs = {
            "unknown outlet": scrapy(project, "capture", "nosuchoutlet"),
            "not an article": scrapy(project, "capture", "ndtv", "https://www.ndtv.com/world-news"),
            "unreachable": scrapy(project, "scaffold", "gone", "https://www.gone.test/", "-o", str(out),
                                  proxy=web.proxy_url),
            "no articles": scrapy(project, "scaffold", "empty", "https://www.empty.test/", "-o", str(out),
                                  proxy=web.proxy_url),
            "check unknown": scrapy(project, "checkoutlet", "nosuchoutlet"),
        }
    for case, run in runs.items():
        assert run.returncode != 0, case
        assert "Traceback" not in run.stderr + run.stdout, (case, run.stderr[-2000:])
    assert "unknown outlet 'nosuchoutlet'" in runs["unknown outlet"].stderr
    assert "do not match its article_pattern" in runs["not an article"].stderr
    assert "cannot read the front page https://www.gone.test/: HTTP 404" in runs["unreachable"].stderr
    assert "no feed: the front page announces none" in runs["no articles"].stderr
    assert "nothing written: https://www.empty.test/ links to nothing that looks like an article" in (
        runs["no articles"].stderr)
    assert "unknown outlet 'nosuchoutlet'" in runs["check unknown"].stderr
    assert not out.exists()
