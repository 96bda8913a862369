"""The data of every page: one dict that the page renders and its JSON twin under ``/api/`` returns.

Links in it are relative to the reading room (``href``); anything a user got wrong raises :class:`BadRequest`
or :class:`NotFound` with a message for them (the app answers 400 / 404).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from markupsafe import Markup, escape

from pipelines import health
from pipelines.catalog.runs import describe as describe_run
from pipelines.search import FIELDS, MAX_OFFSET, Search, SearchQuery, marked_spans
from pipelines.urls import url_key
from reader import charts, diff
from reader.catalog import ReadCatalog
from reader.config import ReaderConfig

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
UUID_REF = re.compile(rf"^{_UUID}$")
_UUID_RECORD = re.compile(rf"^<urn:uuid:({_UUID})>$")
#: The longest filter value accepted (the query itself: pipelines.search.query.MAX_QUERY_LENGTH).
MAX_VALUE = 200
CHANGES_PER_PAGE = 25
RUNS_PER_PAGE = 50
HEALTH_RUNS = 30
LAST_RUNS = 5


class BadRequest(ValueError):
    """Something in the request cannot be answered as asked; the message says what, for the user."""


class NotFound(LookupError):
    """What the request names is not in the archive."""


# -- input


def check_value(name: str, value: str, limit: int = MAX_VALUE) -> str:
    """A text parameter, refused when it is too long or holds control characters."""
    if len(value) > limit:
        raise BadRequest(f"{name} is longer than {limit} characters")
    if any(unicodedata.category(char) in {"Cc", "Cs"} for char in value):
        raise BadRequest(f"{name} contains a control character")
    return value


def check_page(page: int, per_page: int) -> int:
    if page < 1:
        raise BadRequest("page numbers start at 1")
    if (page - 1) * per_page >= MAX_OFFSET:
        raise BadRequest(f"pages go no further than result {MAX_OFFSET:,}")
    return page


def check_outlet(outlet: str, known: Iterable[str]) -> str:
    known = sorted(known)
    if outlet and outlet not in known:
        raise BadRequest(f"unknown outlet {outlet[:60]!r}; known: {', '.join(known) or 'none yet'}")
    return outlet


# -- links


def article_href(record_id: str) -> str:
    """The article page of one capture: ``/article/<uuid>`` for the usual record ids."""
    match = _UUID_RECORD.match(record_id or "")
    return f"/article/{match[1]}" if match else "/article?" + urlencode({"record": record_id})


def record_of(ref: str) -> str:
    if not UUID_REF.match(ref):
        raise NotFound(f"{ref[:80]!r} is not a capture id: article pages are /article/<uuid of the WARC record> "
                       "or /article?record=<WARC-Record-ID>")
    return f"<urn:uuid:{ref.lower()}>"


def pywb_href(config: ReaderConfig, capture: dict[str, Any]) -> str | None:
    """The capture in pywb at its own time: ``<pywb>/<outlet>/<14-digit WARC-Date>/<url>``."""
    stamp = re.sub(r"\D", "", capture.get("fetched") or "")[:14]
    url = capture.get("url") or ""
    if len(stamp) != 14 or urlsplit(url).scheme not in {"http", "https"}:
        return None
    return f"{config.pywb_url.rstrip('/')}/{quote(capture['outlet'], safe='')}/{stamp}/{url}"


def live_href(url: str | None) -> str | None:
    return url if url and urlsplit(url).scheme in {"http", "https"} else None


def with_params(path: str, pairs: Iterable[tuple[str, Any]]) -> str:
    kept = [(name, value) for name, value in pairs if value not in (None, "")]
    return f"{path}?{urlencode(kept)}" if kept else path


# -- search


def search_pairs(query: SearchQuery, **changes: Any) -> list[tuple[str, Any]]:
    """The URL parameters of a search (as the form sends them), with some changed."""
    values: dict[str, Any] = {
        "q": query.text, "outlet": list(query.outlets), "published_from": query.published_from,
        "published_to": query.published_to, "fetched_from": query.fetched_from, "fetched_to": query.fetched_to,
        "author": query.author, "source": query.source, "section": query.section, "language": query.language,
        "order": "" if query.order == "relevance" else query.order,
        "per_page": "" if query.per_page == 20 else query.per_page, "page": "" if query.page == 1 else query.page,
    }
    values.update(changes)
    pairs = []
    for name, value in values.items():
        pairs += [(name, item) for item in value] if isinstance(value, list) else [(name, value)]
    return pairs


def highlight(text: str, spans: list[list[int]] | list[tuple[int, int]]) -> Markup:
    """The snippet's text escaped, the words the query found (``spans``: offsets) marked."""
    out, position = [], 0
    for start, end in spans:
        out += [escape(text[position:start]), Markup("<mark>"), escape(text[start:end]), Markup("</mark>")]
        position = end
    out.append(escape(text[position:]))
    return Markup("").join(out)


