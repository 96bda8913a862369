"""The one archived-response type: what was fetched, and where the archive holds it.

Every part of the service passes a :class:`Capture`: the crawl (the WARC archiver
makes one for each fetch it writes), replay (the WARC reader makes one for each
record it reads), the offline re-crawl and the local test web (which answer from
WARCs). The payload is kept as archived, possibly still content-encoded:
:meth:`Capture.body` decodes it, with a size cap, so every reader undoes the same
encodings the same way (:mod:`pipelines.payload`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from pipelines.payload import MAX_PAYLOAD, decode_payload

#: Media types of pages worth trying as articles when nothing else says what a response is.
HTML_MEDIA_TYPES = ("text/html", "application/xhtml+xml")
#: Roles a crawl gives its fetches (the ``role`` field of its metadata records).
ARTICLE = "article"
REQUISITE = "requisite"  # a page requisite: a stylesheet, image, font or script a page needs (pipelines.requisites)


@dataclass(frozen=True)
class WarcLocation:
    """Where a record lives in the archive: enough to read it back with one seek, and to name it."""

    file: str  # the WARC file's name (inside a WACZ: ``<package>!<warc>``)
    offset: int
    length: int
    ordinal: int  # how many records of the same type precede it in its file
    record_id: str
    date: str = ""  # WARC-Date
    payload_digest: str = ""
    revisit_of: str = ""  # a revisit record: the WARC-Record-ID of the capture holding its payload

    @property
    def is_revisit(self) -> bool:
        return bool(self.revisit_of)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Capture:
    """One archived HTTP response, frozen: the same object whoever made it (crawl, replay, re-crawl)."""

    url: str
    status: int
    headers: Mapping[str, str]  # lower-case names; a repeated header's values joined with ", "
    payload: bytes = field(repr=False)  # as archived: possibly content-encoded (empty for a revisit record)
    location: WarcLocation | None = None  # None for a page that is in no archive (evaluation, a test)
    reason: str = ""  # the HTTP reason phrase
    outlet: str = ""  # the outlet the crawl that wrote it declared (warcinfo isPartOf, the request), if any
    role: str | None = None  # what the crawl fetched it as (article, discovery, robots); None: not one of ours
    redirected_from: tuple[str, ...] = ()  # the URLs that redirected here, first to last
    refers_to_url: str = ""  # a revisit record: the URL of the capture holding its payload

    def __post_init__(self) -> None:
        if not all(name.islower() for name in self.headers):
            object.__setattr__(self, "headers", {name.lower(): value for name, value in self.headers.items()})

    @classmethod
    def of_page(cls, url: str, html: bytes | str, content_type: str = "text/html; charset=utf-8") -> Capture:
        """A page that is in no archive (a file, a test corpus page)."""
        payload = html.encode("utf-8") if isinstance(html, str) else html
        return cls(url, 200, {"content-type": content_type}, payload)

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def is_revisit(self) -> bool:
        return self.location is not None and self.location.is_revisit

    @property
    def date(self) -> str:
        return self.location.date if self.location is not None else ""

    def body(self, max_size: int = MAX_PAYLOAD) -> bytes:
        """The payload as a browser sees it (chunked framing and Content-Encoding undone).

        Raises :class:`~pipelines.payload.PayloadTooLarge` past ``max_size`` bytes, ``ValueError`` when
        the encoding cannot be undone.
        """
        return decode_payload(self.payload, self.headers, max_size)

    def without_payload(self) -> Capture:
        """The same capture minus its payload: what is kept while the payload travels elsewhere."""
        return replace(self, payload=b"")


def warc_datetime(date: str) -> datetime | None:
    """A WARC-Date (``2026-12-01T07:44:30.123456Z``, any ISO 8601 precision) as an aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(date.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
