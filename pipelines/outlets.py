"""Which outlet a capture belongs to, and what extraction needs to know about it.

One lookup for every path: the crawl (a request's outlet), the frontier workers,
replay and the offline re-crawl all ask :meth:`Outlets.of`. What the crawl that
wrote a capture declared (the request's outlet, a WARC's ``isPartOf``) wins when
it names a known outlet; otherwise the capture belongs to the outlet whose
``allowed_domains`` cover its host, whoever wrote the WARC (Common Crawl,
browsertrix, ``wget --warc-file``); otherwise to :data:`OTHER`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from pipelines.extract import ExtractionHints

#: Where captures of no known outlet go.
OTHER = "other"


@dataclass(frozen=True)
class OutletProfile:
    """An outlet as the library sees it (the crawler builds these from the outlet declarations)."""

    name: str
    site_name: str = ""  # how the outlet credits itself: the ``source`` of its own stories
    hints: ExtractionHints = ExtractionHints()
    domains: tuple[str, ...] = ()  # its allowed_domains: a host equal to one, or under one, is the outlet's


class Outlets:
    """The known outlets, looked up by name or by a URL's host."""

    def __init__(self, profiles: Iterable[OutletProfile] = ()) -> None:
        self._by_name = {profile.name: profile for profile in profiles}
        # longest domain first, so a subdomain declared by one outlet wins over its parent declared by another
        self._domains = sorted(((domain.lower().strip("."), profile) for profile in self._by_name.values()
                                for domain in profile.domains), key=lambda item: -len(item[0]))

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self):  # noqa: ANN204 - an iterator of names
        return iter(self._by_name)

    def get(self, name: str) -> OutletProfile | None:
        return self._by_name.get(name)

    def for_host(self, url: str) -> OutletProfile | None:
        """The outlet whose allowed domains cover the URL's host, if any."""
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
        for domain, profile in self._domains:
            if host == domain or host.endswith(f".{domain}"):
                return profile
        return None

    def of(self, url: str, declared: str = "") -> OutletProfile:
        """The outlet a capture of ``url`` belongs to (see the module docstring)."""
        if declared in self._by_name:
            return self._by_name[declared]
        return self.for_host(url) or OutletProfile(OTHER)
