"""The reading room's routes, its safety layer and its error answers (FastAPI, Jinja2, no script anywhere).

Every page has a JSON twin under ``/api/`` built from the same view (:mod:`reader.views`); the API is
described at ``/api`` (a page rendered from the OpenAPI document at ``/api/openapi.json``: no Swagger UI,
which would load scripts from a CDN).

Safety: every response carries a Content-Security-Policy without scripts (``script-src 'none'``), nosniff, no
referrer and no framing; archived text is only ever rendered escaped (Jinja2 autoescape; charts and snippets
escape each piece); a server bound to loopback answers only ``Host`` names of loopback (no DNS rebinding); with
a token set, every request must carry it (``Authorization: Bearer``, or ``?token=`` once, which sets an HttpOnly
cookie and redirects to the same address without it). Bad input is a 400 with a message, an unknown thing a
404, never a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

import jinja2
import sqlalchemy as sa
from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipelines.search import MAX_PER_PAGE, ORDERS, QueryError, Search, SearchQuery
from reader import export, feed, stories, views
from reader.catalog import CatalogMissing, ReadCatalog
from reader.config import ReaderConfig
from reader.views import BadRequest, NotFound, check_value

logger = logging.getLogger("reader")
HERE = Path(__file__).resolve().parent
COOKIE = "reader_token"
CSP = ("default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
#: The files the pages use, read once: a request names one of these keys, never a path.
ASSETS = {
    "reader.css": ("text/css; charset=utf-8", (HERE / "static" / "reader.css").read_bytes()),
    "favicon.svg": ("image/svg+xml", (HERE / "static" / "favicon.svg").read_bytes()),
}
#: Part of the stylesheet's address, so a browser never keeps an older one.
CSS_VERSION = hashlib.sha256(ASSETS["reader.css"][1]).hexdigest()[:10]
NAV = (("search", "/search", "Search"), ("stories", "/stories", "Stories"), ("changes", "/changes", "Changes"),
       ("outlets", "/outlets", "Outlets"),
       ("runs", "/runs", "Runs"), ("api", "/api", "API"))


def _version() -> str:
    try:
        return metadata.version("newsarchive")
    except metadata.PackageNotFoundError:
        return "0"


def wants_json(path: str) -> bool:
    return path == "/api/openapi.json" or path.startswith("/api/") or path == "/healthz"


def _plain_error(path: str, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An error answer that needs no template (the guard's)."""
    if wants_json(path):
        return JSONResponse({"error": message, "status": status}, status, headers=headers)
    body = (f"<!doctype html><html lang=en><meta charset=utf-8><title>{status}</title>"
            f'<link rel=stylesheet href="/static/reader.css?v={CSS_VERSION}"><main class=error><h1>{status}</h1>'
            f"<p>{Markup.escape(message)}</p></main></html>")
    return Response(body, status, headers=headers, media_type="text/html; charset=utf-8")


def _cookie_value(token: str) -> str:
    """What the cookie holds: a digest of the token (the cookie never carries the token itself)."""
    return hmac.new(token.encode(), b"newsarchive reading room", hashlib.sha256).hexdigest()


