"""Hostile links: loopback, private, link-local and metadata addresses and other schemes are never fetched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError

from crawler.middlewares.offsite import StrictOffsiteMiddleware
from crawler.safety import PublicOnlyResolver, unsafe_target
from crawler.spiders.ndtv import NdtvSpider
from tests.conftest import run_crawl
from tests.localweb import LocalWeb
from tests.localweb.generate import article_html
from tests.outlets.hostile import HOST

HOSTILE = [
    "http://127.0.0.1:8080/news/loopback",
    "http://localhost/news/local-name",
    "http://169.254.169.254/news/metadata",
    "http://10.0.0.1/news/private",
    "http://[::1]/news/loopback-six",
    "http://2130706433/news/numeric", "http://0x7f000001/news/hex", "http://127.1/news/short",
]


@pytest.mark.parametrize(("url", "reason"), [
    ("https://www.example.com/news", ""),
    ("http://127.0.0.1/", "loopback"), ("http://127.1.2.3:8000/x", "loopback"), ("http://[::1]/", "loopback"),
    ("http://10.1.2.3/", "private"), ("http://192.168.0.1/", "private"), ("http://172.16.5.4/", "private"),
    ("http://169.254.169.254/latest/meta-data", "link-local"), ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://0.0.0.0/", "unspecified"), ("http://localhost:8080/", "local-name"),
    ("http://metadata.google.internal/", "local-name"), ("http://printer.local/", "local-name"),
    ("file:///etc/passwd", "scheme-file"), ("ftp://example.com/x", "scheme-ftp"), ("gopher://x/", "scheme-gopher"),
    # numeric forms of an IPv4 address, as browsers read hosts (WHATWG URL standard)
    ("http://2130706433/", "loopback"), ("http://0x7f000001/", "loopback"), ("http://127.1/", "loopback"),
    ("http://0177.0.0.1/", "loopback"), ("http://0x7F.0.0.1./", "loopback"), ("http://10.1/", "private"),
    ("http://0xa9.0xfe.0xa9.0xfe/latest", "link-local"), ("http://3232235521/", "private"),
    ("http://0/", "unspecified"), ("http://0x5db8d822/", ""), ("http://1.2.3.4.5/", "bad-host"),
    ("http://example.123/", "bad-host"), ("http://256.1.1.1/", "bad-host"), ("http://4294967296/", "bad-host"),
    ("http://08.0.0.1/", "bad-host"), ("http://www.0x7f.example/", ""), ("http://1.example/", ""),
])
def test_unsafe_targets(url: str, reason: str) -> None:
    assert unsafe_target(url) == reason


def test_names_resolving_to_private_addresses_are_refused() -> None:
    resolver = PublicOnlyResolver.__new__(PublicOnlyResolver)
    resolver.allowed = frozenset({"127.0.0.1"})
    assert resolver._refuse_private("93.184.216.34", "www.example.com") == "93.184.216.34"
    assert resolver._refuse_private("127.0.0.1", "127.0.0.1") == "127.0.0.1"  # the test proxy itself
    for address in ("127.0.0.1", "10.0.0.8", "169.254.169.254"):
        with pytest.raises(DNSLookupError):
            resolver._refuse_private(address, "rebinding.example.com")


def test_a_crawl_follows_none_of_them(tmp_path: Path) -> None:
    site = tmp_path / "site"
    web_root = site / "hostile" / "web" / HOST
    (web_root / "news").mkdir(parents=True)
    (web_root / "news" / "fine").write_text(article_html(1))
    links = "".join(f'<a href="{url}">x</a>' for url in [*HOSTILE, "/news/fine", "/news/moved",
                                                          "file:///etc/passwd"])
    (web_root / "index.html").write_text(f"<html><body>{links}</body></html>")
    quirks = {f"{HOST}/news/moved": {"status": 302, "headers": {"Location": "http://127.0.0.1:9/news/redirected"}}}
    (site / "hostile" / "web.json").write_text(json.dumps(quirks))
    with LocalWeb(site) as web:
        crawl = run_crawl("hostile", tmp_path / "archive", web, {"SPIDER_MODULES": "tests.outlets"})
        fetched = {served.url for served in web.served}
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert [item["url"] for item in crawl.items] == [f"https://{HOST}/news/fine"]
    assert fetched <= {f"{HOST}/", f"{HOST}/robots.txt", f"{HOST}/news/fine", f"{HOST}/news/moved"}
    for reason in ("loopback", "local-name", "link-local", "private"):
        assert f"'safety/blocked/{reason}'" in crawl.log
    assert "Refused to fetch http://127.0.0.1:9/news/redirected: loopback target" in crawl.log
    for numeric in ("http://2130706433/news/numeric", "http://0x7f000001/news/hex", "http://127.1/news/short"):
        assert f"Refused to fetch {numeric}: loopback target" in crawl.log  # at once: no lookup, no retry
    assert "DNSLookupError" not in crawl.log and "Retrying" not in crawl.log


def test_off_domain_stays_off_limits_for_retries_and_frontier_workers() -> None:
    """Retries are ``dont_filter`` in Scrapy; a frontier worker is one spider with no ``allowed_domains``."""
    crawler = get_crawler(settings_dict={})
    worker = scrapy.Spider(name="frontier")
    worker.outlets = {"ndtv": NdtvSpider()}
    crawler.spider = worker
    middleware = StrictOffsiteMiddleware.from_crawler(crawler)
    middleware.spider_opened(worker)
    middleware.process_request(scrapy.Request("https://www.ndtv.com/world-news/x", meta={"outlet": "ndtv"}))
    for request in (scrapy.Request("https://www.elsewhere.example/x", meta={"outlet": "ndtv"}),
                    scrapy.Request("https://www.elsewhere.example/x", meta={"outlet": "ndtv"}, dont_filter=True)):
        with pytest.raises(IgnoreRequest, match="offsite"):
            middleware.process_request(request)
    middleware.process_request(scrapy.Request("https://www.elsewhere.example/x",
                                              meta={"outlet": "ndtv", "allow_offsite": True}))
