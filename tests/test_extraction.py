"""Extraction on its own and through the crawl: seed form, metadata, names, and pages with no article."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest

from pipelines.capture import Capture, WarcLocation
from pipelines.extract import ExtractionHints, Rejection, extract_article, extract_page
from pipelines.extract.page_text import render_page_text
from pipelines.outlets import OutletProfile
from pipelines.output import capture_names
from pipelines.process import extract
from tests.conftest import run_crawl
from tests.localweb import LocalWeb
from tests.localweb.generate import article_html
from tests.outlets.broken import HOST


def test_page_text_layout() -> None:
    html = """<html><head><title>t</title><style>p{}</style></head><body>
      <div><a href="/">Site</a><span>Name</span></div>
      <p>First   paragraph
         continues.</p>
      <ul><li>One</li><li>Two<ul><li>Two a</li></ul></li>
          <li><img alt="A photo"><figcaption>Its caption</figcaption></li></ul>
      <div hidden>secret</div><script>var x;</script><div aria-hidden="true">hidden too</div>
      <h2>Heading</h2><p>Last&nbsp;one<br>after break</p></body></html>"""
    assert render_page_text(html) == (
        "SiteName\n\nFirst paragraph continues.\n\n  • One\n  • Two\n    • Two a\n  • A photo\n    Its caption\n\n"
        "Heading\n\nLast\u00a0one\nafter break"
    )


def test_names_are_derived_from_the_capture_only() -> None:
    names = capture_names("ndtv", "ndtv-20240328054112345-00003-host.warc.gz", 7, "<urn:uuid:1>")
    assert str(names.page_text).startswith("ndtv/text/2024-03-28/054112-00003/014_")
    assert names.article_text.name.startswith("015_") and names.metadata.suffix == ".json"
    assert names == capture_names("ndtv", "ndtv-20240328054112345-00003-host.warc.gz", 7, "<urn:uuid:1>")
    assert names.article_text.stem == names.metadata.stem and len(names.article_text.stem) == 3 + 1 + 16
    foreign = capture_names("other", "../../x.warc.gz", 0, "<urn:uuid:2>", "2019-11-03T10:00:00Z")
    assert str(foreign.page_text).startswith("other/text/2019-11-03/") and ".." not in str(foreign.page_text)
    for outlet, warc in (("../etc", "ndtv-20240328054112345-00003-host.warc.gz"), ("ndtv", "../../x.warc.gz")):
        with pytest.raises(ValueError):
            capture_names(outlet, warc, 0, "<urn:uuid:1>")


def test_the_real_ndtv_page(shared_corpora: Path) -> None:
    folder = shared_corpora / "seed-outlets" / "ndtv"
    expected = json.loads((folder / "expected.json").read_text())
    article = extract_article(gzip.decompress((folder / "www.ndtv.com.html.gz").read_bytes()), expected["url"])
    assert article is not None
    truth = expected["expected"]
    assert article.title == truth["title"]
    assert article.authors == [truth["author"]]
    assert article.standfirst == truth["dek"]
    from datetime import datetime

    assert datetime.fromisoformat(article.published) == datetime.fromisoformat(
        truth["date_published"].replace("Z", "+00:00")
    )
    assert article.text.startswith(truth["title"] + "\n" + truth["dek"] + "\n")


BROKEN_PAGES = {
    "truncated": ("text/html; charset=utf-8", article_html(1).encode()[:1500]),
    "binary": ("text/html", gzip.compress(b"\x00\x01" * 5000)),
    "bad-charset": ("text/html; charset=utf-8", article_html(2).replace("e", "\u00e9").encode("latin-1")),
    "not-html": ("application/pdf", b"%PDF-1.4 ..."),
    "empty": ("text/html", b"   "),
    "challenge": (
        "text/html",
        b"<html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>",
    ),
    "paywall": (
        "text/html",
        b'<html><head><script type=\'application/ld+json\'>{"@type": "NewsArticle", '
        b'"isAccessibleForFree": false}</script></head><body><h1>Story</h1><p>Subscribe to continue '
        b"reading this story.</p></body></html>",
    ),
}


@pytest.mark.parametrize("reason", sorted(BROKEN_PAGES))
def test_pages_with_no_article_give_a_reason(reason: str) -> None:
    content_type, body = BROKEN_PAGES[reason]
    result = extract_page(Capture(f"https://{HOST}/news/{reason}", 200, {"content-type": content_type}, body))
    assert isinstance(result, Rejection) and result.reason == reason and result.detail


def test_broken_pages_through_the_crawl(tmp_path: Path) -> None:
    site = tmp_path / "site"
    web_root = site / "broken" / "web" / HOST
    (web_root / "news").mkdir(parents=True)
    quirks = {}
    for reason, (content_type, body) in BROKEN_PAGES.items():
        (web_root / "news" / reason).write_bytes(body)
        quirks[f"{HOST}/news/{reason}"] = {"content_type": content_type, "encoding": "identity", "chunked": False}
    (web_root / "news" / "fine").write_text(article_html(3))
    links = "".join(f'<a href="/news/{name}">{name}</a>' for name in [*BROKEN_PAGES, "fine"])
    (web_root / "index.html").write_text(f"<html><body>{links}</body></html>")
    (site / "broken" / "web.json").write_text(json.dumps(quirks))
    archive = tmp_path / "archive"
    with LocalWeb(site) as web:
        crawl = run_crawl("broken", archive, web, {"SPIDER_MODULES": "tests.outlets"})
    assert crawl.returncode == 0 and "Traceback" not in crawl.log, crawl.log[-3000:]
    assert [item["url"].rsplit("/", 1)[1] for item in crawl.items] == ["fine"]
    texts = sorted(p.name for p in (archive / "broken" / "text").rglob("*") if p.is_file())
    assert len(texts) == 3  # page text, article text, sidecar of the one good page
    rows = (
        sqlite3.connect(archive / "catalog.sqlite")
        .execute("SELECT url, status, reason FROM captures ORDER BY url")
        .fetchall()
    )
    rejected = {url.rsplit("/", 1)[1]: reason for url, status, reason in rows if status == "rejected"}
    assert rejected == {reason: reason for reason in BROKEN_PAGES}
    for reason in BROKEN_PAGES:
        assert f"'extraction/rejected/{reason}': 1" in crawl.log


def test_decoding_problems_and_extractor_failures_are_rejections_with_a_reason(tmp_path: Path) -> None:
    """Whatever goes wrong with one page (a bomb, a broken encoding, an extractor crash on a bad outlet hint)
    is that page's rejection, the same for the crawl and replay (both run pipelines.process.extract)."""
    warc = "bulk-20261201000000000-00000-host.warc.gz"
    location = WarcLocation(warc, 0, 1, 0, "<urn:uuid:1>", "2026-12-01T00:00:00Z")
    page = article_html(3).encode()
    bomb = Capture(f"https://{HOST}/news/bomb", 200, {"content-type": "text/html", "content-encoding": "gzip"},
                   gzip.compress(page * 200), location)
    broken = Capture(f"https://{HOST}/news/broken", 200, {"content-type": "text/html", "content-encoding": "gzip"},
                     b"\x1f\x8b\x08 not gzip", location)
    plain = Capture(f"https://{HOST}/news/plain", 200, {"content-type": "text/html"}, page, location)
    bad_hint = OutletProfile("bulk", hints=ExtractionHints(prune_xpaths=("//[",)))
    cases = [(bomb, OutletProfile("bulk"), len(page) * 10, "too-large"),
             (broken, OutletProfile("bulk"), 1 << 20, "bad-encoding"),
             (plain, bad_hint, 1 << 20, "extraction-error")]
    for capture, outlet, max_size, reason in cases:
        result = extract(capture, outlet, tmp_path, max_size)
        assert result.rejected and result.columns["reason"] == reason and result.columns["detail"], reason
    assert not list(tmp_path.rglob("*.txt")), "a rejected page writes no file"
    assert not extract(plain, OutletProfile("bulk"), tmp_path).rejected
