"""Page requisites: found by parsing (pipelines.requisites) and archived with their pages by real crawls of the
local web (crawler.requisites): shared across pages and runs, and safe against hostile pages."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.requisites import requisites_mode
from pipelines.requisites import _absolute, css_requisites, page_requisites, srcset_candidate
from tests.conftest import REPO, run_crawl
from tests.localweb import LocalWeb
from tests.localweb.generate import BULK_HOST, STATIC_HOST, png, write_bulk_site, write_styled_site
from tests.test_incremental import stats_of

SETTINGS = {"SPIDER_MODULES": "tests.outlets"}
SHARED = (f"https://{STATIC_HOST}/css/site.css", f"https://{STATIC_HOST}/css/type.css",
          f"https://{STATIC_HOST}/fonts/serif.woff2", f"https://{STATIC_HOST}/img/paper.png",
          f"https://{STATIC_HOST}/img/logo.svg", f"https://{BULK_HOST}/favicon.ico")


def records(archive: Path) -> list[tuple[str, str, dict[str, str]]]:
    """(WARC-Type, target URI, metadata fields or {}) of every record of outlet bulk's WARCs."""
    found = []
    for warc in sorted((archive / "bulk" / "warc").glob("*.warc.gz")):
        with warc.open("rb") as stream:
            for record in ArchiveIterator(stream):
                fields = {}
                if record.rec_type == "revisit":
                    fields = {"WARC-Profile": record.rec_headers.get_header("WARC-Profile")}
                if record.rec_type == "metadata":
                    lines = record.content_stream().read().decode().splitlines()
                    fields = dict(line.split(": ", 1) for line in lines if ": " in line)
                found.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI"), fields))
    return found


def requisite_rows(catalog: Path) -> list[tuple]:
    with closing(sqlite3.connect(catalog)) as connection:
        return connection.execute("SELECT * FROM requisites ORDER BY outlet, url").fetchall()


def captures_of(archive: Path) -> Counter[tuple[str, str]]:
    """How many response and revisit records each URL has."""
    return Counter((kind, url) for kind, url, _ in records(archive) if kind in {"response", "revisit"})


# --- finding them -------------------------------------------------------------------------------------------


def test_a_page_s_requisites_are_what_a_browser_would_load() -> None:
    page = b"""<html><head><base href="/assets/"><link rel="stylesheet" href="site.css">
    <link rel="icon" href="/favicon.ico"><link rel="preload" as="font" href="f.woff2">
    <link rel="alternate" href="/feed">
    <link rel="preload" as="fetch" href="/api/data"><meta property="og:image" content="https://cdn.x.com/og.jpg">
    <style>@import url("imp.css"); body{background:url(bg.png)}
    @media (min-width:1px){.a{background:url('m.png')}}</style>
    <script src="app.js"></script></head><body style="background: url(data:image/png;base64,AAAA)">
    <img src="a.jpg" srcset="a-320.jpg 320w, a-1600.jpg 1600w, a-800.jpg 800w" sizes="(max-width: 600px) 100vw, 800px">
    <picture><source media="(max-width: 600px)" srcset="p-small.webp"><source type="image/jxl" srcset="p.jxl">
    <source type="image/webp" srcset="p.webp 1x, p2.webp 2x"><img src="p.jpg"></picture>
    <img src="javascript:alert(1)"><img src="about:blank"><img src="http://[::1"><a href="/a-link">not one</a>
    <video poster="poster.jpg"></video><img src="a.jpg#fragment"></body></html>"""
    base = "https://www.x.com/assets/"
    assert page_requisites(page, "https://www.x.com/news/a") == [
        base + "site.css", "https://www.x.com/favicon.ico", base + "f.woff2", "https://cdn.x.com/og.jpg",
        base + "imp.css", base + "bg.png", base + "m.png", base + "app.js", base + "a-800.jpg", base + "p.webp",
        base + "poster.jpg", base + "a.jpg"]


