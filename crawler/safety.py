"""Hostile links never reach the machine's own network.

Links, redirects and sitemap entries can point anywhere: at loopback, private
and link-local addresses, the cloud metadata service, or non-HTTP schemes. The
crawler fetches none of them: :class:`SafeTargetsMiddleware` refuses such URLs
before download (redirect targets included, since every request passes through
downloader middlewares), and :class:`PublicOnlyResolver` refuses host names that
resolve to such addresses. The only exception is the host of the explicit
``LOCAL_WEB_PROXY`` test setting, and only as the proxy.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

logger = logging.getLogger(__name__)

SCHEMES = {"http", "https"}
_LOCAL_NAMES = ("localhost", ".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


def unsafe_address(address: str) -> str:
    """Why an IP address must not be fetched from, or '' if it is a public one."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for reason in ("loopback", "link_local", "unspecified", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{reason}"):
            return reason.replace("_", "-")
    return "" if ip.is_global else "not-global"


def unsafe_target(url: str) -> str:
    """Why a URL must not be fetched ('' when it may): scheme, local names, non-public IP literals."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        return f"scheme-{parts.scheme.lower() or 'none'}"
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "no-host"
    if host == "localhost" or host.endswith(_LOCAL_NAMES):
        return "local-name"
    return unsafe_address(host)


class SafeTargetsMiddleware:
    """Downloader middleware: refuse requests to targets that are not on the public web."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SafeTargetsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        reason = unsafe_target(request.url)
        if reason:
            self.crawler.stats.inc_value(f"safety/blocked/{reason}")
            logger.warning("Refused to fetch %s: %s target", request.url, reason)
            raise IgnoreRequest(f"unsafe target ({reason})")


class PublicOnlyResolver(CachingThreadedResolver):
    """Scrapy's resolver, refusing names that resolve to non-public addresses (but the test proxy's)."""

    allowed: frozenset[str] = frozenset()

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> PublicOnlyResolver:
        resolver = super().from_crawler(crawler, reactor)
        proxy = crawler.settings.get("LOCAL_WEB_PROXY")
        resolver.allowed = frozenset({urlsplit(proxy).hostname or ""} if proxy else ())
        return resolver

    def getHostByName(self, name: str, timeout: Any = ()) -> Deferred[str]:  # noqa: N802 - Twisted's name
        return super().getHostByName(name, timeout).addCallback(self._refuse_private, name)

    def _refuse_private(self, address: str, name: str) -> str:
        reason = unsafe_address(address)
        if reason and name not in self.allowed:
            raise DNSLookupError(f"{name} resolves to a {reason} address ({address}): refused")
        return address
