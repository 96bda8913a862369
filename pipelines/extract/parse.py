"""One parse of a page, shared by every extraction step and by trafilatura.

The tree is what ``trafilatura.utils.load_html`` builds (same repairs, same parser options, same
fallbacks), with one difference: its elements are plain ``HtmlElement`` proxies chosen in C.
``lxml.html``'s own parser asks a Python function for the class of every element proxy it hands out
(to give forms and inputs their own classes, which nothing here uses); trafilatura and our steps
create hundreds of thousands of proxies a page, and that lookup alone cost ~10% of an extraction.
"""

from __future__ import annotations

import logging
import re

from lxml import etree
from lxml import html as lxml_html
from trafilatura.utils import DOCTYPE_TAG, decode_file, is_dubious_html, repair_faulty_html

logger = logging.getLogger(__name__)


def _parser() -> etree.HTMLParser:
    parser = etree.HTMLParser(
        collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
    )
    parser.set_element_class_lookup(
        etree.ElementDefaultClassLookup(
            element=lxml_html.HtmlElement,
            comment=lxml_html.HtmlComment,
            pi=lxml_html.HtmlProcessingInstruction,
            entity=lxml_html.HtmlEntity,
        )
    )
    return parser


_PARSER = _parser()
#: What trafilatura's repair removes (``INVALID_XML_CHARS``), as UTF-8: C0 controls but tab, LF and CR...
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
#: ... and the noncharacters U+FFFE and U+FFFF (one pattern: half the time of two substring searches).
_NONCHARACTERS = re.compile(rb"\xef\xbf[\xbe\xbf]")


def parse_html(html: str | bytes) -> lxml_html.HtmlElement | None:
    """The page's tree, or ``None`` when it is not HTML (trafilatura's rule: a document that never says
    "html" and parses to fewer than two children)."""
    text = decode_file(html)
    beginning = text[:50].lower()
    data = text.encode("utf-8", "surrogatepass")  # libxml2 reads UTF-8 bytes ~15% faster than a str
    if _needs_repair(text, data, beginning):
        data = repair_faulty_html(text, beginning).encode("utf-8", "surrogatepass")
    try:
        tree = lxml_html.fromstring(data, parser=_PARSER)
    except (etree.ParserError, ValueError) as error:
        logger.info("Not parseable as HTML: %s", error)
        return None
    if is_dubious_html(beginning) and len(tree) < 2:
        logger.info("Not HTML: the parsed tree has %d children", len(tree))
        return None
    return tree


def _needs_repair(text: str, data: bytes, beginning: str) -> bool:
    """Whether trafilatura's repairs would change the page (rarely): its removal of characters XML forbids
    scans the whole text with a regular expression, which took half as long as parsing; on the bytes,
    deleting control bytes is a C loop."""
    if len(data.translate(None, _CONTROL_BYTES)) != len(data) or _NONCHARACTERS.search(data):
        return True
    if "doctype" in beginning and DOCTYPE_TAG.match(text.partition("\n")[0]):
        return True
    return any("<html" in line and line.endswith("/>") for line in text[:4096].splitlines()[:4])
