"""The fault site: an outlet whose server misbehaves in every way the reliability tests need.

``write_fault_site(root)`` writes outlet ``faults`` (``tests/outlets/faults.py``)
for :class:`~tests.localweb.LocalWeb`: a front page linking one article per
fault, feeds and sitemaps that are hostile XML, and a ``web.json`` giving each
URL its misbehaviour. :func:`all_faults` says, per fault class, what the crawler
must do about it; the test and ``make reliability`` check exactly that. All
pages are synthetic (written here), not any outlet's real HTML.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import Any

import brotli

from tests.localweb.generate import article_html

HOST = "www.faults.test"
NO_ROBOTS_HOST = "www.norobots.test"  # its robots.txt cannot be fetched
ELSEWHERE_HOST = "www.elsewhere.test"  # off-domain: must never be asked for anything
BOMB_SIZE = 256 << 20  # what the bombs expand to: far over any sane cap
ENORMOUS_FEED_ITEMS = 20_000
STALL = 6.0  # seconds of silence: over the crawl's DOWNLOAD_TIMEOUT (see FAULT_CRAWL_SETTINGS)

#: Settings of a crawl of the fault site (on top of the local-web ones).
FAULT_CRAWL_SETTINGS = {
    "SPIDER_MODULES": "tests.outlets",
    "DOWNLOAD_TIMEOUT": "3",
    "DOWNLOAD_MAXSIZE": str(4 << 20),
    "DOWNLOAD_WARNSIZE": str(2 << 20),
    "RETRY_TIMES": "2",
    "RETRY_BACKOFF_BASE": "0.1",
    "DISCOVERY_MAX_AGE_DAYS": "3",
    "LOG_LEVEL": "INFO",
}

#: What the crawler must do with a fault's article.
ARCHIVED = "archived"  # one complete capture in the WARCs, its text extracted
REJECTED = "rejected"  # one complete capture in the WARCs, a catalog row saying why there is no text
REFUSED = "refused"  # given up after retries or over a limit: no text, the failure counted
NOT_FETCHED = "not fetched"  # never requested at all


@dataclass(frozen=True)
class Fault:
    """One misbehaviour: its class (as the report names it), its URL, what the server does, what must happen."""

    kind: str
    url: str
    expect: str
    quirk: dict[str, Any] = field(default_factory=dict)
    page: bytes | None = None  # the page served (default: a synthetic article)
    text: str = ""  # must appear in the extracted article text (the charset cases)
    linked: bool = True  # linked from the front page

    @property
    def key(self) -> str:
        """The URL as the local web logs it (``host/path``)."""
        return self.url.split("://", 1)[1]


def _url(path: str, host: str = HOST) -> str:
    return f"https://{host}{path}"


def _article(name: str, n: int) -> bytes:
    return article_html(n, url=_url(f"/news/{name}")).encode()


def _page(title: str, paragraphs: list[str], charset_meta: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!doctype html><html><head>{charset_meta}<title>{title}</title></head>"
            f"<body><article><h1>{title}</h1>{body}</article></body></html>")


_FILLER = ("Officials said the talks would continue next week while the council reviews the budget, "
           "and residents were asked to follow the announcements of the city.")


def _charset_faults() -> list[Fault]:
    latin = _page("Café crème in Zürich", [f"Der Bäcker öffnet um sechs Uhr. {_FILLER}"] * 4)
    smart = _page("“Quoted” prices", [f"It costs 5 € – “about” that. {_FILLER}"] * 4)
    japanese = _page("東京の天気", [f"東京は今日晴れです。気温は二十度です。{_FILLER}"] * 4,
                     '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">')
    bom = _page("A naïve façade", [f"The naïve façade stood. {_FILLER}"] * 4)
    plain = _page("Über Zürich", [f"Grüße aus Zürich. {_FILLER}"] * 4)
    conflicting = _page("Ça va", [f"Ça va très bien. {_FILLER}"] * 4, '<meta charset="windows-1252">')
    return [
        Fault("charset: Latin-1", _url("/news/charset-latin1"), ARCHIVED,
              {"content_type": "text/html; charset=iso-8859-1"}, latin.encode("latin-1"), "Der Bäcker öffnet"),
        Fault("charset: Windows-1252 declared as Latin-1", _url("/news/charset-cp1252"), ARCHIVED,
              {"content_type": "text/html; charset=iso-8859-1"}, smart.encode("cp1252"), "5 € – “about”"),
        Fault("charset: Shift-JIS in a meta tag only", _url("/news/charset-shift-jis"), ARCHIVED,
              {"content_type": "text/html"}, japanese.encode("shift_jis"), "東京は今日晴れです"),
        Fault("charset: UTF-8 BOM against a Latin-1 header", _url("/news/charset-utf8-bom"), ARCHIVED,
              {"content_type": "text/html; charset=iso-8859-1"}, b"\xef\xbb\xbf" + bom.encode(), "naïve façade"),
        Fault("charset: none declared", _url("/news/charset-missing"), ARCHIVED,
              {"content_type": "text/html"}, plain.encode(), "Grüße aus Zürich"),
        Fault("charset: header and meta conflict", _url("/news/charset-conflict"), ARCHIVED,
              {"content_type": "text/html; charset=utf-8"}, conflicting.encode(), "Ça va très bien"),
    ]


def _malformed_faults() -> list[Fault]:
    unclosed = "<html><body><article><h1>Unclosed <b>tags<p>" + ("<div><p>" + _FILLER) * 40 + "</html>"
    nested = "<html><body>" + "<div>" * 5000 + f"<p>{_FILLER}</p>" + "</div>" * 10 + "</body>"
    nul = _page("Stray NUL bytes", [_FILLER] * 6).replace("<p>", "<p>\x00", 3)
    garbage = "<<<>>><!-- <html <body <<p>>> ]]> <![CDATA[ x" * 200
    return [
        Fault("malformed HTML: unclosed tags", _url("/news/malformed-unclosed"), ARCHIVED, page=unclosed.encode()),
        Fault("malformed HTML: 5,000 nested elements", _url("/news/malformed-nested"), REJECTED, page=nested.encode()),
        Fault("malformed HTML: NUL bytes", _url("/news/malformed-nul"), ARCHIVED, page=nul.encode()),
        Fault("malformed HTML: tag soup", _url("/news/malformed-soup"), REJECTED, page=garbage.encode()),
    ]


def _network_faults() -> list[Fault]:
    return [
        Fault("HTTP 500/503 burst", _url("/news/error-burst"), ARCHIVED,
              {"sequence": [{"status": 503}, {"status": 500}, {}]}),
        Fault("HTTP 503 every time", _url("/news/error-always"), REFUSED, {"status": 503}),
        Fault("HTTP 429 with Retry-After", _url("/news/rate-limited"), ARCHIVED,
              {"sequence": [{"status": 429, "headers": {"Retry-After": "2"}}, {}]}),
        Fault("connection reset once", _url("/news/reset-once"), ARCHIVED, {"sequence": [{"fault": "reset"}, {}]}),
        Fault("connection reset every time", _url("/news/reset-always"), REFUSED, {"fault": "reset"}),
        Fault("read timeout once", _url("/news/stall-once"), ARCHIVED, {"sequence": [{"stall": STALL}, {}]}),
        Fault("slow drip within the timeout", _url("/news/slow-drip"), ARCHIVED, {"drip": 0.3, "pieces": 5}),
        Fault("slow drip past the timeout", _url("/news/endless-drip"), REFUSED, {"drip": 1.0, "pieces": 20}),
        Fault("truncated body once", _url("/news/truncated-once"), ARCHIVED,
              {"sequence": [{"truncate": 0.5}, {}]}),
        Fault("lying Content-Length every time", _url("/news/truncated-always"), REFUSED, {"truncate": 0.6}),
    ]


def _size_faults() -> list[Fault]:
    html = b"<!doctype html><html><body><article><h1>Bomb</h1><p>" + b"\0" * BOMB_SIZE
    huge = _page("Huge page", [_FILLER] * 40_000).encode()  # about 6 MB, over the 4 MB cap
    return [
        Fault("gzip bomb", _url("/news/gzip-bomb"), REFUSED, {"precompressed": "gzip"}, gzip.compress(html, 9)),
        Fault("brotli bomb", _url("/news/brotli-bomb"), REFUSED, {"precompressed": "br"},
              brotli.compress(html, quality=5)),
        Fault("page over the size cap", _url("/news/huge-page"), REFUSED, {"encoding": "identity"}, huge),
    ]


def _link_faults() -> list[Fault]:
    return [
        Fault("redirect loop", _url("/news/loop-a"), REFUSED,
              {"status": 302, "headers": {"Location": "/news/loop-b"}}, b""),
        Fault("redirect loop (second hop)", _url("/news/loop-b"), REFUSED,
              {"status": 302, "headers": {"Location": "/news/loop-a"}}, b"", linked=False),
        Fault("off-domain redirect", _url("/news/moved-away"), REFUSED,
              {"status": 301, "headers": {"Location": _url("/news/elsewhere", ELSEWHERE_HOST)}}, b""),
        Fault("off-domain redirect (target)", _url("/news/elsewhere", ELSEWHERE_HOST), NOT_FETCHED, linked=False),
        # a retried request is dont_filter in Scrapy, and its redirect inherits that: the offsite check must hold
        Fault("off-domain redirect after a retry", _url("/news/moved-after-error"), REFUSED,
              {"sequence": [{"status": 503}, {"status": 301, "headers": {
                  "Location": _url("/news/elsewhere-after-retry", ELSEWHERE_HOST)}}]}, b""),
        Fault("off-domain redirect after a retry (target)", _url("/news/elsewhere-after-retry", ELSEWHERE_HOST),
              NOT_FETCHED, linked=False),
        Fault("robots.txt disallow", _url("/private/news/secret"), NOT_FETCHED),
        Fault("robots.txt unreachable", _url("/news/behind-broken-robots", NO_ROBOTS_HOST), NOT_FETCHED),
    ]


def _xml_faults() -> list[Fault]:
    """Articles that only hostile feeds and sitemaps link to: found despite the hostility."""
    return [
        Fault("XML bomb in a feed", _url("/news/from-laughs-feed"), ARCHIVED, linked=False),
        Fault("external entities in a feed", _url("/news/from-xxe-feed"), ARCHIVED, linked=False),
        Fault("XML bomb in a sitemap", _url("/news/from-laughs-sitemap"), ARCHIVED, linked=False),
        Fault("external entities in a sitemap", _url("/news/from-xxe-sitemap"), ARCHIVED, linked=False),
        Fault("sitemap-index cycle", _url("/news/from-cycle"), ARCHIVED, linked=False),
        Fault("enormous feed", _url("/news/from-enormous-feed"), ARCHIVED, linked=False),
    ]


@cache
def all_faults() -> list[Fault]:
    """Every fault, built on first use (the bombs take a second and a few hundred MB to make)."""
    return (_network_faults() + _size_faults() + _charset_faults() + _malformed_faults() + _link_faults()
            + _xml_faults())

#: The discovery documents the fault outlet declares, and what each is.
FEEDS = {"laughs": "XML bomb", "xxe": "external entities", "enormous": f"{ENORMOUS_FEED_ITEMS:,} items"}
SITEMAPS = {"laughs": "XML bomb", "xxe": "external entities", "index-a": "index cycle a -> b -> a"}

_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 or "")) * 10}">' for i in range(1, 10))
           + "]>")
_XXE = (f'<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">'
        f'<!ENTITY remote SYSTEM "https://{ELSEWHERE_HOST}/xxe">'
        f'<!ENTITY % param SYSTEM "https://{ELSEWHERE_HOST}/dtd"> %param;]>')


def _rss(doctype: str, items: list[tuple[str, str, datetime]]) -> str:
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><pubDate>{format_datetime(when)}</pubDate></item>"
        for link, title, when in items
    )
    channel = f"<channel><title>Faults</title>{entries}</channel>"
    return f'<?xml version="1.0" encoding="utf-8"?>{doctype}<rss version="2.0">{channel}</rss>'


def _urlset(doctype: str, urls: list[str], index: bool = False) -> str:
    tag, entry = ("sitemapindex", "sitemap") if index else ("urlset", "url")
    entries = "".join(f"<{entry}><loc>{url}</loc></{entry}>" for url in urls)
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{doctype}'
        f'<{tag} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</{tag}>'
    )


def write_fault_site(root: Path) -> list[Fault]:
    """Write outlet ``faults`` under ``root`` (site files and ``web.json``); return :func:`all_faults`."""
    outlet = root / "faults"
    quirks: dict[str, dict[str, Any]] = {}
    now = datetime.now(UTC)

    def put(url: str, content: bytes | str, quirk: dict[str, Any] | None = None) -> None:
        host, _, path = url.split("://", 1)[1].partition("/")
        file = outlet / "web" / host / (path or "index.html")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(content.encode() if isinstance(content, str) else content)
        if quirk:
            quirks[f"{host}/{path}"] = quirk

    faults = all_faults()
    for n, fault in enumerate(faults):
        page = fault.page if fault.page is not None else _article(fault.url.rsplit("/", 1)[1], n)
        put(fault.url, page, fault.quirk)
    links = "".join(f'<li><a href="{f.url}">{f.kind}</a></li>' for f in faults if f.linked)
    put(_url("/"), f"<!doctype html><title>Faults</title><ul>{links}</ul>")
    put(_url("/robots.txt"), "User-agent: *\nDisallow: /private/\n")
    put(_url("/robots.txt", NO_ROBOTS_HOST), "", {"fault": "reset"})
    put(_url("/robots.txt", ELSEWHERE_HOST), "User-agent: *\nAllow: /\n")

    put(_url("/feeds/laughs.xml"), _rss(_LAUGHS, [(_url("/news/from-laughs-feed"), "&lol9;", now)]))
    put(_url("/feeds/xxe.xml"), _rss(_XXE, [(_url("/news/from-xxe-feed"), "&secret;&remote;", now)]))
    old = now - timedelta(days=3650)
    enormous = [(_url(f"/news/old-{i}"), f"Old story {i}", old) for i in range(ENORMOUS_FEED_ITEMS - 1)]
    put(_url("/feeds/enormous.xml"), _rss("", [*enormous, (_url("/news/from-enormous-feed"), "New", now)]))
    put(_url("/sitemaps/laughs.xml"), _urlset(_LAUGHS, [_url("/news/from-laughs-sitemap"), "&lol9;"]))
    put(_url("/sitemaps/xxe.xml"), _urlset(_XXE, [_url("/news/from-xxe-sitemap"), "&secret;"]))
    put(_url("/sitemaps/index-a.xml"), _urlset("", [_url("/sitemaps/index-b.xml")], index=True))
    put(
        _url("/sitemaps/index-b.xml"),
        _urlset("", [_url("/sitemaps/index-a.xml"), _url("/sitemaps/cycle.xml")], index=True),
    )
    put(_url("/sitemaps/cycle.xml"), _urlset("", [_url("/news/from-cycle")]))
    (outlet / "web.json").write_text(json.dumps(quirks, indent=1), "utf-8")
    return faults