def test_lazy_images_sprites_and_preloads_are_requisites_and_frames_are_not() -> None:
    page = b"""<html><head><link rel=preload as=image href=h.jpg imagesrcset="s.jpg 400w, l.jpg 1400w"></head>
    <body><img src="ph.gif" data-src="real.jpg"><img src="ph.gif" data-srcset="a.jpg 1x, b.jpg 2x">
    <img data-lazy-src="late.jpg"><img data-src='{"default":"/a.img?h=76"}'><img data-src="undefined">
    <img data-original="{{ image.url }}"><svg><use xlink:href="/sprite.svg#i"></use><use href="#local"></use></svg>
    <object data="chart.svg"></object><iframe src="https://www.youtube.com/embed/x"></iframe>
    <noscript><img src="https://tracker.example/pixel.gif"></noscript></body></html>"""
    assert page_requisites(page, "https://x.com/") == [f"https://x.com/{name}" for name in (
        "l.jpg", "ph.gif", "real.jpg", "a.jpg", "late.jpg", "sprite.svg", "chart.svg")]


def test_a_stylesheet_s_requisites_are_its_imports_fonts_and_images() -> None:
    css = (b'@charset "utf-8"; @import "a.css"; @import url(b.css) screen; '
           b'@font-face { src: url(f.woff2) format("woff2"), url("f.ttf") } '
           b'@font-face { src: url(g.eot); src: url(g.eot?#iefix) format("embedded-opentype"), local("G"), '
           b'url(g.woff) format(woff), url(g.ttf) format("truetype") } '
           b'.x { background: image-set("i1.png" 1x, "i2.png" 2x) } .y { background: var(--a, url(v.png)) } '
           b'.z { content: "url(not-one.png)" } /* url(comment.png) */ '
           b'.d { background: url(data:image/gif;base64,R0l) }')
    assert css_requisites(css, "https://cdn.x.com/css/s.css") == [
        f"https://cdn.x.com/css/{name}" for name in ("a.css", "b.css", "f.woff2", "g.woff", "i1.png", "v.png")]
    assert css_requisites("color: red; background: url(/bg.png)", "https://x.com/") == [
        "https://x.com/bg.png"]


def tinycss2_urls(css: str, base: str) -> list[str]:
    """What a real CSS parser (tinycss2) finds: the oracle :func:`css_requisites` is checked against."""
    import tinycss2

    def walk(nodes: list) -> list[str]:
        found: list[str] = []
        for node in nodes:
            if node.type == "url":
                found.append(node.value)
            elif node.type == "function" and node.lower_name == "url":
                found += [arg.value for arg in node.arguments if arg.type == "string"][:1]
            elif node.type == "function" and node.lower_name in {"image-set", "-webkit-image-set"}:
                found += [url for arg in node.arguments for url in walk([arg]) or
                          ([arg.value] if arg.type == "string" else [])][:1]
            elif node.type == "function":
                found += walk(node.arguments)
            elif node.type == "at-rule" and node.lower_at_keyword == "font-face" and node.content is not None:
                found += font_file(tinycss2.parse_blocks_contents(node.content))
            elif node.type == "at-rule" and node.lower_at_keyword == "import":
                found += [url for token in node.prelude for url in walk([token]) or
                          ([token.value] if token.type == "string" else [])][:1]
            elif node.type == "at-rule" and node.content is not None and any(
                    token.type == "{} block" for token in node.content):  # @media, @supports: rules inside
                found += walk(tinycss2.parse_rule_list(node.content, skip_comments=True))
            elif node.type in {"at-rule", "qualified-rule"} and node.content is not None:
                found += walk(node.content)
            elif node.type in {"() block", "[] block", "{} block"}:
                found += walk(node.content)
        return found

    def font_file(declarations: list) -> list[str]:
        sources = [d for d in declarations if d.type == "declaration" and d.lower_name == "src"]
        if not sources:
            return []
        parts: list[list] = [[]]
        for token in sources[-1].value:
            if token.type == "literal" and token.value == ",":
                parts.append([])
            elif token.type not in {"whitespace", "comment"}:
                parts[-1].append(token)
        for part in parts:
            urls = walk(part[:1])
            stated = [token for token in part[1:] if token.type == "function" and token.lower_name == "format"]
            kind = next((arg.value.lower() for arg in stated[0].arguments if arg.type in {"string", "ident"}),
                        "") if stated else ""
            if urls and (kind in {"woff2", "woff", "truetype", "opentype", "collection"} or kind.endswith(
                    "-variations") or not stated and not urls[0].lower().split("?")[0].split("#")[0].endswith(".eot")):
                return urls[:1]
        return []

    return _absolute(walk(tinycss2.parse_stylesheet(css, skip_comments=True)), base)