class Guard:
    """Security headers on every answer; the Host check; the token check (pure ASGI: streams pass through)."""

    def __init__(self, app: ASGIApp, config: ReaderConfig) -> None:
        self.app = app
        self.token = config.token or None
        self.hosts = {host.strip("[]").lower() for host in config.allowed_hosts} if config.allowed_hosts else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        refusal = self.refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send_secured)
            return
        await self.app(scope, receive, send_secured)

    def refusal(self, scope: Scope) -> Response | None:
        path = scope.get("path", "/")
        headers = Headers(scope=scope)
        if self.hosts is not None:
            host = headers.get("host", "")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name.strip("[]").lower() not in self.hosts:
                return _plain_error(path, 400, "this reading room answers only to the addresses of this machine "
                                               f"({', '.join(sorted(self.hosts))}), not to Host {host[:80]!r}")
        if self.token is None:
            return None
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = [value for name, value in query if name == "token"]
        if given:
            if not hmac.compare_digest(given[-1].encode(), self.token.encode()):
                return _plain_error(path, 403, "the token is not this reading room's")
            rest = urlencode([(name, value) for name, value in query if name != "token"])
            response = RedirectResponse(path + (f"?{rest}" if rest else ""), 303)
            response.set_cookie(COOKIE, _cookie_value(self.token), httponly=True, samesite="strict", path="/")
            return response
        authorization = headers.get("authorization", "")
        if authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), self.token.encode()):
                return _plain_error(path, 403, "the token is not this reading room's",
                                    {"www-authenticate": 'Bearer error="invalid_token"'})
            return None
        cookie = _cookie(headers.get("cookie", ""), COOKIE)
        if cookie is not None:
            if hmac.compare_digest(cookie.encode(), _cookie_value(self.token).encode()):
                return None
            return _plain_error(path, 403, "the token cookie is not this reading room's: open it with ?token=...")
        return _plain_error(path, 401, "this reading room needs its token: send Authorization: Bearer <token>, "
                                       "or open it once with ?token=<token> (READER_TOKEN)",
                            {"www-authenticate": 'Bearer realm="newsarchive reading room"'})


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def _when(value: Any, seconds: bool = False) -> str:
    """A catalog time as ``YYYY-MM-DD HH:MM`` UTC (as written, if it is not a time)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _stated(value: Any) -> str:
    """A time as the page stated it: ``YYYY-MM-DD HH:MM`` and its own UTC offset (a date alone stays one)."""
    text = str(value or "")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if len(text) <= 10:
        return moment.strftime("%Y-%m-%d")
    offset = moment.strftime("%z")
    return moment.strftime("%Y-%m-%d %H:%M") + (f" {offset[:3]}:{offset[3:]}" if offset else "")


def _size(value: Any) -> str:
    if value is None:
        return ""
    value = float(value)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return ""


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                                     undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters.update(when=_when, stated=_stated, size=_size,
                               pct=lambda v: "" if v is None else f"{float(v):.0%}")
    return environment


# -- the parameters the routes take (FastAPI documents them in the OpenAPI schema)

def search_query(
    q: Annotated[str, Query(description='the query: words (all of them), "a phrase", OR, NOT / -word, prefix*, '
                                        "(groups); empty: every article, newest first")] = "",
    outlet: Annotated[list[str], Query(description="only these outlets (repeat the parameter)")] = [],  # noqa: B006
    published_from: Annotated[str, Query(description="published on or after (YYYY-MM-DD)")] = "",
    published_to: Annotated[str, Query(description="published on or before (YYYY-MM-DD)")] = "",
    fetched_from: Annotated[str, Query(description="captured on or after (YYYY-MM-DD, UTC)")] = "",
    fetched_to: Annotated[str, Query(description="captured on or before (YYYY-MM-DD, UTC)")] = "",
    author: Annotated[str, Query(description="one of the article's authors (case does not matter)")] = "",
    source: Annotated[str, Query(description="the credited source, exactly (AFP, Axios, ...)")] = "",
    section: Annotated[str, Query(description="the section, exactly")] = "",
    language: Annotated[str, Query(description="the language code, exactly (en)")] = "",
    order: Annotated[str, Query(description=f"one of {', '.join(ORDERS)}")] = "relevance",
    page: Annotated[int, Query(description="page number, from 1")] = 1,
    per_page: Annotated[int, Query(description=f"results per page, 1 to {MAX_PER_PAGE}")] = 20,
) -> SearchQuery:
    check_value("q", q, 500)
    if len(outlet) > 50:
        raise BadRequest("at most 50 outlets at once")
    for name, value in (("outlet", ",".join(outlet)), ("published_from", published_from),
                        ("published_to", published_to), ("fetched_from", fetched_from), ("fetched_to", fetched_to),
                        ("author", author), ("source", source), ("section", section), ("language", language),
                        ("order", order)):
        check_value(name, value, 2000 if name == "outlet" else views.MAX_VALUE)
    return SearchQuery(text=q, outlets=tuple(dict.fromkeys(o for o in outlet if o)), published_from=published_from,
                       published_to=published_to, fetched_from=fetched_from, fetched_to=fetched_to,
                       author=author.strip(), source=source.strip(), section=section.strip(),
                       language=language.strip(), order=order or "relevance", page=page, per_page=per_page)


SearchParams = Annotated[SearchQuery, Depends(search_query)]
OutletFilter = Annotated[str, Query(description="only this outlet")]
Page = Annotated[int, Query(description="page number, from 1")]
RecordRef = Annotated[str, PathParam(description="the uuid of the capture's WARC-Record-ID")]
Record = Annotated[str, Query(description="a capture's WARC-Record-ID (<urn:uuid:...>)")]
Outlet = Annotated[str, Query(description="the outlet (with url)")]
Url = Annotated[str, Query(description="any URL of the article (with outlet): its latest version")]
RunId = Annotated[int, PathParam(description="the run's id", ge=1, le=2**53)]
StoryId = Annotated[int, PathParam(description="the story's id (as /api/stories lists them)", ge=1, le=2**53)]
StoryOutlet = Annotated[str, Query(description="only stories this outlet carried")]
Since = Annotated[str, Query(description="only stories running on or after this day (YYYY-MM-DD)")]
MinOutlets = Annotated[int, Query(description="only stories at least this many outlets carried (1: every story, "
                                              "single articles included)", ge=1, le=10_000)]
Limit = Annotated[int, Query(description="at most this many stories, the latest-running first",
                             ge=1, le=stories.MAX_LIMIT)]


def create_app(config: ReaderConfig) -> FastAPI:
    catalog = ReadCatalog(config.catalog, config.archive_root)
    templates = Jinja2Templates(env=_environment())
    app = FastAPI(
        title="newsarchive reading room", version=_version(), docs_url=None, redoc_url=None,
        openapi_url="/api/openapi.json",
        description="Read-only access to the news archive: full-text search with facets and counts per day, "
                    "articles with every version and its diff, stories across outlets, changed articles, outlets, "
                    "runs, exports. Each HTML page of the reading room has its JSON twin here. Errors are JSON "
                    '`{"error": message, "status": code}`.',
    )
    app.state.catalog = catalog
    app.add_middleware(Guard, config=config)

    def render(request: Request, template: str, nav: str, context: dict[str, Any], status: int = 200) -> Response:
        return templates.TemplateResponse(request, template, {
            "nav": NAV, "current": nav, "pywb_url": config.pywb_url, "css_version": CSS_VERSION, **context},
            status_code=status)

    def error(request: Request, status: int, message: str, headers: dict[str, str] | None = None,
              empty: bool = False) -> Response:
        if wants_json(request.url.path):
            return JSONResponse({"error": message, "status": status, **({"empty": True} if empty else {})},
                                status, headers=headers)
        return render(request, "error.html", "", {"status": status, "message": message, "empty": empty,
                                                "catalog": catalog.describe()}, status)

    # -- errors: a message, never a traceback

    @app.exception_handler(QueryError)
    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: Exception) -> Response:
        return error(request, 400, str(exc))

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: Exception) -> Response:
        return error(request, 404, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for problem in exc.errors():
            where = ".".join(str(part) for part in problem.get("loc", ()) if part not in ("query", "path"))
            problems.append(f"{where}: {problem.get('msg', 'not valid')}" if where else problem.get("msg", ""))
        return error(request, 400, "; ".join(problems) or "the request is not valid")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: f"there is no page at {request.url.path[:200]!r}",
                   405: f"{request.method} is not answered here: the reading room only reads"}.get(
            exc.status_code, str(exc.detail))
        return error(request, exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(CatalogMissing)
    async def missing(request: Request, exc: CatalogMissing) -> Response:
        return error(request, 503, f"The archive is empty: no crawl has recorded anything yet (no catalog at "
                                   f"{exc}). Pages fill as soon as the first crawl has.", {"retry-after": "60"},
                     empty=True)

    @app.exception_handler(sa.exc.SQLAlchemyError)
    async def database(request: Request, exc: sa.exc.SQLAlchemyError) -> Response:
        logger.warning("catalog error on %s: %s", request.url.path, exc, exc_info=exc)
        return error(request, 503, f"the catalog could not be read just now ({type(exc).__name__}); "
                                   "try again in a moment", {"retry-after": "10"})

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        logger.error("error on %s", request.url.path, exc_info=exc)
        return error(request, 500, "the reading room failed on this request (the error is in its log)")

    # -- assets, health, the API's description

    @app.get("/static/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name not in ASSETS:
            raise NotFound(f"no asset {name[:80]!r}")
        media_type, body = ASSETS[name]
        return Response(body, media_type=media_type, headers={"cache-control": "max-age=3600"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(ASSETS["favicon.svg"][1], media_type="image/svg+xml")

    @app.get("/healthz", summary="Whether the reading room runs, and whether it has a catalog to read")
    def healthz() -> dict[str, Any]:
        return {"ok": True, "catalog": "present" if catalog.exists else "missing"}

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/search", 307)

    @app.get("/api", include_in_schema=False)
    @app.get("/api/", include_in_schema=False)
    def api_index(request: Request) -> Response:
        schema = app.openapi()
        endpoints = []
        for path, methods in schema["paths"].items():
            for method, operation in methods.items():
                endpoints.append({"method": method.upper(), "path": path, "summary": operation.get("summary", ""),
                                  "description": operation.get("description", ""),
                                  "parameters": operation.get("parameters", [])})
        return render(request, "api.html", "api", {"endpoints": endpoints, "info": schema["info"]})

    # -- search

    @app.get("/search", include_in_schema=False)
    def search_page(request: Request, query: SearchParams) -> Response:
        view = views.search_view(catalog, query)
        return render(request, "search.html", "search", {"view": view, **views.search_html(view),
                                                       "orders": ORDERS})

    @app.get("/api/search", summary="Search the archive",
             description="Full text over headline, standfirst and body, with filters, facets (outlets, authors, "
                         "sources), counts per day and outlet (with each outlet's articles that day) and pages. "
                         "The same as /search.")
    def search_api(query: SearchParams) -> dict[str, Any]:
        return views.search_view(catalog, query)

    @app.get("/api/search/export", summary="Export every result of a search (streamed)",
             description="All matches of the search (the parameters of /api/search; page and per_page are "
                         "ignored) with their text, as JSON lines, CSV or Parquet, streamed as the database hands "
                         "them over.", response_class=StreamingResponse)
    def export_api(
        query: SearchParams,
        format: Annotated[str, Query(description="jsonl, csv or parquet")] = "jsonl",  # noqa: A002
    ) -> Response:
        if format not in export.FORMATS:
            raise BadRequest(f"format must be one of {', '.join(export.FORMATS)}, not {format[:40]!r}")
        search = Search(catalog.engine)
        checked = query.checked(search.outlets())
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return StreamingResponse(export.WRITERS[format](search.rows(checked, text=True, batch=export.BATCH)),
                                 media_type=export.FORMATS[format],
                                 headers={"content-disposition":
                                          f'attachment; filename="newsarchive-search-{stamp}.{format}"'})

    # -- articles

    def article_by(record: str, outlet: str, url: str) -> str:
        check_value("record", record, 500)
        check_value("outlet", outlet)
        check_value("url", url, 4000)
        if record:
            return record
        if outlet and url:
            return views.find_article(catalog, outlet, url)
        raise BadRequest("name the article: record=<WARC-Record-ID>, or outlet=<outlet> and url=<its URL>")

    def article_view(record_id: str) -> dict[str, Any]:
        """The article's page data, with the story it is in (when it holds other articles too)."""
        view = views.article_view(catalog, config, record_id)
        view["story"] = stories.article_story(catalog, view["outlet"], view["url_key"])
        return view

    @app.get("/article/{ref}", include_in_schema=False)
    def article_page(request: Request, ref: str) -> Response:
        view = article_view(views.record_of(ref))
        return render(request, "article.html", "search", {"view": view})

    @app.get("/article", include_in_schema=False)
    def article_lookup(request: Request, record: Record = "", outlet: Outlet = "", url: Url = "") -> Response:
        found = article_by(record, outlet, url)
        if record:
            return render(request, "article.html", "search", {"view": article_view(found)})
        return RedirectResponse(views.article_href(found), 303)

    @app.get("/api/article/{ref}", summary="One capture of an article",
             description="Metadata, article text, page text, every version with its diff to the one before, "
                         "unchanged revisits, provenance (WARC file and offset) and the pywb link. The same as "
                         "/article/{ref}.")
    def article_api(ref: RecordRef) -> dict[str, Any]:
        return article_view(views.record_of(ref))

    @app.get("/api/article", summary="An article by record id, or by outlet and URL (its latest version)")
    def article_lookup_api(record: Record = "", outlet: Outlet = "", url: Url = "") -> dict[str, Any]:
        return article_view(article_by(record, outlet, url))

    # -- stories

    @app.get("/stories", include_in_schema=False)
    def stories_page(request: Request, outlet: StoryOutlet = "", since: Since = "",
                     min_outlets: MinOutlets = stories.DEFAULT_MIN_OUTLETS, limit: Limit = stories.DEFAULT_LIMIT
                     ) -> Response:
        view = stories.stories_view(catalog, outlet, since, min_outlets, limit)
        return render(request, "stories.html", "stories", {"view": view})

    @app.get("/api/stories", summary="The recent stories: the same event across outlets, the latest first",
             description="Each story with its days, headline (of its first article), outlets, articles, copies "
                         "(members republishing another member's text), attributed and credited members, when and "
                         "where it was first seen, and its members (outlet, url, record_id, published, copy group, "
                         "origin, credited). By default only stories carried by two outlets or more "
                         "(min_outlets=1: every story). The same as /stories.")
    def stories_api(outlet: StoryOutlet = "", since: Since = "",
                    min_outlets: MinOutlets = stories.DEFAULT_MIN_OUTLETS,
                    limit: Limit = stories.DEFAULT_LIMIT) -> dict[str, Any]:
        return stories.stories_view(catalog, outlet, since, min_outlets, limit)

    @app.get("/story/{story_id}", include_in_schema=False)
    def story_page(request: Request, story_id: StoryId) -> Response:
        view = stories.story_view(catalog, story_id)
        return render(request, "story.html", "stories", {"view": view, **stories.story_html(view)})

    @app.get("/api/story/{story_id}", summary="One story: members, copy groups, syndication graph, timeline",
             description="Its members in publication order (outlet, url, record_id, headline, published and its UTC "
                         "instant, copy group, origin, credited), its copy groups and their origins, the "
                         '"republished from" edges between members (to: the origin\'s member, or null for an '
                         "agency or an outlet whose write-up is elsewhere), the graph by outlet and agency, and the "
                         "timeline. The same as /story/{story_id}.")
    def story_api(story_id: StoryId) -> dict[str, Any]:
        return stories.story_view(catalog, story_id)

    # -- changes

    @app.get("/changes", include_in_schema=False)
    def changes_page(request: Request, outlet: OutletFilter = "", page: Page = 1
                     ) -> Response:
        check_value("outlet", outlet)
        return render(request, "changes.html", "changes", {"view": views.changes_view(catalog, outlet, page)})

    @app.get("/api/changes", summary="Articles that gained a new version, newest first",
             description="Each new version with what changed in headline, byline and body. The same as /changes.")
    def changes_api(outlet: OutletFilter = "", page: Page = 1) -> dict[str, Any]:
        check_value("outlet", outlet)
        return views.changes_view(catalog, outlet, page)

    @app.get("/changes.atom", summary="The changes as an Atom feed", response_class=Response,
             responses={200: {"content": {"application/atom+xml": {}}}})
    def changes_feed(request: Request, outlet: OutletFilter = "") -> Response:
        check_value("outlet", outlet)
        view = views.changes_view(catalog, outlet, 1)
        base = str(request.base_url).rstrip("/")
        body = feed.changes_feed(views.feed_entries(view, base),
                                 title="newsarchive: changed articles" + (f" of {outlet}" if outlet else ""),
                                 self_url=base + view["feed"], page_url=base + views.with_params(
                                     "/changes", [("outlet", outlet)]))
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    # -- outlets

    @app.get("/outlets", include_in_schema=False)
    def outlets_page(request: Request) -> Response:
        view = views.outlets_view(catalog, config)
        return render(request, "outlets.html", "outlets", {"view": view, **views.outlets_html(view)})

    @app.get("/api/outlets", summary="Every outlet: schedule, next run, last runs, extraction health",
             description="The same as /outlets: the schedule rows come from the scheduler's job store.")
    def outlets_api() -> dict[str, Any]:
        return views.outlets_view(catalog, config)

    # -- runs

    @app.get("/runs", include_in_schema=False)
    def runs_page(request: Request, outlet: OutletFilter = "", page: Page = 1
                  ) -> Response:
        check_value("outlet", outlet)
        return render(request, "runs.html", "runs", {"view": views.runs_view(catalog, outlet, page)})

    @app.get("/api/runs", summary="The run history, newest first", description="The same as /runs.")
    def runs_api(outlet: OutletFilter = "", page: Page = 1) -> dict[str, Any]:
        check_value("outlet", outlet)
        return views.runs_view(catalog, outlet, page)

    @app.get("/runs/{run_id}/log", summary="A run's log, as plain text", response_class=FileResponse,
             responses={200: {"content": {"text/plain": {}}}})
    def run_log(run_id: RunId) -> Response:
        run = catalog.run(run_id)
        if run is None:
            raise NotFound(f"no run {run_id}")
        path = catalog.log_file(run.get("log"))
        if path is None:
            raise NotFound(f"run {run_id} has no log in the archive any more (the newest LOG_KEEP logs per outlet "
                           "are kept)")
        return FileResponse(path, media_type="text/plain; charset=utf-8",
                            headers={"content-disposition": "inline"})

    return app


__all__ = ["create_app", "wants_json"]
