"""The article's authors: the people its byline credits, in the page's order.

A page credits its authors in several places, read here in this order of trust: JSON-LD ``author``, the
author ``<meta>`` tags, ``rel=author``/``itemprop=author`` markup, byline elements, and a "By ..." line over
the article. Each source is cleaned to names: the credit's "By", the writer's role and desk, dates, e-mail
addresses, social handles and photo credits dropped; lists split; the page's order kept.

The first source naming a person wins: a source naming only organisations (the outlet, its publisher, the
holder of its copyright, a desk, "Staff") or usernames gives way to a later one naming a person, and is kept
only when none does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from pipelines.extract.metadata import PageMetadata, clean, dedupe, names, split_names
from pipelines.extract.syndication import agency

#: The rules of this module by name, each one switchable so that ``python -m evaluation --rules`` can measure
#: what it does on every publisher of the shared corpora (a rule stays only if it helps pages of three
#: publishers and costs none).
RULES: dict[str, str] = {
    "contacts": "e-mail addresses, links and social handles are not names",
    "names-end": "a shown byline's names end at a date, a time, 'Updated' or 'in <section>'",
    "picture-credits": "a picture's credit ('Illustration by', 'Photo:', 'Getty') is not the writer",
    "joined": "names joined in other languages ('et', 'und', 'y') or 'edited by' are split",
    "roles": "the writer's role and desk after the name are dropped ('Howard Blume Staff Writer')",
    "organisations": "a source naming only organisations or usernames gives way to one naming a person",
    "copyright-holder": "the holder of the page's copyright is an organisation",
    "one-byline": "author markup counts in the first byline only (not related stories' credits)",
    "by-line": "a 'By ...' line over the article is a byline",
    "about-author": "any element about the author is a byline when no byline element names one",
    "not-comments": "commenters' bylines are not the article's",
}
#: The rules in force (the evaluation switches some off to measure them).
ENABLED: frozenset[str] = frozenset(RULES)
#: A byline names a few people; a longer "author" element is a bio, a list or a sentence.
BYLINE_MAX_WORDS = 12
#: A person's name has at most this many words once the role is gone.
NAME_MAX_WORDS = 5
#: Author meta tags, most specific first.
AUTHOR_META = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator", "byl")
#: Elements marked as about the author, in one pass over the page: the byline itself (:func:`_is_byline`), then
#: any other element about the author ("author-box", "post-author", "writer").
_AUTHOR_MARKED = etree.XPath(
    '//*[@class or @id or @data-component][contains(@class, "byline") or contains(@class, "uthor")'
    ' or contains(@id, "author") or contains(@class, "writer") or @class = "byl"'
    ' or contains(@data-component, "Byline")][not(self::meta or self::link or self::script or self::style)]'
)
_BYLINE_CLASS = re.compile(r"byline|author-name|authorName")
#: Elements about the author that are never a byline: a picture, or the page's whole body or article.
_NOT_ABOUT_TAGS = frozenset({"img", "body", "article", "main"})
#: Author markup (``rel=author``, ``itemprop=author``) that the page shows.
_MARKUP = etree.XPath('//*[@rel="author" or @itemprop="author"][not(self::link or self::meta)]')
#: What marks the readers' comments (a class or id of an element around them).
_COMMENTS = re.compile(r"comment|disqus|(?<![a-z])repl(?:y|ies)(?![a-z])", re.I)
#: Classes of elements about an author that hold no byline: a bio, a picture, a list of other stories.
_NOT_BYLINE_CLASS = re.compile(r"bio|avatar|image|img|photo|desc|about|comment|follow|social|more|list|related|"
                               r"card|box|widget|popup|modal|tooltip", re.I)
#: "By" opening a credit line (glued to the name when the page sets it in its own element: "ByTravis Haney").
_BY_LINE = re.compile(r"^\s*(?:(?i:by|written by|words by|reported by|von|par|por)\s*(?::\s*|\s)|By(?=[A-Z]))")
#: Joining words between names in other languages, and credits for others than the writer of the text.
_JOINED = re.compile(r"\(\s*(?:avec|with|and|et|und|mit|con)\s+([^()]*)\)|\s+(?:et|und|y|with|avec|mit|con)\s+|"
                     r"\s+(?:edited|translated|compiled|additional reporting)\s+by\s+", re.I)
#: Where a byline's names end: a date, a time, "Updated", "Published", "in <section>", "on <date>".
_NAMES_END = re.compile(
    r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d|\d|"
    r"\b(?:last updated|updated|published|posted|last modified|modified)\b|\s(?:in|on|at|for|from)\s(?=\S)|"
    r"\b\w+ ago\b",
    re.I,
)
#: Separators between a byline's parts ("Saibal Dasgupta / TNN / Updated", "Pete Evans · CBC News").
_PARTS = re.compile(r"\s+[|/·•–—-]\s+|\s*[|·•]\s*")
_CONTACT = re.compile(r"\S+@\S+\.\w+|https?://\S+|www\.\S+|(?<!\w)@\w+|\((?:[^()]*(?:@|https?://|www\.)[^()]*)\)")
#: What a credit for a picture starts with: the rest of the line is not the writer.
_PICTURE_CREDIT = re.compile(r"\b(?:photo(?:graph)?s?|images?|illustrations?|pictures?|video|graphics?)\b"
                             r"(?:\s*(?:by|:|credit))?|\bgetty\b|\bshutterstock\b|\bcredit\s*:", re.I)
#: A writer's role and desk, said after the name ("Sam Stein, Senior Politics Editor").
_ROLES = frozenset("""
writer writers editor editors reporter reporters correspondent correspondents columnist contributor contributors
producer journalist journalists photographer critic analyst technologist intern fellow anchor host blogger author
""".split())
_ROLE_WORDS = _ROLES | frozenset("""
senior chief staff contributing deputy associate executive managing political politics business health science
games gaming technology tech sports sport foreign national international special assistant digital news opinion
features culture entertainment travel food music film arts art investigative data legal education environment
environmental climate economics economy finance financial markets breaking general regional local city metro world
us uk europe asia africa white house royal court crime security weather tv television social media editorial
former guest freelance lead principal co-founder founder and of the at large editor-at-large our by
team desk newsroom
""".split())
#: The last word of a newspaper's name ("Washington Post"), said after the writer's.
_OUTLET_WORDS = frozenset("post times tribune journal herald gazette chronicle news press telegraph guardian "
                          "observer independent mirror express examiner inquirer courier".split())
#: Words that make a name an organisation's.
_ORGANISATION_WORDS = frozenset("""
staff team desk newsroom editors editorial news media press inc llc ltd limited corp corporation group network
agency agencies magazine online contributors admin administrator webmaster service services bureau wire partners
""".split())
#: The copyright line is among the page's last lines.
COPYRIGHT_LINES = 40
_COPYRIGHT = re.compile(r"(?:©|\(c\)|copyright)\s*(?:\d{4}(?:\s*[-–]\s*\d{4})?)?\s*([^.,|©]{2,60})", re.I)
#: Capitals after a name: the outlet's name in a byline ("Meg Wagner NEW YORK DAILY NEWS"). Words are kept apart
#: by the spaces between them, so a long run of capitals is read one way only (no backtracking).
_SPACE_CAPS = re.compile(r"\s+[A-Z][A-Z'’&.-]+(?:\s+[A-Z][A-Z'’&.-]+)+$")
#: A credit is a line: what a page states beyond this many characters is cut before it is read as names.
CREDIT_MAX_CHARS = 300


def find_authors(root: lxml_html.HtmlElement, meta: PageMetadata, site_name: str, page_lines: list[str],
                 header_lines: list[str]) -> list[str]:
    """The people the article credits (``header_lines``: the page lines over its body, and its first line);
    organisations or usernames only when it names no person; [] when it credits nobody."""
    organisations = _organisations(meta, site_name, page_lines)
    others: list[str] = []
    for credited in _sources(root, meta, header_lines):
        people = [name for name in credited if _is_person(name, organisations)]
        if people:
            return people
        others = others or [name for name in credited if _is_credit(name)]
    return others


def _sources(root: lxml_html.HtmlElement, meta: PageMetadata, header_lines: list[str]) -> Iterator[list[str]]:
    """Each source's names, lazily, in order of trust: JSON-LD, author tags, then what the page shows (author
    markup, byline elements, a "By" line)."""
    yield _ld_names(meta.article.get("author"))
    for key in AUTHOR_META:
        yield [name for value in meta.all_meta(key) if not value.startswith(("http://", "https://"))
               for name in credit_names(value)]
    yield _markup_names(root)
    yield _byline_names(root)
    if "by-line" in ENABLED:
        yield _by_line_names(header_lines)


def _ld_names(value: Any) -> list[str]:
    """Names from a JSON-LD author value (a string, an object with ``name``, or a list of those)."""
    return names(value, credit_names)


def _markup_names(root: lxml_html.HtmlElement) -> list[str]:
    """Names in ``rel=author``/``itemprop=author`` markup: the first one's byline only (the page's other
    author markup credits other stories: related links, a list of columnists)."""
    elements = [element for element in _MARKUP(root) if _in_article(element)]
    if not elements:
        return []
    container = _byline_container(elements[0]) if "one-byline" in ENABLED else None
    found: list[str] = []
    for element in elements:
        if container is not None and element is not elements[0] and container not in element.iterancestors():
            continue
        name = element.xpath('.//*[@itemprop="name"]/@content | .//*[@itemprop="name"]')
        if name and isinstance(name[0], str):
            text = name[0]
        else:
            text = name[0].text_content() if name else element.text_content()
        found += credit_names(clean(text), visible=True)
    return dedupe(found)


def _byline_container(element: lxml_html.HtmlElement) -> lxml_html.HtmlElement | None:
    """The element holding a byline (two levels up: the byline's wrapper, not the page's column)."""
    parent = element.getparent()
    return parent.getparent() if parent is not None and parent.getparent() is not None else parent


def _byline_names(root: lxml_html.HtmlElement) -> list[str]:
    """The names in the first short byline element that names someone (the credit as readers see it); else
    in the first other element about the author that does."""
    bylines: list[lxml_html.HtmlElement] = []
    about: list[lxml_html.HtmlElement] = []
    for element in _AUTHOR_MARKED(root):
        if _is_byline(element):
            bylines.append(element)
        elif element.tag not in _NOT_ABOUT_TAGS and not _NOT_BYLINE_CLASS.search(element.get("class", "")):
            about.append(element)
    for element in bylines + (about if "about-author" in ENABLED else []):
        text = clean(" ".join(element.itertext()))
        if not text or len(text.split()) > 3 * BYLINE_MAX_WORDS or not _in_article(element):
            continue
        found = [name for name in credit_names(text, visible=True) if _looks_like_name(name)]
        if found and sum(len(name.split()) for name in found) <= BYLINE_MAX_WORDS:
            return found
    return []


def _is_byline(element: lxml_html.HtmlElement) -> bool:
    marks = element.get("class", "")
    return bool(_BYLINE_CLASS.search(marks)) or marks == "author" or "Byline" in element.get("data-component", "")


def _in_article(element: lxml_html.HtmlElement) -> bool:
    """Not in the readers' comments."""
    if "not-comments" not in ENABLED:
        return True
    return not any(_COMMENTS.search(f"{ancestor.get('class', '')} {ancestor.get('id', '')}")
                   for ancestor in element.iterancestors())


