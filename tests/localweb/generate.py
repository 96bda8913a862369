"""Generated sites for the local outlet web: as many article pages as a test or benchmark needs."""

from __future__ import annotations

import gzip
import json
import random
import struct
import zlib
from collections.abc import Iterable
from pathlib import Path

from crawler.warc.records import WarcRecord, http_head, warc_record
from crawler.warc.writer import WarcFileWriter

BULK_HOST = "www.bulk.test"
STATIC_HOST = "cdn.bulk-static.test"  # the styled bulk site's CDN: another domain than the outlet's
_WORDS = (
    "government minister said talks week officials city report police court election market prices "
    "reuters agency statement council health school water energy border security vote budget"
).split()


def article_html(n: int, paragraphs: int = 12, url: str = "") -> str:
    """A synthetic article page of a few KB, different for every ``n`` (``url``: its canonical URL)."""
    rng = random.Random(n)
    body = "".join(
        "<p>" + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(30, 60))).capitalize() + ".</p>"
        for _ in range(paragraphs)
    )
    title = " ".join(rng.choice(_WORDS) for _ in range(8)).capitalize()
    return (
        "<!-- Synthetic fixture written for newsarchive tests; not any outlet's real HTML -->\n"
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
        f'<link rel=canonical href="{url or f"https://{BULK_HOST}/news/story-{n}"}"></head><body>'
        f'<nav><a href="/">Home</a></nav><article><h1>{title}</h1><p class=byline>By Dana Reyes</p>{body}</article>'
        "<footer>Bulk Test News</footer></body></html>"
    )


def news_article_html(title: str, paragraphs: list[str], author: str, published: str, site: str) -> str:
    """A synthetic article page the way news sites mark them up: JSON-LD, a byline, a time, an article."""
    data = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "datePublished": published,
            "author": {"@type": "Person", "name": author}}
    body = "".join(f"<p>{text}</p>" for text in paragraphs)
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title} | {site}</title>"
            f'<meta property="og:site_name" content="{site}">'
            f'<script type="application/ld+json">{json.dumps(data)}</script>'
            f'<meta property="article:published_time" content="{published}"></head><body>'
            f'<nav><a href="/">Home</a></nav><article><h1>{title}</h1><p class="byline">By {author}</p>'
            f'<time datetime="{published}">{published[:10]}</time>{body}</article></body></html>')


