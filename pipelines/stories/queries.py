"""Reading stories back: the recent ones, and one with its members, copy groups and "republished from" edges.

What ``scrapy stories`` prints and the reading room's story pages draw. Every function takes a SQLAlchemy
connection and only reads.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

_MEMBERS = ("SELECT m.id, m.outlet, m.url, m.record_id, m.title, m.published, m.day, m.copy_group, m.origin, "
            "m.credited, m.story_id, g.origin AS group_origin, g.origin_kind FROM story_articles m "
            "LEFT JOIN copy_groups g ON g.id = m.copy_group")


def recent_stories(connection: sa.Connection, limit: int = 20, outlet: str = "", since: str = "",
                   min_outlets: int = 1) -> list[dict[str, Any]]:
    """Stories, the latest-running first: days, headline (of the first article), outlets, articles, copies.

    ``outlet``: only stories it carried; ``since``: only stories running on or after that day (YYYY-MM-DD);
    ``min_outlets``: only stories at least that many outlets carried.
    """
    conditions, parameters = ["1 = 1"], {"limit": limit, "min_outlets": min_outlets}
    if outlet:
        conditions.append("s.id IN (SELECT story_id FROM story_articles WHERE outlet = :outlet)")
        parameters["outlet"] = outlet
    if since:
        conditions.append("s.last_day >= :since")
        parameters["since"] = since
    rows = connection.execute(sa.text(
        "SELECT s.id, s.first_day, s.last_day FROM stories s "
        f"JOIN story_articles m ON m.story_id = s.id WHERE {' AND '.join(conditions)} GROUP BY s.id, s.first_day, "
        "s.last_day HAVING count(DISTINCT m.outlet) >= :min_outlets ORDER BY s.last_day DESC, s.id DESC LIMIT :limit"),
        parameters).mappings().all()
    stories = [dict(row) for row in rows]
    if stories:
        members = _members(connection, "m.story_id IN :ids", {"ids": [story["id"] for story in stories]})
        for story in stories:
            mine = [member for member in members if member["story_id"] == story["id"]]
            story["title"] = _first(mine)["title"]
            story["outlet_names"] = sorted({member["outlet"] for member in mine})
            story["members"] = mine
            story.update(_counts(mine))
    return stories


def story(connection: sa.Connection, story_id: int) -> dict[str, Any] | None:
    """One story: its days, members in publication order, copy groups and the edges between members."""
    row = connection.execute(sa.text("SELECT id, first_day, last_day FROM stories WHERE id = :id"),
                             {"id": story_id}).mappings().first()
    if row is None:
        return None
    members = _members(connection, "m.story_id = :id", {"id": story_id})
    groups: dict[int, dict[str, Any]] = {}
    for member in members:
        if member["copy_group"] is not None:
            group = groups.setdefault(member["copy_group"], {
                "id": member["copy_group"], "origin": member["group_origin"], "origin_kind": member["origin_kind"],
                "members": []})
            group["members"].append(member["record_id"])
    return {**dict(row), "title": _first(members)["title"], "outlet_names": sorted({m["outlet"] for m in members}),
            "members": members, "copy_groups": list(groups.values()), "edges": _edges(members), **_counts(members)}


def story_of(connection: sa.Connection, record_id: str) -> int | None:
    """The story of the article whose latest version is this capture."""
    found = connection.execute(sa.text("SELECT story_id FROM story_articles WHERE record_id = :id"),
                               {"id": record_id}).first()
    return found[0] if found is not None else None


def _members(connection: sa.Connection, condition: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    statement = sa.text(f"{_MEMBERS} WHERE {condition} ORDER BY m.day, m.published, m.id")
    if "ids" in parameters:
        statement = statement.bindparams(sa.bindparam("ids", expanding=True))
    members = [dict(row) for row in connection.execute(statement, parameters).mappings()]
    for member in members:
        member["credited"] = bool(member["credited"])
        member["republished_from"] = member["origin"] or None
    return members


def _counts(members: list[dict[str, Any]]) -> dict[str, int]:
    """A story's figures: articles, outlets, copies (members republishing another's text), attributed members
    (republished from an outlet or agency) and those crediting it."""
    return {"articles": len(members), "outlets": len({m["outlet"] for m in members}),
            "copies": sum(1 for m in members if m["copy_group"] is not None and m["origin"]),
            "attributed": sum(1 for m in members if m["origin"]),
            "credited": sum(1 for m in members if m["origin"] and m["credited"])}


def _first(members: list[dict[str, Any]]) -> dict[str, Any]:
    return min(members, key=lambda member: (member["day"], member["published"] or "", member["id"]))


def _edges(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """"Republished from" edges: each attributed member to its origin, the origin's own member where it has
    one in the story (else the origin by name: an agency, or an outlet whose write-up is elsewhere)."""
    by_outlet: dict[str, dict[str, Any]] = {}
    for member in members:
        if not member["origin"] and member["outlet"] not in by_outlet:
            by_outlet[member["outlet"]] = member
    edges = []
    for member in members:
        if member["origin"]:
            source = by_outlet.get(member["origin"])
            if source is not None and member["copy_group"] is not None and source["copy_group"] != member["copy_group"]:
                source = None  # the origin outlet's write-up here is another text
            edges.append({"from": member["record_id"], "to": source["record_id"] if source else None,
                          "origin": member["origin"], "credited": member["credited"]})
    return edges
