"""The article body as blocks (one per paragraph, subheading, list item...), and the boilerplate they shed.

trafilatura finds the main content; what it keeps around it (related-story links,
newsletter and share prompts, repeated headlines, embedded social posts, hidden
metadata blocks) is dropped here, with signals a reader would use: text that is
a link to elsewhere, text hidden from view, and the stock phrases of prompts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree
from lxml import html as lxml_html

from pipelines.metadata import clean

#: Page parts pruned before trafilatura sees the page: what a reader never sees (schema.org
#: blocks, collapsed menus) and social-media embeds (someone else's post, not the article).
PRUNE_XPATHS = (
    '//*[@hidden or contains(translate(@style, " ", ""), "display:none")]',
)
#: An anchor this long is no link but broken markup swallowing the page.
MAX_LINK_CHARS = 3000
#: Prompts are short: a longer block that uses such words is prose.
MAX_PROMPT_WORDS = 40

_PROMPT = re.compile(
    r"\bsign(?:ing)? up (?:for|to) (?:our|the|free)\b|\bsubscribe (?:now|today|to (?:our|the))\b|\bnewsletters?\b|"
    r"\byour inbox\b|\bfollow (?:us|him|her|them|@\w+)\b|\bfollow [\w.]+ on (?:twitter|facebook|instagram|google news)\b|"
    r"\bclick (?:here|to)\b|\b(?:download|get) (?:the|our) [\w ]{0,30}\bapp\b|\bcopyright\b|all rights reserved|"
    r"©\s*\d{4}|[\w.-]+@[\w-]+\.\w+|\breached at\b",
    re.I,
)
_UI_LABEL = re.compile(
    r"(?:advertisement|comments?|tags?|share(?: this(?: article| story)?)?|print(?: article)?|order reprints|"
    r"sponsored|continue reading|article content|recommended videos|tell us what you think|"
    r"join (?:the|our) [\w ]{0,20}(?:conversation|forum))\W*",
    re.I,
)
_LIST_LABEL = re.compile(
    r"(?:read more|more|related(?: articles| stories| content)?|see also|also see|don'?t miss|you may also like|"
    r"you might also like|more from [\w.' ]+|more on this|trending(?: now)?|most read(?: in [\w ]+)?|most popular|"
    r"popular|recommended(?: reading)?|further reading|top stories|latest news|editor'?s picks?)\W*",
    re.I,
)


@dataclass(frozen=True)
class Block:
    """A line of the body and what kind of element it came from."""

    text: str
    kind: str  # p, head, item, cell, quote or loose (text between blocks)


def body_blocks(body: etree._Element) -> list[Block]:
    """One block per paragraph-level element of trafilatura's output; <lb/> breaks start a new block."""
    for lb in body.iter("lb"):
        lb.tail = "\n" + (lb.tail or "")
    raw: list[tuple[str, str]] = [(body.text or "", "loose")]
    for element in body:
        tag = element.tag
        if tag == "list":
            raw.extend((_own_text(item), "item") for item in element.iter("item"))
        elif tag == "table":
            raw.extend((" ".join(clean("".join(cell.itertext())) for cell in row), "cell") for row in element.iter("row"))
        elif tag == "quote" and len(element) and all(child.tag in {"p", "list"} for child in element):
            raw.extend(("".join(child.itertext()), "quote") for child in element)
        elif tag != "graphic":
            raw.append(("".join(element.itertext()), tag if tag in {"p", "head", "quote"} else "p"))
        raw.append((element.tail or "", "loose"))
    return [Block(line, kind) for text, kind in raw for line in map(clean, text.split("\n")) if line]


def _own_text(item: etree._Element) -> str:
    """An item's text without the text of lists nested in it (those are items of their own)."""
    parts = [item.text or ""]
    for child in item:
        if child.tag != "list":
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    return "".join(parts)


class PageLinks:
    """The texts of the page's links, to tell a block that only points elsewhere."""

    def __init__(self, root: lxml_html.HtmlElement) -> None:
        texts = (clean(anchor.text_content()) for anchor in root.iter("a"))
        self._texts = [text for text in texts if 0 < len(text) <= MAX_LINK_CHARS]
        self._joined = "\0".join(self._texts)  # one substring search finds a text inside any link

    def covers(self, text: str) -> bool:
        """Whether ``text`` lies wholly within one link's text."""
        return text in self._joined


def clean_body(blocks: list[Block], links: PageLinks, headlines: Iterable[str]) -> list[str]:
    """The body lines without the boilerplate trafilatura kept."""
    repeated = {headline.casefold() for headline in headlines if headline}
    kept = []
    for index, block in enumerate(blocks):
        if block.text.casefold() in repeated or is_prompt(block.text):
            continue
        if links.covers(block.text) and (block.kind != "head" or not _introduces_text(blocks, index, links)):
            continue  # a related-story teaser; a linked subheading over its own paragraphs stays
        kept.append(block.text)
    return kept


def _introduces_text(blocks: list[Block], index: int, links: PageLinks) -> bool:
    following = blocks[index + 1] if index + 1 < len(blocks) else None
    return following is not None and following.kind == "p" and not links.covers(following.text)


def is_prompt(text: str) -> bool:
    """A newsletter, follow, app or contact prompt, a copyright line, a UI label or a related-list label."""
    if _UI_LABEL.fullmatch(text) or _LIST_LABEL.fullmatch(text):
        return True
    return len(text.split()) <= MAX_PROMPT_WORDS and _PROMPT.search(text) is not None
