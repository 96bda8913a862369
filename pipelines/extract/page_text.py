"""The whole visible page as a reader sees it, in the seed files' page-text form.

A small text-mode renderer, with the layout rules a browser's default style
sheet implies:

- invisible things are skipped: ``<head>``, scripts, styles, templates, forms'
  hidden inputs, and anything ``hidden`` or ``aria-hidden``;
- inline elements flow into one line, whitespace collapsed (as in HTML, two
  adjacent inline elements with no space between them run together);
  images show their ``alt`` text, as a screen reader or text browser does;
- block elements start a new line; the blocks a browser gives vertical margins
  (paragraphs, headings, block quotes, figures, tables, ...) are separated
  from their neighbours by one blank line;
- list items are written as two spaces, "•", a space, the text, two more
  spaces per nesting level, with later lines of an item indented under its
  text; lists themselves add no blank lines.

Output: UTF-8 text, LF line ends, no trailing spaces, no newline at the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import html as lxml_html

SKIPPED = {
    "head", "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed",
    "canvas", "video", "audio", "source", "track", "map", "select", "datalist", "option", "meta", "link",
    "title", "base", "dialog",
}
BLOCKS = {
    "address", "article", "aside", "blockquote", "body", "dd", "details", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr",
    "html", "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody",
    "thead", "tfoot", "tr", "ul", "caption", "center",
}
#: Blocks a browser's default style sheet gives vertical margins: a blank line around each.
SPACED = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "figure", "pre", "table", "hr", "dl",
          "fieldset", "address"}
LISTS = {"ul", "ol", "menu"}
_CELLS = {"td", "th"}
_VALUED = {"input", "button"}
BULLET = "•"
_SPACE = re.compile(r"[ \t\n\r\f\v]+")  # not U+00A0: a no-break space is kept, as in innerText


@dataclass
class _Line:
    prefix: str
    text: str = ""


@dataclass
class _Writer:
    """Collects lines; a pending blank line is written only between two non-empty lines."""

    lines: list[str] = field(default_factory=list)
    current: _Line | None = None
    blank_pending: bool = False

    def inline(self, text: str, prefix: str, first_prefix: str | None) -> None:
        if self.current is None:
            if not text.strip():
                return
            self.current = _Line(first_prefix if first_prefix is not None else prefix)
            text = text.lstrip()
        self.current.text += text

    def break_line(self) -> None:
        if self.current is None:
            return
        text = _SPACE.sub(" ", self.current.text).strip()
        if text:
            if self.blank_pending and self.lines:
                self.lines.append("")
            self.blank_pending = False
            self.lines.append((self.current.prefix + text).rstrip())
        self.current = None

    def blank(self) -> None:
        self.break_line()
        self.blank_pending = True


@dataclass
class _Item:
    """The list item being written: its bullet goes on its first line only."""

    bullet_prefix: str
    used: bool = False


def render_page_text(html: str | bytes | lxml_html.HtmlElement) -> str:
    """The page's visible text in seed page-text form ('' for a page with no visible text)."""
    root = html if isinstance(html, lxml_html.HtmlElement) else lxml_html.document_fromstring(html)
    body = root.find("body") if root.tag == "html" else root
    writer = _Writer()
    _walk(body if body is not None else root, writer, depth=0, indent="", item=None)
    writer.break_line()
    return "\n".join(writer.lines)


def _hidden(element: lxml_html.HtmlElement) -> bool:
    if not element.attrib:  # most elements: nothing to read
        return False
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    style = (element.get("style") or "").replace(" ", "").lower()
    if "display:none" in style or "visibility:hidden" in style:
        return True
    return element.tag == "input" and (element.get("type") or "").lower() == "hidden"


def _walk(element: lxml_html.HtmlElement, writer: _Writer, depth: int, indent: str, item: _Item | None) -> None:
    tag = element.tag
    if not isinstance(tag, str) or tag in SKIPPED or (element.attrib and _hidden(element)):
        tail = element.tail
        if tail:
            _text(writer, tail, indent, item)
        return
    block = tag in BLOCKS
    spaced = tag in SPACED and item is None
    if block:
        writer.blank() if spaced else writer.break_line()
    if tag == "br":
        writer.break_line()
    elif tag == "img":
        _text(writer, element.get("alt") or "", indent, item)
    elif tag in _VALUED and element.get("value") and not len(element):
        _text(writer, element.get("value") or "", indent, item)
    if tag in LISTS:
        child_depth = depth + 1
        for child in element:
            if isinstance(child.tag, str) and child.tag == "li" and not _hidden(child):
                bullet = "  " * child_depth + BULLET + " "
                writer.break_line()
                child_item = _Item(bullet)
                _text(writer, child.text or "", " " * len(bullet), child_item)
                for grandchild in child:
                    _walk(grandchild, writer, child_depth, " " * len(bullet), child_item)
                writer.break_line()
                if child.tail:
                    _text(writer, child.tail, indent, item)
            else:
                _walk(child, writer, depth, indent, item)
    else:
        text = element.text
        if text:
            _text(writer, text, indent, item)
        for child in element:
            _walk(child, writer, depth, indent, item)
    if block:
        writer.blank() if spaced else writer.break_line()
    if tag in _CELLS:
        _text(writer, " ", indent, item)
    tail = element.tail
    if tail:
        _text(writer, tail, indent, item)


def _text(writer: _Writer, text: str, indent: str, item: _Item | None) -> None:
    if writer.current is not None:  # most text: more of the line being written, whose prefix is set
        writer.current.text += text
        return
    if not text:
        return
    first = None
    if item is not None and not item.used and text.strip():
        first = item.bullet_prefix
        item.used = True
    writer.inline(text, indent, first)

