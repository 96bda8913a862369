"""Page requisites: the files a browser loads to show a page as its reader saw it.

Found by parsing, as Heritrix and ``wget --page-requisites`` do, not by running the
page: stylesheets, scripts, icons, images (``img``, ``picture``, one ``srcset``
candidate: the one a desktop browser at 1x would load), ``og:image``, media
posters, and what stylesheets pull in (``@import``, fonts, background images), in
``<style>`` elements and ``style`` attributes too. Only ``http(s)`` URLs are kept
(``data:``, ``blob:``, ``javascript:`` and the like are skipped); a page or
stylesheet that cannot be parsed has no requisites, never an error.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from urllib.parse import urldefrag, urljoin, urlsplit

import tinycss2
from lxml import etree, html

logger = logging.getLogger(__name__)

#: The viewport width a requisite's image candidate is chosen for (CSS pixels; a desktop browser at 1x).
VIEWPORT_WIDTH = 1280

#: ``<link rel=...>`` values whose ``href`` the page needs to look as it did.
_LINK_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon",
              "preload", "modulepreload"}
_PRELOADED = {"style", "script", "font", "image", ""}  # preload's `as` values that are requisites
_META_IMAGES = {"og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"}
_SRCSET_CANDIDATE = re.compile(r"\s*([^\s,][^\s]*?)(?:,|\s+([^,]*)(?:,|$)|$)")
_SHOWN_IMAGE_TYPES = {"image/webp", "image/avif", "image/jpeg", "image/png", "image/gif", "image/svg+xml"}
_DESCRIPTOR = re.compile(r"^\s*(\d+(?:\.\d+)?)([wx])\s*$", re.IGNORECASE)


def page_requisites(page: bytes | str, url: str) -> list[str]:
    """The requisite URLs of an HTML page, in document order, each once, absolute and without fragment."""
    try:
        root = html.fromstring(page)
    except (etree.ParserError, ValueError) as error:
        logger.info("No requisites for %s: %s", url, error)
        return []
    base = _base_url(root, url)
    found: list[str] = []
    for element in root.iter(etree.Element):
        tag = element.tag if isinstance(element.tag, str) else ""
        found += _element_requisites(element, tag.lower(), base)
        if style := element.get("style"):
            found += css_requisites(style, base, declarations=True)
    return _absolute(found, base)


def css_requisites(css: bytes | str, url: str, declarations: bool = False) -> list[str]:
    """The URLs a stylesheet needs: its ``@import`` targets, fonts, background images (``declarations``: a
    ``style`` attribute's declaration list rather than a stylesheet)."""
    try:
        if declarations:
            tokens = tinycss2.parse_blocks_contents(css if isinstance(css, str) else css.decode("utf-8", "replace"))
        elif isinstance(css, bytes):
            tokens, _ = tinycss2.parse_stylesheet_bytes(css, skip_comments=True, skip_whitespace=True)
        else:
            tokens = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    except (ValueError, TypeError) as error:  # tinycss2 is forgiving: only undecodable input gets here
        logger.info("No requisites in the stylesheet %s: %s", url, error)
        return []
    return _absolute(list(_css_urls(tokens)), url)


def srcset_candidate(srcset: str, sizes: str = "") -> str | None:
    """The one ``srcset`` candidate a desktop browser at 1x would load, or None for a malformed or empty set.

    Width descriptors: the narrowest image at least as wide as the slot (the ``sizes`` fallback length in
    ``px`` or ``vw``, else the viewport), or the widest there is; density descriptors: ``1x``, else the least.
    """
    candidates: list[tuple[str, float, str]] = []  # (url, value, unit)
    for match in _SRCSET_CANDIDATE.finditer(srcset):
        candidate, descriptor = match.group(1).rstrip(","), (match.group(2) or "").strip()
        if not candidate:
            continue
        if not descriptor:
            candidates.append((candidate, 1.0, "x"))
        elif described := _DESCRIPTOR.match(descriptor):
            candidates.append((candidate, float(described.group(1)), described.group(2).lower()))
    widths = [(value, candidate) for candidate, value, unit in candidates if unit == "w" and value > 0]
    if widths:
        slot = _slot_width(sizes)
        wide_enough = [item for item in widths if item[0] >= slot]
        return min(wide_enough)[1] if wide_enough else max(widths)[1]
    densities = [(value, candidate) for candidate, value, unit in candidates if unit == "x" and value > 0]
    exact = [candidate for value, candidate in densities if value == 1.0]
    return exact[0] if exact else (min(densities)[1] if densities else None)


def _element_requisites(element: etree._Element, tag: str, base: str) -> list[str]:
    get = element.get
    if tag == "link":
        rels = set((get("rel") or "").lower().split())
        if rels & _LINK_RELS and ("preload" not in rels or (get("as") or "").lower() in _PRELOADED):
            return [get("href") or ""]
    elif tag == "img":
        picture = next((a for a in element.iterancestors("picture", "PICTURE")), None)
        chosen = _picture_choice(picture) if picture is not None else None
        return [chosen or srcset_candidate(get("srcset") or "", get("sizes") or "") or get("src") or ""]
    elif tag in {"script", "audio", "embed"}:
        return [get("src") or ""]
    elif tag == "video":
        return [get("poster") or ""]
    elif tag == "input" and (get("type") or "").lower() == "image":
        return [get("src") or ""]
    elif tag == "meta" and (get("property") or get("name") or "").lower() in _META_IMAGES:
        return [get("content") or ""]
    elif tag == "style":
        return css_requisites(element.text or "", base)
    return []


def _css_urls(nodes: list) -> Iterator[str]:
    """Every ``url()`` among CSS component values, at any depth, and each ``@import`` target."""
    for node in nodes:
        kind = node.type
        if kind == "url":
            yield node.value
        elif kind == "function" and node.lower_name == "url":
            yield from (token.value for token in node.arguments[:1] if token.type == "string")
        elif kind == "function" and node.lower_name in {"image-set", "-webkit-image-set"}:
            yield from _import_target(node.arguments)  # its first image (a string or a url())
        elif kind == "function":  # var() fallbacks, ...
            yield from _css_urls(node.arguments)
        elif kind == "at-rule" and node.lower_at_keyword == "import":
            yield from _import_target(node.prelude)
        elif kind in {"at-rule", "qualified-rule"} and node.content is not None:
            yield from _css_urls(node.content)
        elif kind == "declaration":
            yield from _css_urls(node.value)
        elif kind in {"() block", "[] block", "{} block"}:
            yield from _css_urls(node.content)


def _import_target(prelude: list) -> Iterator[str]:
    """The first URL of ``@import "a.css"``, ``@import url(a.css)`` or ``image-set("a.png" 1x, ...)``."""
    for token in prelude:
        if token.type in {"string", "url"}:
            yield token.value
            return
        if token.type == "function" and token.lower_name == "url":
            yield from _css_urls([token])
            return


def _absolute(found: list[str], base: str) -> list[str]:
    urls: dict[str, None] = {}
    for reference in found:
        reference = reference.strip()
        if not reference or reference.startswith("#"):
            continue
        try:
            absolute = urldefrag(urljoin(base, reference)).url
            parts = urlsplit(absolute)
        except ValueError:  # "http://[::1" and the like
            continue
        if parts.scheme in {"http", "https"} and parts.hostname:
            urls[absolute] = None
    return list(urls)


def _base_url(root: etree._Element, url: str) -> str:
    for base in root.iter("base"):
        if href := (base.get("href") or "").strip():
            try:
                return urljoin(url, href)
            except ValueError:
                break
    return url


def _picture_choice(picture: etree._Element) -> str | None:
    """A ``<picture>``'s first ``<source>`` a desktop browser would take (its media query holds, its type shows)."""
    for source in picture.iter("source"):
        media_type = (source.get("type") or "").lower()
        if media_type and media_type not in _SHOWN_IMAGE_TYPES:
            continue
        if _media_matches(source.get("media") or ""):
            return srcset_candidate(source.get("srcset") or "", source.get("sizes") or "")
    return None


def _media_matches(media: str) -> bool:
    """Whether a media query holds on the desktop viewport; only ``all``/``screen`` and min/max-width are
    understood: anything else is taken not to (the ``<img>`` is the fallback a browser would also have)."""
    media = media.strip().lower()
    if media in {"", "all", "screen"}:
        return True
    for part in re.split(r"\s+and\s+", media):
        part = part.strip()
        if part in {"all", "screen", "only screen"}:
            continue
        bound = re.fullmatch(r"\(\s*(min|max)-width\s*:\s*(\d+(?:\.\d+)?)(px|em|rem)\s*\)", part)
        if not bound:
            return False
        width = float(bound.group(2)) * (16 if bound.group(3) != "px" else 1)
        if (bound.group(1) == "min" and VIEWPORT_WIDTH < width) or (bound.group(1) == "max" and VIEWPORT_WIDTH > width):
            return False
    return True


def _slot_width(sizes: str) -> float:
    """The width of an image's slot: the last (media-less) length of ``sizes``, else the viewport."""
    fallback = sizes.rsplit(",", 1)[-1].strip().lower()
    if match := re.fullmatch(r"(\d+(?:\.\d+)?)(px|vw)", fallback):
        value = float(match.group(1))
        return value if match.group(2) == "px" else VIEWPORT_WIDTH * value / 100
    return VIEWPORT_WIDTH
