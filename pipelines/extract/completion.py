"""Parts of the article trafilatura missed, recovered from the page itself.

Two cases, each checked against the page before anything is added: the page cuts the
article into repeated containers (ads between them) and trafilatura stopped after the
first; or the page states the whole article as a JSON-LD ``articleBody`` much longer
than what trafilatura found.
"""

from __future__ import annotations

import re

from lxml import html as lxml_html

from pipelines.extract.body import Block
from pipelines.extract.metadata import clean
from pipelines.extract.page_text import BULLET

#: How far up from the last body paragraph to look for the article's repeated container.
CHUNK_LEVELS = 4
#: A stated articleBody this much longer than the extracted body shows trafilatura missed part of it...
ARTICLE_BODY_EXCESS = 1.3
#: ...when this share of the extracted body is in it (the two are the same article).
ARTICLE_BODY_AGREEMENT = 0.8
#: Lines are compared by runs of this many words.
SHINGLE_WORDS = 4
#: A page line this short matches any text by chance.
ARTICLE_LINE_MIN_WORDS = 4

_WORD = re.compile(r"\w+")


def find_paragraph(root: lxml_html.HtmlElement, text: str) -> lxml_html.HtmlElement | None:
    """The first <p> of the page that reads ``text``."""
    return next((p for p in root.iter("p") if clean(p.text_content()) == text), None)


def continued_chunks(root: lxml_html.HtmlElement, body: list[str]) -> list[Block]:
    """The paragraphs of later chunks of the article, when the page cuts it into sibling containers.

    Pages that put ads between parts of an article repeat its container (same tag, same class);
    trafilatura may stop after the first. The containers after the one holding the last body line
    are the rest of the article.
    """
    last = find_paragraph(root, body[-1]) if body else None
    node = last
    for _ in range(CHUNK_LEVELS):
        node = node.getparent() if node is not None else None
        if node is None or node.getparent() is None:
            return []
        chunks = [sibling for sibling in node.itersiblings() if _same_container(sibling, node)]
        if chunks and _ends_with(node, last):
            texts = (clean(p.text_content()) for chunk in chunks for p in chunk.iter("p"))
            return [Block(text, "p") for text in dict.fromkeys(texts) if text and text not in body]
    return []


def _ends_with(container: lxml_html.HtmlElement, paragraph: lxml_html.HtmlElement) -> bool:
    """Whether ``paragraph`` is the last paragraph with text in ``container`` (trafilatura stopped at its end)."""
    return next((p for p in reversed(container.findall(".//p")) if clean(p.text_content())), None) is paragraph


def _same_container(one: lxml_html.HtmlElement, other: lxml_html.HtmlElement) -> bool:
    """Same tag, same class (a classless container is no chunk): one more of the article's chunks."""
    return one.tag == other.tag and bool(other.get("class")) and one.get("class") == other.get("class")


def lines_in_article_body(article_body: str, page_lines: list[str], body: list[str]) -> list[str]:
    """The page lines a longer stated articleBody holds, when trafilatura found only part of that article.

    The stated body is plain text (often with markup residue: links, emphasis marks); the page shows
    the same paragraphs as lines of their own, so the lines it shares with it are the article, in
    page order. Lines are compared by their runs of words, which residue only interrupts.
    """
    found = _count(body)
    if not found or _count([article_body]) < ARTICLE_BODY_EXCESS * found:
        return body
    stated = _shingles(article_body)
    if _count([line for line in body if _within(line, stated)]) < ARTICLE_BODY_AGREEMENT * found:
        return body
    shown = dict.fromkeys(line.strip().removeprefix(BULLET).strip() for line in page_lines)  # in order, once
    shared = [line for line in shown if _count([line]) >= ARTICLE_LINE_MIN_WORDS and _within(line, stated)]
    return shared if _count(shared) > found else body


def _count(lines: list[str]) -> int:
    """How many words."""
    return sum(len(_WORD.findall(line)) for line in lines)


def _shingles(text: str) -> set[tuple[str, ...]]:
    """The text's runs of words (casefolded)."""
    words = _WORD.findall(text.casefold())
    return {tuple(words[i:i + SHINGLE_WORDS]) for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}


def _within(line: str, stated: set[tuple[str, ...]]) -> bool:
    """Whether most of the line's runs of words are in the stated body."""
    shingles = _shingles(line)
    return sum(shingle in stated for shingle in shingles) >= ARTICLE_BODY_AGREEMENT * len(shingles)
