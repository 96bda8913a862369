"""The reading room's story pages: the recent stories, one story (members, copy groups, the syndication graph and
the timeline) and the story an article is in.

Read through :mod:`pipelines.stories.queries` on the app's read-only engine. A catalog without the story tables
(made before migration 0006, and not brought up to date) or whose articles have no story yet (made before story
assignment: ``scrapy replay`` assigns them) gets a notice saying so, never an error.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from pipelines.capture import warc_datetime
from pipelines.extract.syndication import agency
from pipelines.stories.queries import recent_stories, story
from reader import charts
from reader.catalog import ReadCatalog
from reader.views import BadRequest, NotFound, article_href, check_outlet, check_value, live_href, with_params

#: The tables story assignment writes (migration 0006).
STORY_TABLES = ("stories", "story_articles", "copy_groups")
#: The list's defaults: the latest stories carried by two outlets or more (one outlet's "story" is mostly one
#: article; the same event across outlets is what the page is for).
DEFAULT_MIN_OUTLETS, DEFAULT_LIMIT, MAX_LIMIT = 2, 50, 500
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def has_stories(connection: sa.Connection) -> bool:
    inspector = sa.inspect(connection)
    return all(inspector.has_table(table) for table in STORY_TABLES)


def _notice(catalog: ReadCatalog, connection: sa.Connection, tables: bool) -> str:
    """Why there are no stories when the catalog has articles (or "" when there are stories, or no articles)."""
    if tables and connection.execute(sa.text("SELECT 1 FROM stories LIMIT 1")).first() is not None:
        return ""
    articles = connection.execute(sa.text(
        "SELECT count(*) FROM (SELECT DISTINCT outlet, url_key FROM captures WHERE status = 'extracted') a")
    ).scalar_one()
    if not articles:
        return ""
    why = "has no story tables (it was made before migration 0006)" if not tables else "has no stories"
    return (f"The catalog holds {articles:,} articles but {why}: it was made before story assignment existed. "
            f"Assign them from the archive with `scrapy replay {catalog.root} -o {catalog.root}` (no network "
            "needed; the archive's files are rewritten as they were).")


# -- figures


def _instant(member: dict[str, Any]) -> datetime | None:
    """When a member came out, in UTC: its stated time, else its day (at 00:00)."""
    return warc_datetime(member.get("published") or "") or warc_datetime(member.get("day") or "")


def _members(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Members in publication order (UTC instants: each stated time has its own offset), with their links."""
    ordered = sorted(members, key=lambda m: (_instant(m) or datetime.max.replace(tzinfo=UTC), m["id"]))
    out = []
    for member in ordered:
        moment = _instant(member)
        out.append({**member, "utc": moment.isoformat() if moment else None,
                    "day_only": len(member.get("published") or "") <= 10,
                    "href": article_href(member["record_id"]), "live_url": live_href(member.get("url"))})
    return out


def _figures(entry: dict[str, Any]) -> dict[str, Any]:
    members = _members(entry["members"])
    first = members[0]
    return {
        **entry,
        "members": members,
        "first_seen": {"outlet": first["outlet"], "published": first["published"], "utc": first["utc"],
                       "record_id": first["record_id"]},
        "href": f"/story/{entry['id']}",
    }


def origin_kind(origin: str, outlets: set[str]) -> str:
    """What an origin is: an outlet of the story, an agency (not archived), or an archived outlet whose
    write-up is not in this story."""
    if origin in outlets:
        return "outlet"
    return "agency" if agency(origin) == origin else "outlet elsewhere"


# -- the list


def check_since(since: str) -> str:
    check_value("since", since)
    if since:
        try:
            if not _DAY.match(since):
                raise ValueError(since)
            date.fromisoformat(since)
        except ValueError:
            raise BadRequest(f"since takes a day as YYYY-MM-DD (2024-03-27), not {since[:40]!r}") from None
    return since


def stories_view(catalog: ReadCatalog, outlet: str, since: str, min_outlets: int, limit: int) -> dict[str, Any]:
    check_value("outlet", outlet)
    check_since(since)
    known = catalog.outlets()
    check_outlet(outlet, known)
    with catalog.engine.connect() as connection:
        tables = has_stories(connection)
        notice = _notice(catalog, connection, tables)
        found = [_figures(entry) for entry in recent_stories(connection, limit, outlet, since, min_outlets)] \
            if tables else []
        total = connection.execute(sa.text("SELECT count(*) FROM stories")).scalar_one() if tables else 0
    pairs = [("outlet", outlet), ("since", since),
             ("min_outlets", "" if min_outlets == DEFAULT_MIN_OUTLETS else min_outlets),
             ("limit", "" if limit == DEFAULT_LIMIT else limit)]
    return {
        "filters": {"outlet": outlet, "since": since, "min_outlets": min_outlets, "limit": limit},
        "known_outlets": known,
        "total_stories": total,
        "shown": len(found),
        "stories": found,
        "notice": notice,
        "every_story": with_params("/stories", [("outlet", outlet), ("since", since), ("min_outlets", 1)]),
        "api": with_params("/api/stories", pairs),
    }


