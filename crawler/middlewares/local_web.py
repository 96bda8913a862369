"""Send every request through the local outlet web (tests, demo and benchmarks only).

The local web is an HTTP proxy on 127.0.0.1 that serves fixture sites under the
outlets' real host names, so URLs, robots.txt and WARC target URIs stay the
real ones. Nothing reaches it unless ``LOCAL_WEB_PROXY`` is set explicitly.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class LocalWebProxyMiddleware:
    def __init__(self, proxy_url: str) -> None:
        self.proxy_url = proxy_url

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LocalWebProxyMiddleware:
        proxy_url = crawler.settings.get("LOCAL_WEB_PROXY")
        if not proxy_url:
            raise NotConfigured  # off unless asked for: nothing to report
        return cls(proxy_url)

    def process_request(self, request: Request) -> None:
        request.meta["proxy"] = self.proxy_url
