"""Shared by the reading room's tests: an archive made by real crawls, and ``scrapy serve`` as a real process.

:func:`build_archive` crawls outlets of the local outlet web with ``scrapy crawlall`` (so the run history has
runs and logs), and the generated outlet ``bulk`` twice: between the crawls one article is edited (headline,
byline and a paragraph: the second crawl, revisiting, makes it version 2; its byline lost, the run is flagged
degraded) and one article carries hostile markup as text in its headline and body.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO, free_port, wait_for_port
from tests.localweb import FIXTURES, LOCAL_CRAWL_SETTINGS, LocalWeb
from tests.localweb.generate import BULK_HOST, article_html, write_bulk_site

OUTLETS = ("almayadeen", "ndtv", "axios", "inkl", "jns")
#: Crawled after the other outlets: the outlet whose write-up of the seed story the others credit (Al Mayadeen's
#: rewrite and inkl's copy credit Axios). The catalog meets the rewrites first and the write-up they credit last,
#: the order a crawl of several outlets cannot rule out: story assignment must join them when Axios comes.
CREDITED_LAST = ("axios",)
# the bulk outlet: revisits due a second after a capture; a baseline after one run of one page (the degraded flag)
BULK_SETTINGS = {"SPIDER_MODULES": "tests.outlets", "REVISIT_AFTER": "1s,1s", "HEALTH_MIN_RUNS": "1",
                 "HEALTH_MIN_PAGES": "1"}
EDITED = f"https://{BULK_HOST}/news/story-2"
HOSTILE = f"https://{BULK_HOST}/news/story-3"
EDITED_HEADLINE_PREFIX = "Updated: "
EDITED_PARAGRAPH = "Late on Tuesday the council reversed its decision after a second vote."
SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(1)>"
HOSTILE_PARAGRAPH = f"Officials said {IMAGE} the vote would go ahead {SCRIPT} on Thursday as planned."


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def hostile_article(n: int) -> str:
    """A bulk article whose headline and first paragraph hold markup as text (as a page shows ``&lt;...``)."""
    html = article_html(n)
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    headline = f"{SCRIPT} {title} {IMAGE}"
    return (html.replace(f"<title>{title}</title>", f"<title>{_escaped(headline)}</title>")
                .replace(f"<h1>{title}</h1>", f"<h1>{_escaped(headline)}</h1>")
                .replace("<p class=byline>By Dana Reyes</p>",
                         f"<p class=byline>By Dana Reyes</p><p>{_escaped(HOSTILE_PARAGRAPH)}</p>"))


def edited_article(n: int) -> str:
    """The article as edited after its first capture: headline prefixed, byline gone, one paragraph added."""
    return (article_html(n).replace("<h1>", f"<h1>{EDITED_HEADLINE_PREFIX}")
            .replace("<p class=byline>By Dana Reyes</p>", f"<p>{EDITED_PARAGRAPH}</p>"))


def crawlall(archive: Path, web: LocalWeb, outlets: tuple[str, ...], settings: dict[str, str] | None = None,
             jobs: int = 1) -> subprocess.CompletedProcess:
    """``scrapy crawlall`` against the local web: every run in the run history, with its log."""
    merged = {**LOCAL_CRAWL_SETTINGS, "LOCAL_WEB_PROXY": web.proxy_url, "ARCHIVE_ROOT": str(archive),
              **(settings or {})}
    command = [sys.executable, "-m", "scrapy", "crawlall", *outlets, "--jobs", str(jobs)]
    for name, value in merged.items():
        command += ["-s", f"{name}={value}"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("http_proxy", None), env.pop("https_proxy", None)
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=180, env=env)


def build_archive(archive: Path, outlets: tuple[str, ...] = OUTLETS) -> None:
    """Crawl the bulk outlet, then ``outlets`` (the origins of the seed story first, then the others at the same
    time, into one SQLite catalog, as the service does), then the bulk outlet again (its article edited meanwhile)
    into ``archive``; no crawl may log an error."""
    site = archive.parent / f"{archive.name}-site"
    write_bulk_site(site, 5)
    pages = site / "bulk" / "web" / BULK_HOST / "news"
    (pages / "story-3").write_text(hostile_article(3), "utf-8")
    with LocalWeb([FIXTURES, site]) as web:
        done = [crawlall(archive, web, ("bulk",), BULK_SETTINGS)]
        (pages / "story-2").write_text(edited_article(2), "utf-8")
        started = time.monotonic()
        for batch in ([o for o in outlets if o not in CREDITED_LAST], [o for o in outlets if o in CREDITED_LAST]):
            if batch:
                done.append(crawlall(archive, web, tuple(batch), jobs=len(batch)))
        time.sleep(max(0.0, 1.2 - (time.monotonic() - started)))  # REVISIT_AFTER
        done.append(crawlall(archive, web, ("bulk",), BULK_SETTINGS))
    for crawl in done:
        assert crawl.returncode == 0, crawl.stdout[-3000:] + crawl.stderr[-3000:]
    for log in archive.glob("*/logs/crawl-*.log"):
        errors = [line for line in log.read_text("utf-8", errors="replace").splitlines() if "] ERROR: " in line]
        assert not errors, (log, errors[:3])


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> dict:
        return json.loads(self.body)


class ReadingRoom:
    """``python -m scrapy serve`` as a subprocess on a free port; its output goes to ``log``."""

    def __init__(self, archive: Path, *args: str, settings: dict[str, str] | None = None,
                 env: dict[str, str] | None = None, host: str = "127.0.0.1") -> None:
        self.port = free_port()
        self.archive = archive
        self.log = archive.parent / f"serve-{self.port}.log"
        command = [sys.executable, "-m", "scrapy", "serve", "--port", str(self.port), *args,
                   "-s", f"ARCHIVE_ROOT={archive}"]
        for name, value in (settings or {}).items():
            command += ["-s", f"{name}={value}"]
        if host != "127.0.0.1":
            command += ["--host", host]
        self.command = command
        self.env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        self.process: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ReadingRoom:
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(self.command, cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for_port(self.port, timeout=60)
        except TimeoutError:
            self.__exit__()
            raise AssertionError(f"scrapy serve did not start: {self.output()[-3000:]}") from None
        return self

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self) -> str:
        return self.log.read_text("utf-8", errors="replace") if self.log.exists() else ""

    def get(self, path: str, headers: dict[str, str] | None = None, follow: bool = True) -> Answer:
        """One GET; an HTTP error is an answer too (its status and body)."""
        request = urllib.request.Request(self.base + path, headers=headers or {})
        opener = urllib.request.build_opener(*([] if follow else [_NoRedirect()]))
        try:
            with opener.open(request, timeout=60) as answer:
                return Answer(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201 - urllib's signature
        return None