# -- one story


def story_view(catalog: ReadCatalog, story_id: int) -> dict[str, Any]:
    with catalog.engine.connect() as connection:
        if not has_stories(connection):
            raise NotFound(_notice(catalog, connection, False) or f"no story {story_id}: this catalog has no stories")
        found = story(connection, story_id)
        if found is None:
            last = connection.execute(sa.text("SELECT max(id) FROM stories")).scalar_one()
            raise NotFound(f"no story {story_id} in the catalog" + (
                f" (story ids run up to {last}; /stories?min_outlets=1 lists every story)" if last else
                " (it has no stories yet)"))
    view = _figures(found)
    members = view["members"]
    outlets_in_order = list(dict.fromkeys(m["outlet"] for m in members))
    by_record = {m["record_id"]: m for m in members}
    order = {m["record_id"]: n for n, m in enumerate(members)}
    colours = {group["id"]: charts.color(n) for n, group in enumerate(sorted(found["copy_groups"],
                                                                              key=lambda g: g["id"]))}
    groups = [{**group, "outlets": [by_record[r]["outlet"] for r in group["members"] if r in by_record],
               "colour": colours[group["id"]]} for group in found["copy_groups"]]
    edges = []
    for edge in sorted(found["edges"], key=lambda e: order.get(e["from"], 0)):
        source = by_record[edge["from"]]
        edges.append({**edge, "from_outlet": source["outlet"],
                      "to_outlet": by_record[edge["to"]]["outlet"] if edge["to"] in by_record else None,
                      "origin_kind": origin_kind(edge["origin"], set(outlets_in_order))})
    start = _instant(members[0])
    timeline = []
    for member in members:
        moment = _instant(member)
        timeline.append({"outlet": member["outlet"], "record_id": member["record_id"], "utc": member["utc"],
                         "day_only": member["day_only"], "copy_group": member["copy_group"],
                         "after_seconds": int((moment - start).total_seconds()) if moment and start else None,
                         "origin": member["origin"], "credited": member["credited"], "title": member["title"],
                         "colour": colours.get(member["copy_group"]) if member["copy_group"] is not None else None})
    view.update(copy_groups=groups, edges=edges, graph=_graph(members, groups, edges, outlets_in_order),
                timeline=timeline, outlets_in_order=outlets_in_order, api=f"/api/story/{story_id}")
    return view


def _graph(members: list[dict[str, Any]], groups: list[dict[str, Any]], edges: list[dict[str, Any]],
           outlets: list[str]) -> dict[str, Any]:
    """Nodes per outlet or agency, and one arrow per (republisher, origin, credited) with how many articles."""
    nodes: dict[str, dict[str, Any]] = {
        outlet: {"name": outlet, "kind": "outlet", "articles": sum(1 for m in members if m["outlet"] == outlet),
                 "origin": False} for outlet in outlets}
    for group in groups:
        if group["origin"] in nodes:
            nodes[group["origin"]]["origin"] = True
    arrows: dict[tuple[str, str, bool], dict[str, Any]] = {}
    for edge in edges:
        target = edge["origin"]
        if target not in nodes:
            nodes[target] = {"name": target, "kind": edge["origin_kind"], "articles": 0, "origin": True}
        nodes[target]["origin"] = True
        arrow = arrows.setdefault((edge["from_outlet"], target, edge["credited"]), {
            "from": edge["from_outlet"], "to": target, "credited": edge["credited"], "articles": 0})
        arrow["articles"] += 1
    return {"nodes": list(nodes.values()), "edges": list(arrows.values())}


def story_html(view: dict[str, Any]) -> dict[str, Any]:
    """What only the HTML page needs: the graph and the timeline as inline SVG, the legend."""
    return {
        "graph_svg": charts.syndication_graph(view["graph"]["nodes"], view["graph"]["edges"], view["id"]),
        "timeline_svg": charts.story_timeline(view["timeline"], view["outlets_in_order"], view["id"]),
        "group_legend": [(f"copy group {g['id']} (origin {g['origin']})", g["colour"]) for g in view["copy_groups"]],
    }


# -- the story of an article


def article_story(catalog: ReadCatalog, outlet: str, url_key: str | None) -> dict[str, Any] | None:
    """The story an article is in, when it holds other articles too: id, articles, outlets, link."""
    if not url_key:
        return None
    with catalog.engine.connect() as connection:
        if not has_stories(connection):
            return None
        row = connection.execute(sa.text(
            "SELECT s.story_id, count(*) AS articles, count(DISTINCT m.outlet) AS outlets FROM story_articles s "
            "JOIN story_articles m ON m.story_id = s.story_id WHERE s.outlet = :outlet AND s.url_key = :key "
            "GROUP BY s.story_id"), {"outlet": outlet, "key": url_key}).mappings().first()
    if row is None or row["articles"] < 2:
        return None
    return {"id": row["story_id"], "articles": row["articles"], "outlets": row["outlets"],
            "href": f"/story/{row['story_id']}"}

