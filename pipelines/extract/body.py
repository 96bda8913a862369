"""The article body as blocks (one per paragraph, subheading, list item...), and the boilerplate they shed.

trafilatura finds the main content; what it keeps around it (related-story links and
their blurbs, newsletter, follow and comment prompts, repeated headlines, datelines,
bare URLs) is dropped here with the signals a reader uses: text that is a link to
another page, and the stock phrases of prompts and labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree
from lxml import html as lxml_html

from pipelines.extract.metadata import clean

#: Page parts pruned before trafilatura sees them: what the page marks as never shown.
PRUNE_XPATHS = ("//*[@hidden]",)
#: An anchor this long is no link but broken markup swallowing the page.
MAX_LINK_CHARS = 3000
#: Most link texts are shorter than this; most paragraphs are longer (so they are looked up among few links).
LONG_TEXT_CHARS = 100
#: Prompts are short: a longer block that uses such words is prose.
MAX_PROMPT_WORDS = 40
#: A dateline is short: a time of day and a year, and a few words.
MAX_DATELINE_WORDS = 10
#: A teaser card: a linked headline of at least this many words and this share of the block, then a blurb.
TEASER_LINK_WORDS = 3
TEASER_LINK_SHARE = 0.35
#: A teaser's summary line is short.
MAX_BLURB_WORDS = 25
#: Most blocks a link: trafilatura has picked a menu or a list of links, not an article.
NAVIGATION_SHARE = 0.6

_PROMPT = re.compile(
    r"^sign up\b|\bsign(?:ing)? up (?:for|to) (?:our|the|free)\b|\bsubscribe (?:now|today|to (?:our|the))\b|"
    r"\bnewsletters?\b|\byour inbox\b|\bfollow (?:us|him|her|them|@\w+)\b|"
    r"\bfollow [\w.]+ on (?:twitter|facebook|instagram|google news)\b|\bclick (?:here|to)\b|"
    r"\b(?:download|get) (?:the|our) [\w ]{0,30}\bapp\b|\bcopyright\b|all rights reserved|©\s*\d{4}|"
    r"[\w.-]+@[\w-]+\.\w+|\breached at\b|\blog ?in or (?:create|register)\b|\bcreate an? (?:free )?account\b|"
    r"\bbefore commenting\b|\bdisplay name\b|\bprivacy policy\b|\bjoin (?:the |our )?[\w-]* ?conversations?\b|"
    r"\bthanks for signing up\b|\berror (?:has )?occurred\b|\berror processing\b|\btry again later\b|"
    r"^(?:tags|filed under|categories|topics)\s*:",
)  # searched in lowercased text: with re.I the search took ~5 times as long
#: A word each alternative of ``_PROMPT`` needs: a text with none of them is no prompt, found without the search,
#: which tries every alternative at every character (~40 µs on a paragraph; a test keeps the two in step).
PROMPT_WORDS = (
    "sign", "subscribe", "newsletter", "inbox", "follow", "click", "app", "copyright", "all rights reserved", "©",
    "@", "reached at", "log", "account", "before commenting", "display name", "privacy policy", "conversation",
    "error", "try again later", "tags", "filed under", "categories", "topics",
)
_URL = re.compile(r"\S*(?:https?://|www\.)\S+")
_TIME_OF_DAY = re.compile(r"\b\d{1,2}[:h]\d{2}\b")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_WHEN_LABEL = re.compile(r"\W*(?:last )?(?:updated|published|posted)\b", re.I)
_DIGIT = re.compile(r"\d")
#: Where a linked headline may end inside a block: a space, or a capital right after it ("...GirlsGronk may").
_WORD_END = re.compile(r"(?<=\S)(?=\s|$)|(?<=[a-z.!?])(?=[A-Z])")
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
            rows = (" ".join(clean("".join(cell.itertext())) for cell in row) for row in element.iter("row"))
            raw.extend((row, "cell") for row in rows)
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
        texts = {clean(anchor.text_content()) for anchor in root.iter("a")}
        texts = {text for text in texts if 0 < len(text) <= MAX_LINK_CHARS}
        self._joined = "\0".join(texts)  # one substring search finds a text inside any link
        self._long = "\0".join(text for text in texts if len(text) >= LONG_TEXT_CHARS)  # the few a paragraph fits
        self._by_first_word: dict[str, list[str]] = {}
        for text in texts:
            if len(text.split(maxsplit=TEASER_LINK_WORDS)) >= TEASER_LINK_WORDS:
                self._by_first_word.setdefault(text.split(maxsplit=1)[0], []).append(text)

    def covers(self, text: str) -> bool:
        """Whether ``text`` lies wholly within one link's text."""
        return text in (self._long if len(text) >= LONG_TEXT_CHARS else self._joined)

    def leads(self, text: str) -> bool:
        """Whether ``text`` opens with a linked headline followed by a blurb: a related-story card."""
        first_word = text.split(maxsplit=1)[0]
        return any(
            len(head) < len(text) and len(head) >= TEASER_LINK_SHARE * len(text) and text.startswith(head)
            and _WORD_END.match(text, len(head)) is not None
            for head in self._by_first_word.get(first_word, ())
        )


def looks_like_navigation(blocks: list[Block], links: PageLinks) -> bool:
    """Whether most blocks are links (or there are none): a menu or a link list, not an article."""
    linked = sum(links.covers(block.text) for block in blocks)
    return linked >= NAVIGATION_SHARE * len(blocks)


def clean_body(blocks: list[Block], links: PageLinks, headlines: Iterable[str]) -> list[str]:
    """The body lines without the boilerplate trafilatura kept."""
    repeated = {headline.casefold() for headline in headlines if headline}
    teasers = [_is_teaser(blocks, index, links) for index in range(len(blocks))]
    kept = []
    for index, block in enumerate(blocks):
        text = block.text
        if teasers[index] or _is_blurb(blocks, index, teasers):
            continue
        if text.casefold() in repeated or is_prompt(text) or _URL.fullmatch(text) or _is_dateline(text):
            continue
        kept.append(text)
    return kept


def _is_teaser(blocks: list[Block], index: int, links: PageLinks) -> bool:
    """A link to another story: a linked block (but a linked subheading over its own paragraph), or a card."""
    block = blocks[index]
    if links.covers(block.text):
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        over_text = block.kind == "head" and following is not None and following.kind == "p"
        return not (over_text and not links.covers(following.text))
    return links.leads(block.text)


def _is_blurb(blocks: list[Block], index: int, teasers: list[bool]) -> bool:
    """A short unlinked line between teasers (or after the last one): the teasers' summaries."""
    if teasers[index] or len(blocks[index].text.split()) > MAX_BLURB_WORDS:
        return False
    after_teaser = index > 0 and teasers[index - 1]
    return after_teaser and (index + 1 == len(blocks) or teasers[index + 1])


def _is_dateline(text: str) -> bool:
    """A line that only says when: a time of day and a year, or "Updated: <date>", in a few words."""
    if len(text.split()) > MAX_DATELINE_WORDS:
        return False
    return bool(_TIME_OF_DAY.search(text) and _YEAR.search(text) or _WHEN_LABEL.match(text) and _DIGIT.search(text))


def is_prompt(text: str) -> bool:
    """A newsletter, follow, app or contact prompt, a copyright line, a UI label or a related-list label."""
    if _UI_LABEL.fullmatch(text) or _LIST_LABEL.fullmatch(text):
        return True
    if len(text.split()) > MAX_PROMPT_WORDS:
        return False
    lowered = text.lower()
    return any(word in lowered for word in PROMPT_WORDS) and _PROMPT.search(lowered) is not None
