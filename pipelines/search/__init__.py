"""Search the archive: full text and filters over the latest version of every article, with facets.

The index (table ``articles``, made by migration 0005) is kept in step by the capture path and rebuilt by
replay. One :class:`SearchQuery` runs on either engine: SQLite FTS5 (the default catalog) or PostgreSQL's
full text search (``DATABASE_URL``); the query language is parsed here (:mod:`pipelines.search.query`) and
written out in each engine's syntax, so both find the same articles.

    results = Search(catalog_engine).run(SearchQuery(text='"white house" rafah', outlets=("axios",)))
    for row in Search(catalog_engine).rows(query):   # every match, streamed (exports)
        ...

Anything a user can get wrong (the query, a date, a page number, an unknown outlet) raises
:class:`QueryError` with a message for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pipelines.search.query import QueryError, parse, to_fts5, to_tsquery, words

__all__ = ["MARK", "ORDERS", "QueryError", "Search", "SearchQuery", "SearchResult", "marked_spans"]

#: Orders of results: relevance (with a text query; else newest), newest or oldest first (by article day).
ORDERS = ("relevance", "newest", "oldest")
MAX_PER_PAGE = 100
#: The deepest result a page may reach: beyond, export the search instead.
MAX_OFFSET = 10_000
FACET_SIZE = 20
#: The fields of a result row (a page, an export line); ``text`` is the standfirst and body.
FIELDS = ("record_id", "outlet", "url", "title", "byline", "authors", "source", "section", "language", "published",
          "fetched", "first_fetched", "day", "version", "word_count")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Around the words a snippet shows that the query found: characters no article text holds (control codes).
MARK = ("\x02", "\x03")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SNIPPET_WORDS = 30


@dataclass(frozen=True)
class SearchQuery:
    """What to find. Dates are ``YYYY-MM-DD`` strings or dates, both ends included."""

    text: str = ""
    outlets: tuple[str, ...] = ()
    published_from: str = ""
    published_to: str = ""
    fetched_from: str = ""
    fetched_to: str = ""
    author: str = ""  # one of the article's authors (case does not matter)
    source: str = ""  # the credited source, exactly (AFP, Axios, ...)
    section: str = ""
    language: str = ""
    order: str = "relevance"
    page: int = 1
    per_page: int = 20

    def checked(self, known_outlets: set[str] | None = None) -> SearchQuery:
        """The same query, its values checked (and dates normalised); :class:`QueryError` says what is wrong."""
        if self.order not in ORDERS:
            raise QueryError(f"order must be one of {', '.join(ORDERS)}, not {self.order!r}")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}")
        if self.page < 1:
            raise QueryError("page numbers start at 1")
        if (self.page - 1) * self.per_page >= MAX_OFFSET:
            raise QueryError(f"results beyond the first {MAX_OFFSET:,} are not paged: export the search instead")
        unknown = sorted(set(self.outlets) - known_outlets) if known_outlets is not None else []
        if unknown:
            known = ", ".join(sorted(known_outlets or ()))
            raise QueryError(f"unknown outlet {', '.join(map(repr, unknown))}; known: {known}")
        dates = {name: _date(name, getattr(self, name)) for name in
                 ("published_from", "published_to", "fetched_from", "fetched_to")}
        for start, end in (("published_from", "published_to"), ("fetched_from", "fetched_to")):
            if dates[start] and dates[end] and dates[start] > dates[end]:
                raise QueryError(f"{start} ({dates[start]}) is after {end} ({dates[end]})")
        values = {name: getattr(self, name) for name in ("text", "author", "source", "section", "language")}
        for name, value in [*values.items(), *(("outlets", outlet) for outlet in self.outlets)]:
            if _CONTROL.search(value):
                raise QueryError(f"{name} holds a control character")
        if self.text.strip():
            parse(self.text)
        return replace(self, **dates)


def _date(name: str, value: str | date) -> str:
    if isinstance(value, date):
        return value.isoformat()
    value = (value or "").strip()
    if not value:
        return ""
    if not _DAY.match(value):
        raise QueryError(f"{name} must be a date written YYYY-MM-DD, not {value[:40]!r}")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as error:
        raise QueryError(f"{name}: {value} is not a date ({error})") from error


@dataclass
class SearchResult:
    query: SearchQuery
    total: int
    hits: list[dict[str, Any]]  # FIELDS, plus snippet (the body around the words found, see MARK) and score
    facets: dict[str, list[tuple[str, int]]]  # outlets, authors, sources: (value, matching articles), most first
    per_day: list[tuple[str, str, int]]  # (day, outlet, matching articles)
    day_totals: dict[str, dict[str, int]] = field(default_factory=dict)  # day -> outlet -> all its articles that day
    words: list[str] = field(default_factory=list)  # what the query looks for (to highlight)

    @property
    def pages(self) -> int:
        return max(1, -(-min(self.total, MAX_OFFSET) // self.query.per_page))


class Search:
    """Searches the index of one catalog database (a SQLAlchemy engine on SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    def outlets(self) -> set[str]:
        """The outlets the index has articles of."""
        with self.engine.connect() as connection:
            return {row[0] for row in connection.execute(sa.text("SELECT DISTINCT outlet FROM articles"))}

    def run(self, query: SearchQuery) -> SearchResult:
        """One page of results, with the facets and counts per day of every match.

        Four statements run the search (none writes, so a read-only connection serves): the counts per day
        and outlet (which also give the total and the outlet facet), the source and author facets, and the
        page itself.
        """
        matches, parameters = self._matches(query)
        offset = (query.page - 1) * query.per_page
        with self.engine.connect() as connection:
            per_day = [tuple(row) for row in connection.execute(sa.text(
                f"SELECT a.day, a.outlet, count(*) FROM ({matches}) m JOIN articles a ON a.id = m.id "
                "GROUP BY a.day, a.outlet ORDER BY a.day, a.outlet"), parameters)]
            outlets: dict[str, int] = {}
            for _, outlet, count in per_day:
                outlets[outlet] = outlets.get(outlet, 0) + count
            page = connection.execute(sa.text(
                f"SELECT m.id, m.score FROM ({matches}) m JOIN articles a ON a.id = m.id "
                f"ORDER BY {self._order(query)} LIMIT :limit OFFSET :offset"),
                {**parameters, "limit": query.per_page, "offset": offset}).all()
            hits = self._page(connection, query, parameters, page)
            facets = {
                "outlets": sorted(outlets.items(), key=lambda item: (-item[1], item[0]))[:FACET_SIZE],
                "sources": self._facet(connection, matches, parameters, "a.source"),
                "authors": self._authors_facet(connection, matches, parameters),
            }
            totals = self._day_totals(connection, per_day)
        return SearchResult(query, sum(outlets.values()), hits, facets, per_day, totals,
                            words(parse(query.text)) if query.text.strip() else [])

    def _page(self, connection: sa.Connection, query: SearchQuery, parameters: dict[str, Any],
              page: list[sa.Row]) -> list[dict[str, Any]]:
        """The page's articles, in order, each with a snippet of its body around the words found."""
        if not page:
            return []
        scores = {row[0]: row[1] for row in page}
        ids = sa.bindparam("ids", expanding=True)
        if not query.text.strip():
            snippet, source, condition = "substr(a.body, 1, 300)", "articles a", "a.id IN :ids"
        elif self.postgres:
            snippet = "ts_headline('simple', a.body, to_tsquery('simple', :tsquery), :headline)"
            parameters = {**parameters, "headline": f"MaxWords={_SNIPPET_WORDS}, MinWords=10, MaxFragments=2, "
                                                    f"StartSel={MARK[0]}, StopSel={MARK[1]}, FragmentDelimiter= ... "}
            source, condition = "articles a", "a.id IN :ids"
        else:  # snippet() needs the FTS5 table, matched, in the query
            snippet = f"snippet(articles_fts, 2, :mark_start, :mark_end, ' ... ', {_SNIPPET_WORDS // 2})"
            parameters = {**parameters, "mark_start": MARK[0], "mark_end": MARK[1]}
            source = "articles_fts JOIN articles a ON a.id = articles_fts.rowid"
            condition = "articles_fts MATCH :fts AND articles_fts.rowid IN :ids"
        rows = connection.execute(
            sa.text(f"SELECT a.id, {_columns('a')}, {snippet} AS snippet FROM {source} WHERE {condition}")
            .bindparams(ids), {**parameters, "ids": list(scores)})
        found = {row.id: {**row._mapping, "score": scores[row.id]} for row in rows}
        hits = [found[article_id] for article_id in scores if article_id in found]
        _authors(connection, hits)
        return hits

    def rows(self, query: SearchQuery, text: bool = True, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Every match, in the query's order, one at a time (flat memory: the database streams them).

        ``text`` adds the article's ``standfirst`` and ``body``.
        """
        matches, parameters = self._matches(query)
        extra = ", a.standfirst, a.body" if text else ""
        sql = (f"SELECT a.id, {_columns('a')}{extra} FROM ({matches}) m JOIN articles a ON a.id = m.id "
               f"ORDER BY {self._order(query)}")
        with self.engine.connect().execution_options(stream_results=True, yield_per=batch) as connection:
            result = connection.execute(sa.text(sql), parameters)
            for chunk in result.mappings().partitions(batch):
                rows = [dict(row) for row in chunk]
                _authors(connection, rows)
                yield from rows

    # -- the parts of a query

    def _matches(self, query: SearchQuery) -> tuple[str, dict[str, Any]]:
        """A SELECT of (id, score) of the matching articles, and its parameters."""
        conditions, parameters = _filters(query)
        if not query.text.strip():
            where = " AND ".join(conditions) or "1 = 1"
            return f"SELECT a.id AS id, 0.0 AS score FROM articles a WHERE {where}", parameters
        node = parse(query.text)
        if self.postgres:
            parameters["tsquery"] = to_tsquery(node)
            conditions.insert(0, "a.document @@ to_tsquery('simple', :tsquery)")
            where = " AND ".join(conditions)
            return (f"SELECT a.id AS id, ts_rank_cd(a.document, to_tsquery('simple', :tsquery)) AS score "
                    f"FROM articles a WHERE {where}", parameters)
        parameters["fts"] = to_fts5(node)
        where = " AND ".join(["articles_fts MATCH :fts", *conditions])
        # CROSS JOIN: SQLite keeps that order, the index first (left alone, its planner starts from a filter's
        # index and runs the full-text query once per row: 250x slower on a selective phrase)
        return ("SELECT a.id AS id, -bm25(articles_fts, 10.0, 5.0, 1.0) AS score FROM articles_fts "
                f"CROSS JOIN articles a ON a.id = articles_fts.rowid WHERE {where}", parameters)

    @staticmethod
    def _order(query: SearchQuery) -> str:
        if query.order == "relevance" and query.text.strip():
            return "m.score DESC, a.day DESC, a.id DESC"
        if query.order == "oldest":
            return "a.day ASC, a.published ASC, a.id ASC"
        return "a.day DESC, a.published DESC, a.id DESC"

    @staticmethod
    def _facet(connection: sa.Connection, matches: str, parameters: dict, column: str) -> list[tuple[str, int]]:
        sql = (f"SELECT {column}, count(*) AS n FROM ({matches}) m JOIN articles a ON a.id = m.id "
               f"WHERE {column} IS NOT NULL AND {column} <> '' GROUP BY {column} ORDER BY n DESC, {column} "
               f"LIMIT {FACET_SIZE}")
        return [(row[0], row[1]) for row in connection.execute(sa.text(sql), parameters)]

    @staticmethod
    def _authors_facet(connection: sa.Connection, matches: str, parameters: dict) -> list[tuple[str, int]]:
        sql = (f"SELECT w.name, count(*) AS n FROM ({matches}) m JOIN article_authors w ON w.article_id = m.id "
               f"GROUP BY w.name ORDER BY n DESC, w.name LIMIT {FACET_SIZE}")
        return [(row[0], row[1]) for row in connection.execute(sa.text(sql), parameters)]

    @staticmethod
    def _day_totals(connection: sa.Connection, per_day: list[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
        """All articles of each outlet on the days the matches span (what the matches are a share of)."""
        if not per_day:
            return {}
        outlets = sorted({outlet for _, outlet, _ in per_day})
        sql = sa.text("SELECT day, outlet, count(*) FROM articles WHERE day BETWEEN :first AND :last "
                      "AND outlet IN :outlets GROUP BY day, outlet").bindparams(sa.bindparam("outlets", expanding=True))
        totals: dict[str, dict[str, int]] = {}
        for day, outlet, count in connection.execute(
                sql, {"first": per_day[0][0], "last": per_day[-1][0], "outlets": outlets}):
            totals.setdefault(day, {})[outlet] = count
        return totals


def _columns(alias: str) -> str:
    return ", ".join(f"{alias}.{name}" for name in FIELDS if name != "authors")


def _filters(query: SearchQuery) -> tuple[list[str], dict[str, Any]]:
    """SQL conditions on ``articles a`` for the query's filters (values always bound, never spliced in)."""
    conditions: list[str] = []
    parameters: dict[str, Any] = {}
    if query.outlets:
        names = {f"outlet_{n}": outlet for n, outlet in enumerate(query.outlets)}
        conditions.append(f"a.outlet IN ({', '.join(':' + name for name in names)})")
        parameters.update(names)
    for column, start, end in (("published", query.published_from, query.published_to),
                               ("fetched", query.fetched_from, query.fetched_to)):
        if start:
            conditions.append(f"a.{column} >= :{column}_from")
            parameters[f"{column}_from"] = start
        if end:  # the whole of the last day: before the next one starts
            conditions.append(f"a.{column} < :{column}_to")
            parameters[f"{column}_to"] = (date.fromisoformat(end) + timedelta(days=1)).isoformat()
    for column in ("source", "section", "language"):
        if value := getattr(query, column).strip():
            conditions.append(f"a.{column} = :{column}")
            parameters[column] = value
    if query.author.strip():
        conditions.append("a.id IN (SELECT article_id FROM article_authors WHERE folded = :author)")
        parameters["author"] = query.author.strip().casefold()
    return conditions, parameters


def _authors(connection: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Give each result row its list of authors (in byline order), in place of the row's internal id."""
    if not rows:
        return
    sql = sa.text("SELECT article_id, name FROM article_authors WHERE article_id IN :ids ORDER BY position"
                  ).bindparams(sa.bindparam("ids", expanding=True))
    found: dict[int, list[str]] = {}
    for article_id, name in connection.execute(sql, {"ids": [row["id"] for row in rows]}):
        found.setdefault(article_id, []).append(name)
    for row in rows:
        row["authors"] = found.get(row.pop("id"), [])


def marked_spans(snippet: str) -> tuple[str, list[tuple[int, int]]]:
    """A snippet's text without its marks, and where in it the marked words are ((start, end) offsets)."""
    text, spans, start = [], [], None
    length = 0
    for piece in re.split(f"([{MARK[0]}{MARK[1]}])", snippet):
        if piece == MARK[0]:
            start = length
        elif piece == MARK[1]:
            if start is not None and length > start:
                spans.append((start, length))
            start = None
        else:
            text.append(piece)
            length += len(piece)
    return "".join(text), spans
