"""What an archive folder holds, in comparable form: its text files and the rows of its catalog."""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlalchemy as sa

from pipelines.catalog import engine_for

#: What a WARC cannot tell, left out when catalogs are compared: when a row was written, and row numbers.
NOT_IN_THE_WARCS = {"captures": {"extracted_at"}, "seen": set(), "coverage": {"id"}, "articles": {"id", "document"},
                    "article_authors": {"article_id"}}
#: Tables whose rows point at others by row number: compared through what they point at.
_THROUGH = {"article_authors": "SELECT w.*, a.outlet, a.url_key FROM article_authors w "
                               "JOIN articles a ON a.id = w.article_id"}


def tree(root: Path) -> dict[str, str]:
    """Every text file under ``root`` (``<outlet>/text/...``) and a hash of its bytes."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "/text/" in str(p.relative_to(root))}


def catalog_tables(database: str) -> dict[str, list[tuple]]:
    """Every row of the tables the capture path writes (a SQLite file or a database URL), sorted, as
    (column, value) tuples without what a WARC cannot tell."""
    engine = engine_for(database)
    found = {}
    with engine.connect() as connection:
        for table, left_out in NOT_IN_THE_WARCS.items():
            rows = connection.execute(sa.text(_THROUGH.get(table, f"SELECT * FROM {table}"))).mappings().all()
            found[table] = sorted((tuple(sorted((k, v) for k, v in row.items() if k not in left_out)) for row in rows),
                                  key=repr)
    engine.dispose()
    return found


def story_partition(database: str) -> dict[str, object]:
    """Which articles (outlet, URL key) are together in a story and in a copy group, and each one's origin:
    the ids story assignment gave them are its own."""
    engine = engine_for(database)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT outlet, url_key, story_id, copy_group, origin, credited FROM story_articles")).all()
    engine.dispose()
    stories: dict[int, set] = {}
    groups: dict[int, set] = {}
    for outlet, key, story, group, _, _ in rows:
        stories.setdefault(story, set()).add((outlet, key))
        if group is not None:
            groups.setdefault(group, set()).add((outlet, key))
    return {"stories": {frozenset(members) for members in stories.values()},
            "copy_groups": {frozenset(members) for members in groups.values()},
            "origins": {(outlet, key, origin, bool(credited)) for outlet, key, _, _, origin, credited in rows}}