def _by_line_names(header_lines: list[str]) -> list[str]:
    """The names of a "By ..." line over the article (or opening its text)."""
    for line in header_lines:
        text = line.strip().lstrip("•").strip()
        if _BY_LINE.match(text) and len(text.split()) <= 3 * BYLINE_MAX_WORDS:
            found = [name for name in credit_names(text, visible=True) if _capitalised(name)]
            if found:
                return found
    return []


def _capitalised(name: str) -> bool:
    """Whether a name begins and ends with a capital, as names do ("By the time we arrived" is prose)."""
    words = name.split()
    return not words[0][0].islower() and not words[-1][0].islower()


def credit_names(text: str, visible: bool = False) -> list[str]:
    """A credit as names: "By A, B and C, Staff Writers | Outlet" -> [A, B, C].

    ``visible``: the credit as the page shows it, where the names may run on into a date, a section or a
    picture credit.
    """
    text = clean(text)[:CREDIT_MAX_CHARS]
    if "contacts" in ENABLED:
        text = _CONTACT.sub(" ", text)
    text = _BY_LINE.sub("", text, count=1)
    if visible and "names-end" in ENABLED:
        text = _NAMES_END.split(text, maxsplit=1)[0]
    if "picture-credits" in ENABLED:
        text = _PICTURE_CREDIT.split(text, maxsplit=1)[0]
    if "joined" in ENABLED:
        for _ in range(2):  # a joining word inside a parenthesis is found on the second pass
            text = _JOINED.sub(lambda match: f", {match[1]}" if match[1] else ", ", text)
    names: list[str] = []
    for part in _PARTS.split(text):
        for name in split_names(part):
            name = _without_role(name) if "roles" in ENABLED else name
            if not name:  # a role: "A, Staff Writer, Outlet" - what follows is the writer's desk
                if names:
                    return dedupe(names)
                continue
            names.append(name.strip("()[]{} "))
    return dedupe(name for name in names if name)