def search_view(catalog: ReadCatalog, query: SearchQuery) -> dict[str, Any]:
    search = Search(catalog.engine)
    known = search.outlets()
    checked = query.checked(known)
    result = search.run(checked)
    if checked.page > result.pages:
        raise BadRequest(f"page {checked.page} is beyond the last page of this search ({result.pages})")
    hits = []
    for hit in result.hits:
        entry = {name: hit.get(name) for name in FIELDS}
        snippet, spans = marked_spans(hit.get("snippet") or "")
        if not result.words and len(snippet) >= 300:  # the body's start (no words to show around): cut
            snippet += " …"
        entry.update(snippet=snippet, highlights=[list(span) for span in spans], score=hit.get("score"),
                     href=article_href(hit["record_id"]))
        hits.append(entry)
    unit, buckets = charts.buckets(result.per_day, result.day_totals)
    per_day = [{"day": day, "outlet": outlet, "count": count,
                "outlet_total": result.day_totals.get(day, {}).get(outlet, 0),
                "share": round(count / result.day_totals[day][outlet], 4)
                if result.day_totals.get(day, {}).get(outlet) else None}
               for day, outlet, count in result.per_day]
    facets = {
        "outlets": [{"value": value, "count": count, "href": with_params("/search", search_pairs(
            checked, outlet=[value], page=""))} for value, count in result.facets["outlets"]],
        "authors": [{"value": value, "count": count, "href": with_params("/search", search_pairs(
            checked, author=value, page=""))} for value, count in result.facets["authors"]],
        "sources": [{"value": value, "count": count, "href": with_params("/search", search_pairs(
            checked, source=value, page=""))} for value, count in result.facets["sources"]],
    }
    first = max(1, checked.page - 4)
    pages = [{"page": n, "href": with_params("/search", search_pairs(checked, page=n)), "current": n == checked.page}
             for n in range(first, min(result.pages, first + 9) + 1)]
    return {
        "query": {"q": checked.text, "outlets": list(checked.outlets), "published_from": checked.published_from,
                  "published_to": checked.published_to, "fetched_from": checked.fetched_from,
                  "fetched_to": checked.fetched_to, "author": checked.author, "source": checked.source,
                  "section": checked.section, "language": checked.language, "order": checked.order,
                  "page": checked.page, "per_page": checked.per_page},
        "total": result.total,
        "pages": result.pages,
        "words": result.words,
        "hits": hits,
        "facets": facets,
        "per_day": per_day,
        "chart_unit": unit,
        "chart_buckets": buckets,
        "known_outlets": sorted(known),
        "notice": (f"The search index is empty, but the catalog holds {missing:,} articles: it was made before the "
                   f"index existed. Build the index from the archive with `scrapy replay {catalog.root} -o "
                   f"{catalog.root}` (no network needed; the archive's files are rewritten as they were)."
                   if not known and (missing := catalog.unindexed()) else ""),
        "pagination": {
            "previous": with_params("/search", search_pairs(checked, page=checked.page - 1))
            if checked.page > 1 else None,
            "next": with_params("/search", search_pairs(checked, page=checked.page + 1))
            if checked.page < result.pages else None,
            "pages": pages,
        },
        "exports": {fmt: with_params("/api/search/export", [("format", fmt),
                                                            *search_pairs(checked, page="", per_page="")])
                    for fmt in ("jsonl", "csv", "parquet")},
        "api": with_params("/api/search", search_pairs(checked)),
    }


def search_html(view: dict[str, Any]) -> dict[str, Any]:
    """What only the HTML page needs: highlighted snippets, the charts."""
    outlets = sorted({row["outlet"] for row in view["per_day"]})
    return {
        "snippets": [highlight(hit["snippet"], hit["highlights"]) for hit in view["hits"]],
        "charts": charts.matches_chart(view["chart_buckets"], outlets, view["chart_unit"]) if outlets else None,
        "legend": [(outlet, charts.color(i)) for i, outlet in enumerate(outlets)],
    }