def write_bulk_site(root: Path, articles: int, hosts: int = 1) -> list[str]:
    """Write outlet ``bulk`` (see ``tests/outlets/bulk.py``) with ``articles`` pages; return their URLs.

    With ``hosts`` > 1 the articles are spread over that many hosts (``s<i>.bulk.test``), each with its
    robots.txt; the sitemap stays on ``www.bulk.test``.
    """
    names = [BULK_HOST] if hosts == 1 else [f"s{i}.bulk.test" for i in range(hosts)]
    site = root / "bulk" / "web" / BULK_HOST
    site.mkdir(parents=True, exist_ok=True)
    for name in {BULK_HOST, *names}:
        (root / "bulk" / "web" / name / "news").mkdir(parents=True, exist_ok=True)
        (root / "bulk" / "web" / name / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    urls = []
    for n in range(articles):
        host = names[n % hosts]
        (root / "bulk" / "web" / host / "news" / f"story-{n}").write_text(article_html(n))
        urls.append(f"https://{host}/news/story-{n}")
    entries = "".join(f"<url><loc>{url}</loc></url>" for url in urls)
    (site / "sitemap.xml").write_text(
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    )
    return urls


def write_styled_site(root: Path, articles: int, first: int = 0) -> list[str]:
    """Outlet ``bulk`` with page requisites: every article links one stylesheet (which imports another, and
    uses a web font and a background image) and one logo on a CDN host, a favicon, and a photo of its own.
    ``first``: the number of the first article (a later "run" adds articles to a site already written)."""
    web = root / "bulk" / "web"
    urls = write_bulk_site(root, first + articles)[first:]
    cdn = web / STATIC_HOST
    for folder in ("css", "fonts", "img"):
        (cdn / folder).mkdir(parents=True, exist_ok=True)
    (cdn / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    (cdn / "css" / "site.css").write_text(
        '@import url("type.css");\n'
        "body { margin: 0 auto; max-width: 46rem; color: #222; background: #fbfaf7 url(../img/paper.png); }\n"
        "nav { border-bottom: 4px solid #b00; } nav img { height: 40px; }\n")
    (cdn / "css" / "type.css").write_text(
        '@font-face { font-family: "Bulk Serif"; src: url("/fonts/serif.woff2") format("woff2"); }\n'
        'h1, p { font-family: "Bulk Serif", Georgia, serif; }\n')
    (cdn / "fonts" / "serif.woff2").write_bytes(b"wOF2" + random.Random(3).randbytes(2000))
    (cdn / "img" / "paper.png").write_bytes(png(8, 8, 0xF4))
    (cdn / "img" / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40">'
                                          '<text x="4" y="28" font-size="24" fill="#b00">BULK</text></svg>')
    (web / BULK_HOST / "favicon.ico").write_bytes(png(16, 16, 0xB0))
    (web / BULK_HOST / "images").mkdir(exist_ok=True)
    for url in urls:
        n = int(url.rsplit("-", 1)[1])
        page = web / BULK_HOST / "news" / f"story-{n}"
        head = (f'<link rel=stylesheet href="https://{STATIC_HOST}/css/site.css"><link rel=icon href="/favicon.ico">'
                f'<meta property="og:image" content="/images/story-{n}.png">')
        html = page.read_text().replace("</head>", head + "</head>").replace(
            '<nav><a href="/">Home</a></nav>',
            f'<nav><a href="/"><img src="https://{STATIC_HOST}/img/logo.svg" alt=""></a></nav>'
            f'<figure><img src="/images/story-{n}.png" width="640" height="360" alt=""></figure>')
        page.write_text(html)
        (web / BULK_HOST / "images" / f"story-{n}.png").write_bytes(png(64, 36, n % 256))
    return urls


def png(width: int, height: int, shade: int) -> bytes:
    """A valid grey PNG image of one shade."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([shade]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def write_warc(directory: Path, outlet: str, pages: Iterable[tuple[str, bytes]], filler_bytes: int = 0) -> Path:
    """One WARC in the crawler's own form: gzip-encoded article responses (``role: article``), each with its
    request and metadata records, then incompressible ``image/jpeg`` responses adding up to ``filler_bytes``."""
    writer = WarcFileWriter(directory, outlet, {"software": "newsarchive test data", "isPartOf": outlet},
                            max_size=1 << 62)
    for url, html in pages:
        writer.write(_exchange(url, gzip.compress(html, 6), "text/html; charset=utf-8", "gzip", "article"))
    rng = random.Random(7)
    for number in range(0, filler_bytes, 1 << 20):
        blob = rng.randbytes(min(1 << 20, filler_bytes - number))
        url = f"https://{BULK_HOST}/images/{number >> 20}.jpg"
        writer.write(_exchange(url, blob, "image/jpeg", "", "discovery"))
    path = writer.current_path
    writer.close()
    assert path is not None
    return path.with_name(path.name[: -len(".open")])


def _exchange(url: str, payload: bytes, content_type: str, encoding: str, role: str) -> list[WarcRecord]:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(payload)))]
    if encoding:
        headers.append(("Content-Encoding", encoding))
    head = http_head("HTTP/1.1 200 OK", headers)
    response = warc_record("response", url, head + payload, {}, payload_from=len(head), encoded=bool(encoding))
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    request_head = http_head(f"GET {path} HTTP/1.1", [("Host", url.split("/")[2])])
    request = warc_record("request", url, request_head, {"WARC-Concurrent-To": response.record_id},
                          payload_from=len(request_head))
    fields = f"role: {role}\r\ndiscoveredBy: sitemap\r\n".encode()
    metadata = warc_record("metadata", url, fields,
                           {"WARC-Refers-To": response.record_id, "WARC-Concurrent-To": response.record_id})
    return [response, request, metadata]
