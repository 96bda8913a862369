"""The Atom feed (RFC 4287) of changed articles: one entry per new version, newest first."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

ATOM = "http://www.w3.org/2005/Atom"
#: Characters XML 1.0 does not allow (archived text may hold them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: Any) -> str:
    return _NOT_XML.sub("", str(text or ""))


def timestamp(value: str | None) -> str:
    """An RFC 3339 date-time (Atom's) from a catalog date; now if there is none."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        moment = datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry_id(record_id: str) -> str:
    """The entry's permanent id: the capture's WARC-Record-ID (a ``urn:uuid:`` IRI), or a tag URI naming it."""
    inner = record_id.strip("<>")
    if re.fullmatch(r"urn:uuid:[0-9a-fA-F-]{36}", inner):
        return inner
    return "tag:newsarchive.invalid,2024:capture:" + re.sub(r"[^A-Za-z0-9._~-]", lambda m: f"%{ord(m[0]):02X}", inner)


def changes_feed(changes: list[dict[str, Any]], *, title: str, self_url: str, page_url: str) -> bytes:
    """The feed document. Each change has ``record_id``, ``outlet``, ``title``, ``url``, ``fetched``,
    ``version``, ``article_url`` (absolute), ``summary`` and ``text`` (the diff as plain text)."""
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: clean(v) for k, v in attributes.items()})
        if text is not None:
            element.text = clean(text)
        return element

    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", self_url)
    sub(feed, "title", title)
    sub(feed, "updated", timestamp(changes[0]["fetched"]) if changes else timestamp(None))
    sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    sub(feed, "link", rel="alternate", type="text/html", href=page_url)
    author = sub(feed, "author")
    sub(author, "name", "newsarchive reading room")
    sub(feed, "generator", "newsarchive reading room")
    for change in changes:
        entry = sub(feed, "entry")
        sub(entry, "id", entry_id(change["record_id"]))
        sub(entry, "title", f"{change['outlet']}: {change['title'] or change['url']} (version {change['version']})")
        sub(entry, "updated", timestamp(change["fetched"]))
        sub(entry, "link", rel="alternate", type="text/html", href=change["article_url"])
        sub(entry, "link", rel="related", href=change["url"])
        sub(entry, "category", term=change["outlet"])
        sub(entry, "summary", change["summary"], type="text")
        sub(entry, "content", change["text"], type="text")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8", xml_declaration=False)
