"""Search over the archive, the same tests on both engines: SQLite FTS5 and PostgreSQL full text search.

The articles go in the way a crawl puts them in: through the capture path (``pipelines.process``: extract,
then record, which keeps the search index in step), from pages written as news sites mark them up.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from pathlib import Path

import pytest

from pipelines.capture import Capture, WarcLocation
from pipelines.catalog import Catalog
from pipelines.outlets import OutletProfile
from pipelines.process import extract, record
from pipelines.search import MAX_OFFSET, QueryError, Search, SearchQuery, marked_spans
from pipelines.search.query import parse, to_fts5, to_tsquery
from tests.localweb.generate import news_article_html

#: (outlet, slug, title, paragraphs, author, published, site)
ARTICLES = [
    ("axios", "rafah-delegation", "Netanyahu sends delegation to White House for Rafah talks",
     ["Israel will send a delegation to the White House to discuss a planned offensive in Rafah.",
      "The talks were cancelled last week after a vote at the UN Security Council."],
     "Barak Ravid", "2024-03-27T15:00:00+00:00", "Axios"),
    ("almayadeen", "rafah-delegation-report", "Netanyahu sending delegation to White House for talks on Rafah",
     ["Source: Axios. The Israeli prime minister will send a delegation to Washington.",
      "Officials said the delegation would discuss the Rafah operation with the White House."],
     "Al Mayadeen English", "2024-03-28T05:38:00+02:00", "Al Mayadeen English"),
    ("ndtv", "reschedule-meeting", "Israel asks US to reschedule scrapped meeting on Rafah offensive plans",
     ["Israel has asked the United States to reschedule a meeting on its planned Rafah offensive, AFP reports.",
      "The meeting was scrapped after Washington abstained in a Security Council vote on Gaza."],
     "Agence France-Presse", "2024-03-28T10:00:00+00:00", "NDTV"),
    ("ndtv", "monsoon-forecast", "Monsoon forecast promises normal rains across India",
     ["Weather officials forecast a normal monsoon season for farmers across the country.",
      "Delegations of farmers welcomed the forecast at a meeting in Delhi."],
     "Staff Reporter", "2024-03-29T08:00:00+05:30", "NDTV"),
    ("axios", "delegate-count", "Delegates gather for the party convention",
     ["Thousands of delegates gathered for the convention in Chicago.",
      "The delegation from Texas arrived a day late."],
     "Jane Doe", "2024-03-30T12:00:00+00:00", "Axios"),
    ("axios", "xss", "<script>alert(1)</script> Headline with a script tag",
     ["<img src=x onerror=alert(1)> A body that tries to run script in a reader's browser, mentioning Rafah."],
     "Mallory", "2024-03-30T13:00:00+00:00", "Axios"),
]
#: Pages whose text (escaped in their HTML, so a browser shows it) is markup: stored as text, never as markup.
SHOWS_MARKUP = {"xss"}


@pytest.fixture
def catalog(database: str, tmp_path: Path) -> Iterator[Catalog]:
    """A catalog holding ARTICLES (the first one also in an earlier, different version), on either engine."""
    store = Catalog(database)
    first = ARTICLES[0]
    capture_article(store, tmp_path, 0, first[:2] + ("Draft headline about a meeting",) + first[3:], "2024-03-27")
    for number, article in enumerate(ARTICLES, start=1):
        capture_article(store, tmp_path, number, article, "2024-03-31")
    yield store
    store.close()


def capture_article(store: Catalog, root: Path, number: int, article: tuple, day: str) -> None:
    outlet, slug, title, paragraphs, author, published, site = article
    if slug in SHOWS_MARKUP:
        title, paragraphs = escape(title), [escape(text) for text in paragraphs]
    html = news_article_html(title, paragraphs, author, published, site)
    location = WarcLocation(f"{outlet}-20240331000000000-00000-host.warc.gz", number * 1000, 900, number,
                            f"<urn:uuid:{number:08d}>", f"{day}T0{number % 10}:00:00.000000Z", f"sha1:{number}")
    capture = Capture(f"https://www.{outlet}.test/news/{slug}", 200, {"content-type": "text/html; charset=utf-8"},
                      html.encode(), location)
    profile = OutletProfile(outlet, site_name=site)
    outcome = record(store, capture, outlet, extract(capture, profile, root))
    assert outcome.change in {"new", "updated"}, outcome


def titles(search: Search, **query: object) -> list[str]:
    return [hit["title"] for hit in search.run(SearchQuery(**query, per_page=50)).hits]


def test_words_phrases_operators_and_prefixes(catalog: Catalog) -> None:
    search = Search(catalog.engine)
    assert len(titles(search, text="rafah")) == 4
    assert set(titles(search, text='"white house"')) == {ARTICLES[0][2], ARTICLES[1][2]}
    assert set(titles(search, text='"house white"')) == set()  # a phrase is words in order
    assert set(titles(search, text="rafah -afp -axios")) == {ARTICLES[0][2], ARTICLES[5][2]}
    assert set(titles(search, text="monsoon OR convention")) == {ARTICLES[3][2], ARTICLES[4][2]}
    assert set(titles(search, text="(monsoon OR convention) AND delegation")) == {ARTICLES[4][2]}
    prefix = set(titles(search, text="deleg*"))
    assert {ARTICLES[0][2], ARTICLES[1][2], ARTICLES[3][2], ARTICLES[4][2]} <= prefix
    assert ARTICLES[2][2] not in prefix
    assert titles(search, text="nothingmatchesthis") == []


def test_only_the_latest_version_is_searched(catalog: Catalog) -> None:
    search = Search(catalog.engine)
    assert titles(search, text='"draft headline"') == []
    [hit] = search.run(SearchQuery(text='"sends delegation"')).hits
    assert hit["version"] == 2 and hit["first_fetched"].startswith("2024-03-27")


def test_filters_facets_and_the_chart(catalog: Catalog) -> None:
    search = Search(catalog.engine)
    result = search.run(SearchQuery(text="rafah", outlets=("axios", "ndtv"), order="oldest"))
    assert [hit["outlet"] for hit in result.hits] == ["axios", "ndtv", "axios"]
    assert result.facets["outlets"] == [("axios", 2), ("ndtv", 1)]
    assert ("Agence France-Presse", 1) in result.facets["authors"]
    assert dict(result.facets["sources"])["AFP"] == 1
    assert result.per_day == [("2024-03-27", "axios", 1), ("2024-03-28", "ndtv", 1), ("2024-03-30", "axios", 1)]
    assert result.day_totals["2024-03-30"] == {"axios": 2}  # the day's articles, matching or not
    on_the_28th = titles(search, text="rafah", published_from="2024-03-28", published_to="2024-03-28")
    assert set(on_the_28th) == {ARTICLES[1][2], ARTICLES[2][2]}
    assert titles(search, text="rafah", author="barak RAVID") == [ARTICLES[0][2]]
    assert titles(search, source="AFP") == [ARTICLES[2][2]]
    assert len(titles(search, fetched_from="2024-03-31")) == 6 and titles(search, fetched_to="2024-03-30") == []
    newest = search.run(SearchQuery(order="newest", per_page=2))
    assert newest.total == 6 and newest.pages == 3 and newest.hits[0]["day"] == "2024-03-30"
    second = search.run(SearchQuery(order="newest", per_page=2, page=2))
    assert not {hit["record_id"] for hit in second.hits} & {hit["record_id"] for hit in newest.hits}


def test_relevance_snippets_and_export_rows(catalog: Catalog) -> None:
    search = Search(catalog.engine)
    result = search.run(SearchQuery(text="delegation"))
    assert result.words == ["delegation"]
    for hit in result.hits:  # the words found, marked with characters no text holds
        text, spans = marked_spans(hit["snippet"])
        assert spans and all(text[start:end].lower().startswith("delegation") for start, end in spans)
    assert result.hits[0]["score"] >= result.hits[-1]["score"]
    rows = list(search.rows(SearchQuery(text="rafah", order="oldest")))
    assert [row["record_id"] for row in rows] == [
        hit["record_id"] for hit in search.run(SearchQuery(text="rafah", order="oldest")).hits]
    assert all(row["body"] and "authors" in row for row in rows)


def test_archived_markup_stays_text(catalog: Catalog) -> None:
    [hit] = Search(catalog.engine).run(SearchQuery(text="mallory OR onerror OR script")).hits
    assert hit["title"].startswith("<script>alert(1)</script>")  # stored as the page's text; escaping is the web's


@pytest.mark.parametrize("bad", ['"unclosed', "AND", "rafah AND", "OR rafah", "NOT rafah", "-rafah", "*", "(rafah",
                                 "rafah)", "'; DROP TABLE captures; --", "' OR 1=1 --", "x" * 600])
def test_malformed_queries_are_refused_with_a_reason(catalog: Catalog, bad: str) -> None:
    with pytest.raises(QueryError) as error:
        SearchQuery(text=bad).checked({"axios"})
    assert str(error.value)
    assert Search(catalog.engine).run(SearchQuery(text="rafah")).total == 4  # and nothing was harmed


@pytest.mark.parametrize(("field", "value"), [
    ("page", 0), ("page", -1), ("page", 10**9), ("per_page", 0), ("per_page", 10**6), ("order", "random"),
    ("published_from", "yesterday"), ("published_to", "2024-02-30"), ("fetched_from", "2024-13-01"),
    ("outlets", ("nosuchoutlet",)), ("author", "nul\x00byte"), ("text", "rafah\x1b[31m"),
])
def test_bad_filters_are_refused_with_a_reason(field: str, value: object) -> None:
    with pytest.raises(QueryError) as error:
        SearchQuery(**{field: value}).checked({"axios", "ndtv"})
    assert str(error.value)


def test_dates_run_forwards_and_pages_stop_where_export_begins() -> None:
    with pytest.raises(QueryError, match="after"):
        SearchQuery(published_from="2024-03-30", published_to="2024-03-01").checked()
    with pytest.raises(QueryError, match="export"):
        SearchQuery(page=MAX_OFFSET // 20 + 1, per_page=20).checked()
    assert SearchQuery(published_from="2024-03-01").checked().published_from == "2024-03-01"


def test_one_parse_two_spellings() -> None:
    node = parse('"White House" rafah -egypt deleg*')
    assert to_fts5(node) == '(("white house" AND "rafah" AND "deleg"*) NOT "egypt")'
    assert to_tsquery(node) == "(('white' <-> 'house') & ('rafah') & !('egypt') & ('deleg':*))"
