"""Page requisites: the files a browser loads to show a page as its reader saw it.

Found by parsing, as Heritrix and ``wget --page-requisites`` do, not by running
the page (lxml for HTML; CSS by one pattern, see :func:`css_requisites`):
stylesheets, scripts, icons, images (``img``, ``picture``, one ``srcset``
candidate: the one a desktop browser at 1x would load, and the image a lazy-loading
script keeps in ``data-src``), SVG sprites, ``og:image``, media posters, and what
stylesheets pull in (``@import``, fonts, background images), in
``<style>`` elements and ``style`` attributes too. Frames (``iframe``: embedded posts,
players, ads) are pages of their own and not fetched. Only ``http(s)`` URLs are kept
(``data:``, ``blob:``, ``javascript:`` and the like are skipped); a page or
stylesheet that cannot be parsed has no requisites, never an error.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree, html

logger = logging.getLogger(__name__)

#: The viewport width a requisite's image candidate is chosen for (CSS pixels; a desktop browser at 1x).
VIEWPORT_WIDTH = 1280

#: ``<link rel=...>`` values whose ``href`` the page needs to look as it did.
_LINK_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon",
              "preload", "modulepreload"}
_PRELOADED = {"style", "script", "font", "image", ""}  # preload's `as` values that are requisites
_META_IMAGES = {"og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"}
#: A srcset candidate as HTML parses it: a URL is a run of non-spaces (commas inside it are its own: "w_400,h_300"),
#: a URL ending in a comma has no descriptors, else they run to the next comma.
_SRCSET_CANDIDATE = re.compile(r"[\s,]*(\S+)(?:(?<=,)|[ \t\n\r\f]*([^,]*),?)")
#: CSS, as far as requisites go: comments and strings say nothing; url(...), "..." after @import, image-set(...).
_CSS_TOKENS = re.compile(r"""
    /\*.*?(?:\*/|\Z)
  | @font-face\s*\{(?P<font_face>[^{}]*)\}
  | @import\s*(?:url\(\s*(?:"(?P<import_dq>[^"\\\n]*(?:\\.[^"\\\n]*)*)"|'(?P<import_sq>[^'\\\n]*(?:\\.[^'\\\n]*)*)'
                          |(?P<import_url>[^"'()\s]+))\s*\)
               |"(?P<import_string_dq>[^"\\\n]*(?:\\.[^"\\\n]*)*)"|'(?P<import_string_sq>[^'\\\n]*(?:\\.[^'\\\n]*)*)')
  | (?:-webkit-)?image-set\((?P<images>[^()]*(?:\([^()]*\)[^()]*)*)\)
  | url\(\s*(?:"(?P<dq>[^"\\\n]*(?:\\.[^"\\\n]*)*)"|'(?P<sq>[^'\\\n]*(?:\\.[^'\\\n]*)*)'|(?P<bare>[^"'()\s]+))\s*\)
  | "(?P<string_dq>[^"\\\n]*(?:\\.[^"\\\n]*)*)"? | '(?P<string_sq>[^'\\\n]*(?:\\.[^'\\\n]*)*)'?
""", re.IGNORECASE | re.DOTALL | re.VERBOSE)
_URL_GROUPS = {"import_dq", "import_sq", "import_url", "import_string_dq", "import_string_sq", "dq", "sq", "bare"}
_STRINGS = {"string_dq", "string_sq"}
_IMAGE_SET_GROUPS = {"dq", "sq", "bare", *_STRINGS}  # image-set("a.png" 1x, ...): strings too
_FONT_SOURCES = re.compile(r"""(?:^|[;\s])src\s*:(?P<sources>(?:[^;"']|"[^"]*"|'[^']*')*)""", re.IGNORECASE)
_FONT_FORMAT = re.compile(r"""\s*format\(\s*["']?([\w-]+)""", re.IGNORECASE)
#: The font formats a browser reads (CSS Fonts 4 ``format()`` keywords): not embedded-opentype (IE's), nor svg.
_READ_FONT_FORMATS = {"woff2", "woff", "truetype", "opentype", "collection", "woff2-variations", "woff-variations",
                      "truetype-variations", "opentype-variations"}
_CSS_ESCAPE = re.compile(r"\\([^0-9a-fA-F\n])")  # "\)" is ")"; hex escapes are left as they are (rare in URLs)
#: The elements that may name a requisite, but none a browser running scripts ignores (what <noscript> holds:
#: often tracking pixels).
_CANDIDATES = etree.XPath("(//link | //img | //script | //video | //audio | //embed | //object | //input | //meta"
                          " | //style | //use | //image | //*[@style])[not(ancestor::noscript)]")
#: Where scripts that load images lazily keep the image until it scrolls into view (replay runs those scripts).
_LAZY_SOURCES = ("data-src", "data-lazy-src", "data-original")
_LAZY_SRCSETS = ("data-srcset", "data-lazy-srcset")
#: What a site's own script may keep there that is no URL: a JSON configuration, a template, "undefined".
_LAZY_URL = re.compile(r"(?!(?:undefined|null|none|false|true)$)[^\s{}\[\]<>\"'`$]+$", re.IGNORECASE)
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
    for element in _CANDIDATES(root):  # the elements that may name one, in document order (selected in C)
        found += _element_requisites(element, element.tag.lower(), base)
        if (style := element.get("style")) and "(" in style:
            found += css_requisites(style, base)
    return _absolute(found, base)


def css_requisites(css: bytes | str, url: str) -> list[str]:
    """The URLs a stylesheet (or a ``style`` attribute) needs: ``@import`` targets, fonts, background images.

    Read by one compiled pattern that follows CSS's tokenization where it matters (comments, strings, ``url()``
    tokens and functions, ``@import``, the first image of an ``image-set()``, the one file of an ``@font-face``
    a browser loads): a page's inline styles can be a hundred kilobytes, which a CSS parser written in Python
    takes a hundred milliseconds to tokenize.
    """
    text = css if isinstance(css, str) else css.decode("utf-8", "replace")
    found = []
    for match in _CSS_TOKENS.finditer(text):
        if match.lastgroup == "font_face":
            found += _font_file(match.group("font_face"))
        elif match.lastgroup == "images":
            first = _CSS_TOKENS.search(match.group("images"))
            found += [_css_value(first)] if first is not None and first.lastgroup in _IMAGE_SET_GROUPS else []
        elif match.lastgroup in _URL_GROUPS:
            found.append(_css_value(match))
    return _absolute(found, url)


#: The media type a stylesheet is served with (what the crawl and the capture path read as one).
STYLESHEET_TYPE = "text/css"


def stylesheet_requisites(body: bytes, url: str) -> list[str] | None:
    """What a fetched stylesheet needs, or None when it is markup served as CSS (an error page, a login wall):
    the crawl and the capture path read stylesheets by this one rule."""
    if body.lstrip()[:1] == b"<":
        return None
    return css_requisites(body, url)


def _font_file(block: str) -> list[str]:
    """The file of an ``@font-face`` a browser loads: of its last ``src``, the first source in a format it reads
    (``woff2`` before the ``woff``, ``ttf`` and ``eot`` copies listed after it); ``local()`` fonts are no files."""
    declarations = list(_FONT_SOURCES.finditer(block))
    if not declarations:
        return []
    sources = declarations[-1].group("sources")
    urls = [match for match in _CSS_TOKENS.finditer(sources) if match.lastgroup in _IMAGE_SET_GROUPS - _STRINGS]
    for number, match in enumerate(urls):
        end = urls[number + 1].start() if number + 1 < len(urls) else len(sources)
        stated = _FONT_FORMAT.match(sources, match.end(), end)
        if stated and stated.group(1).lower() in _READ_FONT_FORMATS:
            return [_css_value(match)]
        if not stated and not _css_value(match).lower().split("?")[0].split("#")[0].endswith(".eot"):
            return [_css_value(match)]
    return []


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
            return [srcset_candidate(get("imagesrcset") or "", get("imagesizes") or "") or get("href") or ""]
    elif tag == "img":
        picture = next((a for a in element.iterancestors("picture", "PICTURE")), None)
        chosen = _picture_choice(picture) if picture is not None else None
        shown = chosen or srcset_candidate(get("srcset") or "", get("sizes") or "") or get("src") or ""
        lazy = next((candidate for name in _LAZY_SRCSETS if (candidate := srcset_candidate(get(name) or ""))),
                    None) or next((get(name) for name in _LAZY_SOURCES if get(name)), "")
        return [shown, lazy if _LAZY_URL.match(lazy) else ""]
    elif tag in {"script", "audio", "embed"}:
        return [get("src") or ""]
    elif tag == "object":
        return [get("data") or ""]
    elif tag in {"use", "image"}:  # SVG: an icon sprite, an embedded image
        return [get("href") or get("xlink:href") or ""]
    elif tag == "video":
        return [get("poster") or ""]
    elif tag == "input" and (get("type") or "").lower() == "image":
        return [get("src") or ""]
    elif tag == "meta" and (get("property") or get("name") or "").lower() in _META_IMAGES:
        return [get("content") or ""]
    elif tag == "style":
        return css_requisites(element.text or "", base)
    return []


def _css_value(match: re.Match[str]) -> str:
    return _CSS_ESCAPE.sub(r"\1", match.group(match.lastgroup))


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
