"""The search language, parsed once and written out for each engine (SQLite FTS5, PostgreSQL tsquery).

What a user may type, as search engines of news archives (Media Cloud, Google News) take it::

    rafah delegation            both words (AND is implied)
    "white house"               the phrase
    netanyahu OR gallant        either
    rafah -egypt, NOT egypt     without the word (never alone: a query needs something to find)
    deleg*                      words starting with "deleg"
    (rafah OR gaza) AND talks   grouping

Terms are split into words as the engines tokenize (letters and digits; ``U.S.`` is the phrase ``u s``), so
both engines see the same words. Anything else is a :class:`QueryError` with a message for the user (the
web answers it with a 400): unbalanced quotes or parentheses, an operator with nothing on one side, a bare
``*``, a query with nothing but negations. Nothing the user types reaches an engine unparsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The longest query accepted (characters) and the most terms: beyond, a query is a mistake or an attack.
MAX_QUERY_LENGTH = 500
MAX_TERMS = 32
_TOKEN = re.compile(r'\s*(?:(?P<quote>")|(?P<open>\()|(?P<close>\))|(?P<word>[^\s"()]+))')
#: Stand-alone punctuation of running text, passed over (anything else without a letter is an error).
_PUNCTUATION = set(",.:;!?-\u2013\u2014&/")
_WORD = re.compile(r"[^\W_]+")  # letters and digits, as FTS5's unicode61 tokenizer splits text


class QueryError(ValueError):
    """A query or filter that cannot be searched; the message says why, for the user."""


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or the words of a phrase (lower case)
    prefix: bool = False  # the last word is a prefix


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class And:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    nodes: tuple[Node, ...]


Node = Term | Not | And | Or


def parse(text: str) -> Node:
    """The query's tree; :class:`QueryError` when it is not a query."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(f"the query is longer than {MAX_QUERY_LENGTH} characters")
    if text.count('"') % 2:
        raise QueryError('a quote is not closed: put phrases between two " marks')
    parser = _Parser(_tokens(text))
    node = parser.expression()
    if parser.position < len(parser.tokens):
        raise QueryError("a closing parenthesis has no opening one")
    if _terms(node) > MAX_TERMS:
        raise QueryError(f"the query has more than {MAX_TERMS} terms")
    if not _positive(node):
        raise QueryError("the query only says what to leave out: add a word to search for")
    return node


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, value): ``phrase``, ``word`` (operators are words here), ``(``, ``)``."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # only white space is left
            break
        position = match.end()
        if match["quote"]:
            end = text.index('"', position)
            tokens.append(("phrase", text[position:end]))
            position = end + 1
        elif match["open"]:
            tokens.append(("(", "("))
        elif match["close"]:
            tokens.append((")", ")"))
        elif match["word"] == "-" and text[position:position + 1] in {'"', "("}:
            tokens.append(("word", "NOT"))  # -"a phrase", -(a group): the dash touches what it leaves out
        else:
            tokens.append(("word", match["word"]))
    return tokens