# -- articles


def _body(text: str | None, title: str | None) -> str:
    """The article text without its headline line (the headline is compared on its own)."""
    lines = (text or "").splitlines()
    if lines and title and lines[0].strip() == title.strip():
        lines = lines[1:]
    return "\n".join(lines)


def version_diff(catalog: ReadCatalog, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What changed from one extracted capture to the next: headline, byline, body."""
    old_text, _ = catalog.text(old.get("article_text_path"))
    new_text, _ = catalog.text(new.get("article_text_path"))
    headline = diff.field(old.get("title"), new.get("title"))
    byline = diff.field(old.get("byline"), new.get("byline"))
    missing = [c["record_id"] for c, text in ((old, old_text), (new, new_text)) if text is None]
    hunks = diff.body(_body(old_text, old.get("title")), _body(new_text, new.get("title"))) if not missing else []
    return {"from_record_id": old["record_id"], "from_version": old.get("version"), "headline": headline,
            "byline": byline, "body": hunks, "summary": diff.summary(headline, byline, hunks),
            "text_missing": missing}


def provenance(capture: dict[str, Any]) -> dict[str, Any]:
    return {"warc_file": capture.get("warc_file"),
            "warc_path": f"{capture['outlet']}/warc/{capture['warc_file']}" if capture.get("warc_file") else None,
            "warc_offset": capture.get("warc_offset"), "warc_length": capture.get("warc_length"),
            "record_id": capture.get("record_id"), "payload_digest": capture.get("payload_digest"),
            "fetched": capture.get("fetched"), "extractor_version": capture.get("extractor_version"),
            "extracted_at": capture.get("extracted_at")}


def article_view(catalog: ReadCatalog, config: ReaderConfig, record_id: str) -> dict[str, Any]:
    asked = catalog.capture(record_id)
    if asked is None:
        raise NotFound(f"no capture with record id {record_id[:100]!r} in the catalog")
    outlet, key = asked["outlet"], asked.get("url_key")
    family = catalog.captures_of(outlet, key) if key else [asked]
    by_id = {capture["record_id"]: capture for capture in family}
    versions = sorted((c for c in family if c["status"] == "extracted"),
                      key=lambda c: (c["version"] or 0, c["fetched"] or ""))
    shown = asked if asked["status"] == "extracted" else None
    if asked["status"] == "unchanged":  # a revisit: the version whose payload it repeats, else the one before it
        repeated = by_id.get(asked.get("revisit_of") or "")
        shown = repeated if repeated and repeated["status"] == "extracted" else _latest_before(versions, asked)
    article_text, article_cut = catalog.text(shown.get("article_text_path")) if shown else (None, False)
    page_text, page_cut = catalog.text(shown.get("page_text_path")) if shown else (None, False)
    metadata = catalog.metadata(shown.get("metadata_path")) if shown else None
    owner: dict[str, list[dict[str, Any]]] = {}  # the unchanged revisits of each version
    for capture in family:
        if capture["status"] == "unchanged":
            target = by_id.get(capture.get("revisit_of") or "")
            if target is None or target["status"] != "extracted":
                target = _latest_before(versions, capture)
            if target is not None:
                owner.setdefault(target["record_id"], []).append(capture)
    entries = []
    previous: dict[str, Any] | None = None
    for version in versions:
        before = by_id.get(version.get("previous_record_id") or "") or previous
        checks = [{"record_id": c["record_id"], "fetched": c["fetched"], "href": article_href(c["record_id"])}
                  for c in owner.get(version["record_id"], [])]
        entries.append({
            "record_id": version["record_id"], "version": version["version"], "fetched": version["fetched"],
            "title": version.get("title"), "byline": version.get("byline"), "href": article_href(version["record_id"]),
            "shown": shown is not None and version["record_id"] == shown["record_id"],
            "pywb": pywb_href(config, version), "unchanged_checks": checks,
            "diff": version_diff(catalog, before, version) if before else None,
        })
        previous = version
    rejected = [{"record_id": c["record_id"], "fetched": c["fetched"], "reason": c.get("reason"),
                 "detail": c.get("detail"), "href": article_href(c["record_id"])}
                for c in family if c["status"] == "rejected"]
    indexed = catalog.indexed(outlet, key) if key else None
    subject = shown or asked
    return {
        "record_id": asked["record_id"],
        "status": asked["status"],
        "reason": asked.get("reason"),
        "detail": asked.get("detail"),
        "outlet": outlet,
        "url": asked.get("url"),
        "url_key": key,
        "live_url": live_href(asked.get("url")),
        "shown_record_id": shown["record_id"] if shown else None,
        "version": shown.get("version") if shown else None,
        "latest_version": versions[-1]["version"] if versions else None,
        "metadata": {
            "title": subject.get("title"), "byline": subject.get("byline"),
            "authors": (metadata or {}).get("authors") or [], "source": subject.get("source"),
            "section": (metadata or {}).get("section") or (indexed or {}).get("section"),
            "language": subject.get("language"), "published": subject.get("published"),
            "modified": (metadata or {}).get("modified"), "fetched": subject.get("fetched"),
            "canonical_url": subject.get("canonical_url"), "word_count": subject.get("word_count"),
            "tags": (metadata or {}).get("tags") or [], "standfirst": (metadata or {}).get("standfirst"),
            "site_name": (metadata or {}).get("site_name"),
        },
        "article_text": article_text,
        "article_text_cut": article_cut,
        "page_text": page_text,
        "page_text_cut": page_cut,
        "provenance": provenance(asked),
        "shown_provenance": provenance(shown) if shown and shown is not asked else None,
        "pywb": pywb_href(config, asked),
        "versions": entries,
        "rejected": rejected,
        "api": "/api" + article_href(asked["record_id"]),
    }


def _latest_before(versions: list[dict[str, Any]], capture: dict[str, Any]) -> dict[str, Any] | None:
    return next((v for v in reversed(versions) if v["fetched"] <= capture["fetched"]), None)


def find_article(catalog: ReadCatalog, outlet: str, url: str) -> str:
    """The record id of the latest version of the article at ``url`` (any variant of it) in ``outlet``."""
    check_outlet(outlet, catalog.outlets())
    latest = catalog.latest_version(outlet, url_key(url))
    if latest is None:
        raise NotFound(f"{outlet} has no archived article at {url[:200]!r}")
    return latest["record_id"]


# -- changes


def changes_view(catalog: ReadCatalog, outlet: str, page: int) -> dict[str, Any]:
    known = catalog.outlets()
    check_outlet(outlet, known)
    check_page(page, CHANGES_PER_PAGE)
    total, rows = catalog.changes(outlet or None, CHANGES_PER_PAGE, (page - 1) * CHANGES_PER_PAGE)
    pages = max(1, -(-total // CHANGES_PER_PAGE))
    if page > pages:
        raise BadRequest(f"page {page} is beyond the last page of changes ({pages})")
    changes = []
    for row in rows:
        before = catalog.capture(row["previous_record_id"]) if row.get("previous_record_id") else None
        if before is None:
            older = [c for c in catalog.captures_of(row["outlet"], row["url_key"])
                     if c["status"] == "extracted" and (c["version"] or 0) < row["version"]]
            before = older[-1] if older else None
        change = version_diff(catalog, before, row) if before else None
        changes.append({
            "record_id": row["record_id"], "outlet": row["outlet"], "url": row["url"], "title": row.get("title"),
            "byline": row.get("byline"), "version": row["version"], "fetched": row["fetched"],
            "previous": {"record_id": before["record_id"], "version": before.get("version"),
                         "fetched": before["fetched"], "href": article_href(before["record_id"])} if before else None,
            "href": article_href(row["record_id"]), "diff": change,
        })
    return {
        "outlet": outlet, "known_outlets": known, "total": total, "page": page, "pages": pages,
        "changes": changes,
        "previous": with_params("/changes", [("outlet", outlet), ("page", page - 1)]) if page > 1 else None,
        "next": with_params("/changes", [("outlet", outlet), ("page", page + 1)]) if page < pages else None,
        "feed": with_params("/changes.atom", [("outlet", outlet)]),
        "api": with_params("/api/changes", [("outlet", outlet), ("page", "" if page == 1 else page)]),
    }


def feed_entries(view: dict[str, Any], base: str) -> list[dict[str, Any]]:
    entries = []
    for change in view["changes"]:
        found = change["diff"]
        entries.append({**change, "article_url": base + change["href"],
                        "summary": found["summary"] if found else "first version seen as a later one",
                        "text": diff.unified(found["headline"], found["byline"], found["body"]) if found else ""})
    return entries


# -- outlets and runs


def _seconds(run: dict[str, Any]) -> float | None:
    try:
        return round((datetime.fromisoformat(run["ended"]) - datetime.fromisoformat(run["started"])).total_seconds(),
                     1)
    except (TypeError, ValueError, KeyError):
        return None


def run_entry(catalog: ReadCatalog, run: dict[str, Any]) -> dict[str, Any]:
    entry = {name: run.get(name) for name in ("id", "outlet", "trigger", "started", "ended", "status", "exit_code",
                                              "requests", "responses", "new_articles", "revisits", "errors",
                                              "bytes", "finish_reason", "problem")}
    entry["seconds"] = _seconds(run)
    entry["summary"] = describe_run(run) if run.get("status") != "running" else f"running since {run['started']}"
    entry["log_href"] = f"/runs/{run['id']}/log" if catalog.log_file(run.get("log")) else None
    return entry


def outlets_view(catalog: ReadCatalog, config: ReaderConfig) -> dict[str, Any]:
    schedule: dict[str, dict[str, Any]] = {}
    schedule_error = None
    if config.schedule is not None:
        try:
            schedule = {row["outlet"]: row for row in config.schedule()}
        except Exception as error:  # the job store is the scheduler's: its trouble is shown, not raised
            schedule_error = f"the schedule could not be read: {error}"
    archived = catalog.outlets() if catalog.exists else []
    figures = catalog.outlet_figures() if catalog.exists else {}
    assessed = catalog.assessed_coverage() if catalog.exists else {}
    running = catalog.running() if catalog.exists else {}
    rows = []
    for outlet in sorted(set(schedule) | set(archived)):
        plan = schedule.get(outlet, {})
        coverage = catalog.coverage(outlet, HEALTH_RUNS) if catalog.exists else []
        runs = catalog.runs(outlet, LAST_RUNS)[1] if catalog.exists else []
        judged = assessed.get(outlet)
        rows.append({
            "outlet": outlet,
            "schedule": plan.get("schedule"),
            "state": plan.get("state") or ("not scheduled" if config.schedule else "unknown"),
            "paused": bool(plan.get("paused")),
            "next_run": plan.get("next_run"),
            "run_requested": bool(plan.get("run_requested")),
            "running_since": running[outlet]["started"] if outlet in running else None,
            "last_runs": [run_entry(catalog, run) for run in runs],
            "figures": figures.get(outlet, {}),
            "degraded": bool(judged and judged.get("degraded")),
            "degraded_since": judged["finished"] if judged and judged.get("degraded") else None,
            "health": health.describe(judged),
            "coverage": [{name: row.get(name) for name in ("finished", "pages", *charts.HEALTH_FIELDS, "degraded")}
                         for row in coverage],
            "changes": with_params("/changes", [("outlet", outlet)]) if outlet in archived else None,
            "search": with_params("/search", [("outlet", outlet)]) if outlet in figures else None,
            "runs": with_params("/runs", [("outlet", outlet)]),
        })
    return {"outlets": rows, "schedule_error": schedule_error, "schedule_known": config.schedule is not None}


def outlets_html(view: dict[str, Any]) -> dict[str, Any]:
    return {"health_charts": {row["outlet"]: charts.health_chart(row["coverage"], row["outlet"])
                              for row in view["outlets"] if row["coverage"]},
            "health_legend": list(charts.HEALTH_COLORS.items())}


def runs_view(catalog: ReadCatalog, outlet: str, page: int) -> dict[str, Any]:
    known = catalog.outlets()
    check_outlet(outlet, known)
    check_page(page, RUNS_PER_PAGE)
    total, rows = catalog.runs(outlet or None, RUNS_PER_PAGE, (page - 1) * RUNS_PER_PAGE)
    pages = max(1, -(-total // RUNS_PER_PAGE))
    if page > pages:
        raise BadRequest(f"page {page} is beyond the last page of runs ({pages})")
    return {
        "outlet": outlet, "known_outlets": known, "total": total, "page": page, "pages": pages,
        "runs": [run_entry(catalog, run) for run in rows],
        "previous": with_params("/runs", [("outlet", outlet), ("page", page - 1)]) if page > 1 else None,
        "next": with_params("/runs", [("outlet", outlet), ("page", page + 1)]) if page < pages else None,
        "api": with_params("/api/runs", [("outlet", outlet), ("page", "" if page == 1 else page)]),
    }
