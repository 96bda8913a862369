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
import re
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
#: An IPv4 number as the WHATWG URL standard reads one: hexadecimal ("0x7f"), octal ("0177") or decimal.
_IPV4_NUMBER = {16: re.compile(r"[0-9a-fA-F]*"), 8: re.compile(r"[0-7]*"), 10: re.compile(r"[0-9]+")}


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
    """Why a URL must not be fetched ('' when it may): scheme, local names, non-public IP literals (in every
    form a browser reads as one: "http://2130706433/", "http://0x7f.1/" are loopback), and hosts a browser
    refuses ("bad-host")."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        return f"scheme-{parts.scheme.lower() or 'none'}"
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "no-host"
    if host == "localhost" or host.endswith(_LOCAL_NAMES):
        return "local-name"
    if ":" in host:  # an IPv6 literal
        return unsafe_address(host)
    try:
        address = ipv4_host(host)
    except ValueError:
        return "bad-host"
    return unsafe_address(address) if address else ""


def ipv4_host(host: str) -> str | None:
    """The IPv4 address a browser reads in a host (``"127.1"``, ``"2130706433"``, ``"0x7f000001"``,
    ``"0177.0.0.1"`` are all 127.0.0.1), as the WHATWG URL standard parses hosts; ``None`` for a domain name.

    ``ValueError`` for a host that ends in a number but is no IPv4 address ("1.2.3.4.5", "example.123"):
    browsers refuse it as invalid.
    """
    parts = host.split(".")
    if len(parts) > 1 and not parts[-1]:
        parts.pop()
    last = parts[-1]
    if not (last.isascii() and last.isdigit()) and _ipv4_number(last) is None:
        return None  # a domain name
    numbers = [_ipv4_number(part) for part in parts]
    if len(parts) > 4 or None in numbers:
        raise ValueError(f"{host!r} ends in a number but is not an IPv4 address")
    *high, low = [number for number in numbers if number is not None]
    if any(number > 255 for number in high) or low >= 256 ** (4 - len(high)):
        raise ValueError(f"{host!r} is out of the IPv4 range")
    return str(ipaddress.IPv4Address(sum(number << 8 * (3 - index) for index, number in enumerate(high)) + low))


def _ipv4_number(part: str) -> int | None:
    """One dot-separated part of an IPv4 host as a number, or None when it is not one."""
    if not part:
        return None
    radix = 10
    if part[:2] in ("0x", "0X"):
        radix, part = 16, part[2:]
    elif len(part) > 1 and part[0] == "0":
        radix, part = 8, part[1:]
    if not _IPV4_NUMBER[radix].fullmatch(part):
        return None
    return int(part, radix) if part else 0


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