def _without_role(name: str) -> str:
    """The name without the role or outlet said after it ("Howard Blume Staff Writer" -> "Howard Blume"); ""
    when it is all role ("Senior Staff Technologist", "Our Foreign Staff"). A desk's credit stays whole
    ("AOL Staff")."""
    if not name.isupper():
        name = _SPACE_CAPS.sub("", name)  # "Meg Wagner NEW YORK DAILY NEWS"
    words = name.split()
    folded = [word.casefold().strip(".,:") for word in words]
    if all(word in _ROLE_WORDS for word in folded):
        return ""
    if len(words) >= 4 and folded[-1] in _OUTLET_WORDS:  # "Joe Davidson Washington Post": the outlet after
        return " ".join(words[:-2])
    if folded[-1] not in _ROLES:
        return name
    cut = next(cut for cut in range(1, len(words)) if all(word in _ROLE_WORDS for word in folded[cut:]))
    return " ".join(words[:cut])


def _organisations(meta: PageMetadata, site_name: str, page_lines: list[str]) -> set[str]:
    """Names of organisations the page gives (case-folded): the site, its publisher, those typed as one in
    JSON-LD, and the holder of its copyright."""
    found = {site_name, meta.first_meta("og:site_name"), meta.first_meta("application-name")}
    for key in ("publisher", "sourceOrganization"):
        found.update(_ld_names(meta.article.get(key)))
    authors = meta.article.get("author")
    for item in authors if isinstance(authors, list) else [authors]:
        if isinstance(item, dict) and "person" not in str(item.get("@type", "person")).casefold():
            found.update(_ld_names(item))
    if "copyright-holder" in ENABLED:
        for line in page_lines[-COPYRIGHT_LINES:]:
            found.update(match[1] for match in _COPYRIGHT.finditer(line))
    return {_folded(name) for name in found if name}


def _folded(name: str) -> str:
    return re.sub(r"^the\s+|\W+", " ", name.casefold()).strip()


def _is_person(name: str, organisations: set[str]) -> bool:
    """Whether a credited name is a person's, not an organisation's or a username."""
    if "organisations" not in ENABLED:
        return _is_credit(name)
    if agency(name):
        return True  # a wire agency is credited as the author of its stories
    if not _looks_like_name(name) or any(word.casefold().strip(".,") in _ORGANISATION_WORDS for word in name.split()):
        return False
    folded = _folded(name)
    return not any(folded == organisation or (len(folded) > 3 and organisation.startswith(folded + " "))
                   for organisation in organisations)


def _looks_like_name(name: str) -> bool:
    """A name by its form: a few words, not initials only ("J J"), not a username ("mikecason")."""
    words = name.split()
    if not _is_credit(name) or all(len(word.strip(".")) <= 1 for word in words):
        return False
    return not (len(words) == 1 and name.isascii() and name == name.lower())


def _is_credit(name: str) -> bool:
    return 0 < len(name.split()) <= NAME_MAX_WORDS and any(character.isalpha() for character in name)
