"""Generated sites for the local outlet web: as many article pages as a test or benchmark needs."""

from __future__ import annotations

import random
from pathlib import Path

BULK_HOST = "www.bulk.test"
_WORDS = (
    "government minister said talks week officials city report police court election market prices "
    "reuters agency statement council health school water energy border security vote budget"
).split()


def article_html(n: int, paragraphs: int = 12) -> str:
    """A synthetic article page of a few KB, different for every ``n``."""
    rng = random.Random(n)
    body = "".join(
        "<p>" + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(30, 60))).capitalize() + ".</p>"
        for _ in range(paragraphs)
    )
    title = " ".join(rng.choice(_WORDS) for _ in range(8)).capitalize()
    return (
        "<!-- Synthetic fixture written for newsarchive tests; not any outlet's real HTML -->\n"
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
        f'<link rel=canonical href="https://{BULK_HOST}/news/story-{n}"></head><body>'
        f'<nav><a href="/">Home</a></nav><article><h1>{title}</h1><p class=byline>By Staff</p>{body}</article>'
        "<footer>Bulk Test News</footer></body></html>"
    )


def write_bulk_site(root: Path, articles: int) -> list[str]:
    """Write outlet ``bulk`` (see ``tests/outlets/bulk.py``) with ``articles`` pages; return their URLs."""
    site = root / "bulk" / "web" / BULK_HOST
    (site / "news").mkdir(parents=True, exist_ok=True)
    urls = [f"https://{BULK_HOST}/news/story-{n}" for n in range(articles)]
    (site / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    for n in range(articles):
        (site / "news" / f"story-{n}").write_text(article_html(n))
    entries = "".join(f"<url><loc>{url}</loc></url>" for url in urls)
    (site / "sitemap.xml").write_text(
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    )
    return urls