def test_css_is_read_as_a_css_parser_reads_it(shared_corpora: Path) -> None:
    """Every inline stylesheet of the real pages of two corpora: the same URLs as tinycss2's tokens give."""
    from lxml import html

    pages = sorted((shared_corpora / "article-extraction-benchmark").rglob("*.html*"))[:60]
    pages += sorted((shared_corpora / "seed-outlets").rglob("*.html.gz"))
    sheets = 0
    for path in pages:
        data = path.read_bytes()
        root = html.fromstring(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
        for style in root.iter("style"):
            # a stray BOM (one page has it before an @font-face) makes that rule a selector, dropped by browsers
            # and by tinycss2 alike: which of its fonts to fetch then does not matter
            css = (style.text or "").lstrip("\ufeff ")
            assert css_requisites(css, "https://x.com/a/") == tinycss2_urls(css, "https://x.com/a/"), (path, css[:300])
            sheets += 1
    assert sheets > 100


@pytest.mark.parametrize("srcset, sizes, chosen", [
    ("a.jpg 1x, b.jpg 2x", "", "a.jpg"),
    ("b.jpg 2x, c.jpg 3x", "", "b.jpg"),
    ("only.jpg", "", "only.jpg"),
    ("s.jpg 400w, m.jpg 900w, l.jpg 2000w", "", "l.jpg"),  # the viewport (1280 px) wide
    ("s.jpg 400w, m.jpg 900w, l.jpg 2000w", "50vw", "m.jpg"),
    ("s.jpg 400w, m.jpg 900w", "", "m.jpg"),  # none is wide enough: the widest
    ("a.jpg 100q, b.jpg 0w", "", None),  # no valid descriptor
    ("a.jpg 1x,b.jpg 2x", "", "a.jpg"),  # no space after the comma
    ("/u/w_400,h_300/a.jpg 400w, /u/w_1400,h_900/a.jpg 1400w", "", "/u/w_1400,h_900/a.jpg"),  # commas in URLs
    ("a.jpg,b.jpg", "", "a.jpg,b.jpg"),  # one URL, as HTML reads it
    ("", "", None), (" , ,, ", "", None),
])
def test_one_srcset_candidate_is_chosen(srcset: str, sizes: str, chosen: str | None) -> None:
    assert srcset_candidate(srcset, sizes) == chosen


@pytest.mark.parametrize("junk", [b"", b"\x00\xff\xfe", b"<html", b"<<<>>>" * 1000, b"<img srcset='" + b"," * 100_000,
                                  b"<style>@import url(" + b"(" * 10_000 + b"</style>",
                                  b"<style>.a{background:image-set(" + b"a" * 200_000 + b"</style>",
                                  b"<style>/* " + b"url(x) " * 50_000 + b"</style>",
                                  b"<style>.a{content:\"" + b"\\" * 100_000 + b"</style>",
                                  b"<p style='background:url(" + b"x" * 200_000 + b"'>"])
def test_junk_has_no_requisites_and_no_error(junk: bytes) -> None:
    assert isinstance(page_requisites(junk, "https://x.com/"), list)
    assert isinstance(css_requisites(junk, "https://x.com/a.css"), list)


# --- archiving them -----------------------------------------------------------------------------------------


def test_a_hundred_articles_share_one_capture_of_each_common_requisite(tmp_path: Path) -> None:
    site, archive = tmp_path / "site", tmp_path / "archive"
    urls = write_styled_site(site, 100)
    with LocalWeb(site) as web:
        crawl = run_crawl("bulk", archive, web, SETTINGS, timeout=240)
        assert crawl.returncode == 0, crawl.log[-3000:]
        assert len(crawl.items) == 100
        captured = captures_of(archive)
        for url in SHARED:
            assert captured[("response", url)] == 1, url
        photos = [f"https://{BULK_HOST}/images/story-{n}.png" for n in range(100)]
        assert all(captured[("response", photo)] == 1 for photo in photos)
        stats = stats_of(crawl.log)
        assert stats["requisites/requested"] == len(SHARED) + 100
        assert stats["requisites/shared"] == 99 * 3  # the stylesheet, logo and favicon again (photos: one a page)
        # every requisite's metadata names its page (via, and that page's record: requisiteOf)
        article_ids = {}
        for kind, url, fields in records(archive):
            if kind == "metadata" and fields.get("role") == "article":
                article_ids[url] = fields
        requisites = [(url, fields) for kind, url, fields in records(archive)
                      if kind == "metadata" and fields.get("role") == "requisite"]
        assert len(requisites) == len(SHARED) + 100
        assert all(fields["requisiteOf"].startswith("<urn:uuid:") and fields["via"] for _, fields in requisites)
        # they are not articles: the catalog and the seen-state hold the 100 articles only
        catalog = sqlite3.connect(archive / "catalog.sqlite")
        assert catalog.execute("SELECT count(*) FROM captures").fetchone() == (100,)
        assert catalog.execute("SELECT count(*) FROM seen").fetchone() == (100,)
        assert catalog.execute("SELECT count(*) FROM requisites").fetchone() == (len(SHARED) + 100,)
        catalog.close()

        # a later run with new articles: the shared requisites are fresh (REQUISITE_REFRESH) and not fetched
        more = write_styled_site(site, 3, first=100)
        again = run_crawl("bulk", archive, web, SETTINGS, timeout=240)
        assert again.returncode == 0, again.log[-3000:]
        assert sorted(item["url"] for item in again.items) == sorted(more)
        after = captures_of(archive)
        assert all(after[("response", url)] == 1 and not after[("revisit", url)] for url in SHARED)
        assert stats_of(again.log)["requisites/fresh"] == 3  # site.css, logo, favicon: fresh; the photos are new

        # past REQUISITE_REFRESH: asked for again with their validators, and archived as revisits of the unchanged
        # captures: a 304 (server-not-modified), or the same payload from a server that ignores validators (the
        # logo's); the unchanged stylesheet's own requisites are looked at again too
        newest = write_styled_site(site, 2, first=103)
        web.overrides[f"{STATIC_HOST}/img/logo.svg"] = {"no_validators": True}
        third = run_crawl("bulk", archive, web, {**SETTINGS, "REQUISITE_REFRESH": "0"}, timeout=240)
        assert third.returncode == 0, third.log[-3000:]
        assert sorted(item["url"] for item in third.items) == sorted(newest)
        final = captures_of(archive)
        for url in SHARED:
            assert (final[("response", url)], final[("revisit", url)]) == (1, 1), url
        profiles = {url: fields["WARC-Profile"].rsplit("/", 1)[1] for kind, url, fields in records(archive)
                    if kind == "revisit"}
        assert profiles == {**dict.fromkeys(SHARED, "server-not-modified"),
                            f"https://{STATIC_HOST}/img/logo.svg": "identical-payload-digest"}
        conditional = [served for served in web.served if served.url == f"{STATIC_HOST}/css/site.css"]
        assert [entry.status for entry in conditional] == [200, 304]
    assert urls[0].endswith("story-0")


def test_requisites_none_or_all_and_a_page_budget(tmp_path: Path) -> None:
    """``none`` fetches none, ``all`` front pages' too (``articles``, the default, is every other test's)."""
    site = tmp_path / "site"
    write_styled_site(site, 3)
    front = site / "bulk" / "web" / BULK_HOST / "index.html"
    front.write_text('<html><head><link rel=stylesheet href="/front.css"></head><body>'
                     '<a href="/news/story-0">One</a></body></html>')
    (site / "bulk" / "web" / BULK_HOST / "front.css").write_text("body { color: #111 }")
    env = {"PYTHONPATH": str(tmp_path)}
    (tmp_path / "frontbulk").mkdir()
    (tmp_path / "frontbulk" / "__init__.py").write_text(
        "from tests.outlets.bulk import BulkSpider\n\n"
        "class FrontBulk(BulkSpider):\n    name = 'bulk'\n"
        f"    front_pages = ('https://{BULK_HOST}/',)\n")
    counts = {}
    with LocalWeb(site) as web:
        for mode in ("none", "all"):
            archive = tmp_path / mode
            settings = {"SPIDER_MODULES": "frontbulk", "ARCHIVE_REQUISITES": mode}
            crawl = run_crawl("bulk", archive, web, settings, env=env)
            assert crawl.returncode == 0, crawl.log[-3000:]
            assert len(crawl.items) == 3
            counts[mode] = {url for kind, url in captures_of(archive) if "/news/" not in url
                            and not url.endswith(("robots.txt", "sitemap.xml")) and url != f"https://{BULK_HOST}/"}
        bad = run_crawl("bulk", tmp_path / "bad", web, {**SETTINGS, "ARCHIVE_REQUISITES": "some"})
        starved = run_crawl("bulk", tmp_path / "starved", web, {**SETTINGS, "REQUISITES_PAGE_MAXSIZE": "1"})
    assert starved.returncode == 0 and len(starved.items) == 3
    starved_stats = stats_of(starved.log)
    assert starved_stats["requisites/requested"] > 0 and "requisites/archived" not in starved_stats
    assert not [fields for kind, _, fields in records(tmp_path / "starved") if fields.get("role") == "requisite"]
    assert counts["none"] == set()
    photos = {f"https://{BULK_HOST}/images/story-{n}.png" for n in range(3)}
    assert counts["all"] == {*SHARED, *photos, f"https://{BULK_HOST}/front.css"}
    # the WARCs alone rebuild which requisites the outlet's archive holds: replay writes the crawl's rows
    rebuilt = tmp_path / "rebuilt"
    command = [sys.executable, "-m", "scrapy", "replay", str(tmp_path / "all" / "bulk" / "warc"), "-o", str(rebuilt),
               "--workers", "1", "-s", "SPIDER_MODULES=frontbulk"]
    paths = os.pathsep.join([str(REPO), str(tmp_path)])
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": paths})
    assert done.returncode == 0, done.stderr[-3000:]
    assert requisite_rows(rebuilt / "catalog.sqlite") == requisite_rows(tmp_path / "all" / "catalog.sqlite")
    assert len(requisite_rows(rebuilt / "catalog.sqlite")) == len(counts["all"])
    assert bad.returncode != 0 and "ARCHIVE_REQUISITES must be one of none, articles, all, not 'some'" in bad.log


def test_an_outlet_sets_its_own_mode_and_a_bad_one_is_named() -> None:
    class Quiet:
        custom_settings = {"ARCHIVE_REQUISITES": "None"}

    settings = {"ARCHIVE_REQUISITES": "all"}
    assert requisites_mode(settings, Quiet()) == "none"
    assert requisites_mode(settings, object()) == "all" and requisites_mode({}, None) == "articles"
    with pytest.raises(ValueError, match="must be one of none, articles, all, not 'pages'"):
        requisites_mode({"ARCHIVE_REQUISITES": "pages"})


def test_hostile_requisites_cost_nothing_unsafe(tmp_path: Path) -> None:
    """An import cycle, a 50 MB image, private addresses, a malformed srcset, a stylesheet that is a page."""
    site, archive = tmp_path / "site", tmp_path / "archive"
    write_bulk_site(site, 2)
    web_root = site / "bulk" / "web" / BULK_HOST
    (web_root / "a.css").write_text('@import "b.css"; body { background: url(data:image/png;base64,iVBO) }')
    (web_root / "b.css").write_text('@import "a.css"; h1 { background: url(/tile.png) }')
    (web_root / "tile.png").write_bytes(png(4, 4, 9))
    cdn = site / "bulk" / "web" / STATIC_HOST
    (cdn / "private").mkdir(parents=True)
    (cdn / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    (cdn / "private" / "secret.png").write_bytes(png(4, 4, 1))
    (cdn / "fine.png").write_bytes(png(4, 4, 2))
    (web_root / "huge.png").write_bytes(b"\x89PNG" + bytes(50 * 1024 * 1024))
    (web_root / "login.css").write_text('<!doctype html><html><body><a href="/private/x.png">Sign in</a></body></html>')
    (web_root / "page.css").write_text("<html><body>served as a page</body></html>")
    (site / "bulk" / "web.json").write_text(json.dumps({f"{BULK_HOST}/login.css": {"content_type": "text/css"},
                                                        f"{BULK_HOST}/page.css": {"content_type": "text/html"},
                                                        f"{BULK_HOST}/huge.png": {"encoding": "identity"}}))
    hostile = ('<link rel=stylesheet href="/a.css"><link rel=stylesheet href="/login.css">'
               '<link rel=stylesheet href="/page.css"><link rel=icon href="data:image/png;base64,AAAA">'
               '<img src="/huge.png"><img src="http://127.0.0.1:9/x.png"><img src="http://2130706433/y.png">'
               '<img src="http://[::1]/z.png"><img srcset=",,, http://[::1 2x, /ok.png 1x">'
               '<img srcset="http://10.0.0.1/inner.png 1x">'
               f'<img src="https://{STATIC_HOST}/private/secret.png"><img src="https://{STATIC_HOST}/fine.png">')
    for n in range(2):
        page = web_root / "news" / f"story-{n}"
        page.write_text(page.read_text().replace("</article>", hostile + "</article>"))
    with LocalWeb(site) as web:
        crawl = run_crawl("bulk", archive, web, SETTINGS, timeout=180)
        served = {entry.url for entry in web.served}
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert len(crawl.items) == 2
    assert "Traceback" not in crawl.log
    stats = stats_of(crawl.log)
    captured = {url for _, url in captures_of(archive)}
    # the cycle: each stylesheet once, and what it uses
    assert {f"https://{BULK_HOST}/{name}" for name in ("a.css", "b.css", "tile.png")} <= captured
    # too large: cancelled, not archived
    assert f"https://{BULK_HOST}/huge.png" not in captured
    assert stats["requisites/failed/DownloadCancelledError"] == 1
    # private addresses: refused before any connection, never served
    assert stats["safety/blocked/loopback"] >= 2 and stats["safety/blocked/private"] >= 1
    assert not any(host in url for url in captured for host in ("127.0.0.1", "2130706433", "[::1]", "10.0.0.1"))
    # a stylesheet that is a page is archived, never read as one; a .css served as HTML is not parsed either
    assert stats["requisites/css_not_css"] == 1
    assert f"{BULK_HOST}/private/x.png" not in served
    # another host's requisites (a CDN's): as its robots.txt allows
    assert {f"https://{STATIC_HOST}/robots.txt", f"https://{STATIC_HOST}/fine.png"} <= captured
    assert f"{STATIC_HOST}/private/secret.png" not in served and stats["robotstxt/forbidden"] == 1
    # the malformed srcset's one usable candidate
    assert f"https://{BULK_HOST}/ok.png" in {url for kind, url, _ in records(archive) if kind == "request"}