class _Parser:
    """OR binds loosest, then AND (said or implied), then NOT / leading ``-``."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _operator(self, name: str) -> bool:
        token = self._peek()
        return token is not None and token == ("word", name)

    def expression(self) -> Node:
        nodes = [self._conjunction()]
        while self._operator("OR"):
            self.position += 1
            if self._peek() is None or self._peek()[0] == ")":
                raise QueryError("OR needs something to search for on both sides")
            nodes.append(self._conjunction())
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def _conjunction(self) -> Node:
        nodes = [self._unary()]
        while (token := self._peek()) is not None and token[0] != ")" and not self._operator("OR"):
            if self._operator("AND"):
                self.position += 1
                if self._peek() is None or self._peek()[0] == ")" or self._operator("OR"):
                    raise QueryError("AND needs something to search for on both sides")
            nodes.append(self._unary())
        found = [node for node in nodes if node is not None]
        if not found:
            raise QueryError("the query has no word to search for")
        return found[0] if len(found) == 1 else And(tuple(found))

    def _unary(self) -> Node | None:
        token = self._peek()
        if token is None:
            raise QueryError("the query is empty where a word or phrase should be")
        kind, value = token
        if token in {("word", "AND"), ("word", "OR")}:
            raise QueryError(f"{value} needs something to search for on both sides")
        if kind == "word" and (value == "NOT" or (len(value) > 1 and value[0] == "-" and value[1] not in _PUNCTUATION)):
            if value == "NOT":
                self.position += 1
            else:  # -word
                self.tokens[self.position] = ("word", value[1:])
            if self._peek() is None or self._peek()[0] == ")":
                raise QueryError("NOT needs a word or phrase to leave out")
            node = self._unary()
            if node is None:
                raise QueryError("NOT needs a word or phrase to leave out")
            if isinstance(node, Not):
                raise QueryError("NOT of a NOT: say what to search for instead")
            return Not(node)
        self.position += 1
        if kind == "(":
            node = self.expression()
            if self._peek() != (")", ")"):
                raise QueryError("a parenthesis is not closed")
            self.position += 1
            return node
        if kind == ")":
            raise QueryError("a parenthesis closes nothing")
        return _term(value, phrase=kind == "phrase")


def _term(value: str, phrase: bool) -> Node | None:
    """A word or phrase; None for a stand-alone dash or comma (text punctuation, nothing to search for)."""
    prefix = not phrase and value.endswith("*")
    words = tuple(word.lower() for word in _WORD.findall(value.rstrip("*") if prefix else value))
    if not words and phrase:
        raise QueryError("a phrase between quotes has no word in it")
    if not words and not value.strip("*"):
        raise QueryError("a bare * matches everything: put it at the end of a word (deleg*)")
    if not words and not phrase and set(value) <= _PUNCTUATION:
        return None
    if not words:
        raise QueryError(f"{value!r} is not something to search for: words are letters and digits")
    if prefix and len(words[-1]) < 2:
        raise QueryError(f"{value!r}: a prefix needs at least two letters before the *")
    return Term(words, prefix)


def _terms(node: Node) -> int:
    if isinstance(node, Term):
        return len(node.words)
    if isinstance(node, Not):
        return _terms(node.node)
    return sum(_terms(child) for child in node.nodes)


def _positive(node: Node) -> bool:
    """Whether the query finds something by itself (not only leaves things out)."""
    if isinstance(node, Term):
        return True
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(_positive(child) for child in node.nodes)
    return all(_positive(child) for child in node.nodes)


# --- the engines' spellings ------------------------------------------------------------------------------


def to_fts5(node: Node) -> str:
    """The query in SQLite FTS5's syntax: every word quoted, so nothing in it is FTS5 syntax of its own."""
    if isinstance(node, Term):
        return '"' + " ".join(node.words) + '"' + ("*" if node.prefix else "")
    if isinstance(node, Or):
        return "(" + " OR ".join(to_fts5(child) for child in node.nodes) + ")"
    if isinstance(node, Not):  # only within an AND (a query is never only negations)
        return to_fts5(node.node)
    positive = [to_fts5(child) for child in node.nodes if not isinstance(child, Not)]
    negative = [to_fts5(child) for child in node.nodes if isinstance(child, Not)]
    text = "(" + " AND ".join(positive) + ")"
    return "(" + " NOT ".join([text, *negative]) + ")" if negative else text


def to_tsquery(node: Node) -> str:
    """The query in PostgreSQL's ``to_tsquery`` syntax (configuration ``simple``: words as FTS5 sees them)."""
    if isinstance(node, Term):
        words = [f"'{word}'" for word in node.words]
        if node.prefix:
            words[-1] += ":*"
        return "(" + " <-> ".join(words) + ")"
    if isinstance(node, Not):
        return f"!{to_tsquery(node.node)}"
    joiner = " | " if isinstance(node, Or) else " & "
    return "(" + joiner.join(to_tsquery(child) for child in node.nodes) + ")"


def words(node: Node) -> list[str]:
    """The words the query looks for (not those it leaves out): what a result page highlights."""
    if isinstance(node, Term):
        return list(node.words)
    if isinstance(node, Not):
        return []
    return [word for child in node.nodes for word in words(child)]
