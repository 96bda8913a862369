"""``scrapy stories [STORY_ID]``: the stories of the archive, and one story with its syndication graph and timeline.

Story assignment (:mod:`pipelines.stories`) gives every article a *copy group* (the same text published again)
and a *story* (the write-ups of one event). This command reads them back from the catalog (``DATABASE_URL``,
else ``<ARCHIVE_ROOT>/catalog.sqlite``), opened read-only: it never writes, never migrates, and never creates a
catalog that is not there.

- ``scrapy stories``: the recent stories, the latest-running first, as a table: id, days, when and where the
  story was first seen, outlets, articles, copies (members that republish another member's text) and attributed
  members (republished from someone: an outlet or an agency), and the headline of its first article. By default
  only stories carried by at least two outlets (``--min-outlets 1`` lists every one: most "stories" of one
  outlet are one article); ``--outlet``, ``--since YYYY-MM-DD`` and ``--limit`` narrow it.
- ``scrapy stories ID``: one story: its members in publication order, its copy groups and their origins, the
  "republished from" edges as a text graph and a timeline (day by day, hour by hour, in UTC).
- ``--json``: the same as JSON (a list of stories, each with its ``members``; or the one story with ``members``,
  ``copy_groups``, ``edges`` and ``timeline``).

Exit status: 0; 1 for a story id the catalog does not have (or a catalog without stories); a usage error (2) for
options that are not understood. An empty archive (no catalog yet) says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from pipelines.capture import warc_datetime
from pipelines.catalog import catalog_url
from pipelines.catalog.store import describe, read_only_engine, sqlite_file
from pipelines.extract.syndication import agency
from pipelines.stories.queries import recent_stories, story

#: The tables story assignment writes (migration 0006); a catalog made before it has none of them.
STORY_TABLES = ("stories", "story_articles", "copy_groups")
#: The list's defaults: the 20 latest stories carried by two outlets or more (a "story" of one outlet is mostly
#: one article; what a researcher looks for here is the same event across outlets).
DEFAULT_LIMIT, DEFAULT_MIN_OUTLETS = 20, 2
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ID = re.compile(r"^\d{1,15}$")


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[--outlet NAME] [--since YYYY-MM-DD] [--min-outlets N] [--limit N] [--json] | STORY_ID [--json]"

    def short_desc(self) -> str:
        return "List the recent stories (the same event across outlets), or show one: members, graph, timeline"

    def long_desc(self) -> str:
        return (
            "Without an argument: the recent stories, the latest-running first, carried by at least --min-outlets "
            "outlets (2 by default; 1 lists every story, single articles included): days, first seen, outlets, "
            "articles, copies (members republishing another member's text) and attributed members (republished "
            "from an outlet or an agency), headline. With a story id: its members in publication order, its copy "
            "groups and their origins, the 'republished from' edges as a text graph, and a timeline. --json prints "
            "the same as JSON. The catalog (DATABASE_URL, else ARCHIVE_ROOT/catalog.sqlite) is only read."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--limit", type=int, default=None, help="at most this many stories (default 20)")
        parser.add_argument("--outlet", default="", metavar="NAME", help="only stories this outlet carried")
        parser.add_argument("--since", default="", metavar="YYYY-MM-DD",
                            help="only stories running on or after this day")
        parser.add_argument("--min-outlets", type=int, default=None, metavar="N",
                            help="only stories at least N outlets carried (default 2; 1: every story)")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            self._run(args, opts)
        except BrokenPipeError:  # `scrapy stories --json | head`: the reader left; no traceback
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

    def _run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if len(args) > 1:
            raise UsageError(f"name one story at most, not {len(args)}: scrapy stories [STORY_ID]")
        story_id = _story_id(args[0]) if args else None
        if story_id is not None and (opts.outlet or opts.since or opts.min_outlets is not None
                                     or opts.limit is not None):
            raise UsageError("--outlet, --since, --min-outlets and --limit narrow the list of stories, not one story")
        opts.limit = DEFAULT_LIMIT if opts.limit is None else opts.limit
        opts.min_outlets = DEFAULT_MIN_OUTLETS if opts.min_outlets is None else opts.min_outlets
        if opts.limit < 1:
            raise UsageError(f"--limit must be 1 or more, not {opts.limit}")
        if opts.min_outlets < 1:
            raise UsageError(f"--min-outlets must be 1 or more, not {opts.min_outlets}")
        if opts.since and not _is_day(opts.since):
            raise UsageError(f"--since takes a day as YYYY-MM-DD (2024-03-27), not {opts.since!r}")
        target = catalog_url(self.settings)
        where = describe(target)
        path = sqlite_file(target)
        if path is not None and not path.is_file():  # never created here
            self._say(opts, f"The archive is empty: there is no catalog at {where} yet (no crawl has recorded "
                            "anything). `scrapy crawlall` or `make run` start archiving.",
                      [] if story_id is None else None)
            self.exitcode = 0 if story_id is None else 1
            return
        engine = read_only_engine(target)
        try:
            with engine.connect() as connection:
                if not all(sa.inspect(connection).has_table(table) for table in STORY_TABLES):
                    self._say(opts, f"The catalog {where} was made before stories existed (it has no story tables: "
                                    f"migration 0006). `scrapy replay {_root(self.settings)} -o "
                                    f"{_root(self.settings)}` assigns every archived article its copy group and "
                                    "story.", [] if story_id is None else None)
                    self.exitcode = 0 if story_id is None else 1
                    return
                if story_id is None:
                    self.exitcode = self._list(connection, opts, where)
                else:
                    self.exitcode = self._show(connection, story_id, opts.json)
        finally:
            engine.dispose()

    def _say(self, opts: argparse.Namespace, message: str, json_value: Any) -> None:
        """A message instead of stories: with --json, the (empty) JSON on stdout and the message on stderr."""
        if opts.json and json_value is not None:
            print(json.dumps(json_value))
            print(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr if opts.json else sys.stdout)

    def _list(self, connection: sa.Connection, opts: argparse.Namespace, where: str) -> int:
        assert self.settings is not None
        if opts.outlet:
            known = set(get_spider_loader(self.settings).list()) | {
                row[0] for row in connection.execute(sa.text("SELECT DISTINCT outlet FROM story_articles"))}
            if opts.outlet not in known:
                raise UsageError(f"unknown outlet {opts.outlet!r}; known: {', '.join(sorted(known))}")
        found = [_figures(entry) for entry in recent_stories(connection, opts.limit, opts.outlet, opts.since,
                                                             opts.min_outlets)]
        if opts.json:
            print(json.dumps(found, indent=1, default=str))
            return 0
        total = connection.execute(sa.text("SELECT count(*) FROM stories")).scalar_one()
        if not total:
            articles = connection.execute(sa.text(
                "SELECT count(*) FROM (SELECT DISTINCT outlet, url_key FROM captures WHERE status = 'extracted') a"
            )).scalar_one() if sa.inspect(connection).has_table("captures") else 0
            if articles:
                print(f"The catalog {where} holds {articles} articles but no story: it was made before story "
                      f"assignment existed. `scrapy replay {_root(self.settings)} -o {_root(self.settings)}` "
                      "assigns them.")
            else:
                print(f"The archive has no articles yet (catalog {where}), so no stories.")
            return 0
        print(_heading(opts, len(found), total))
        if found:
            print()
            print(_table(found))
            print()
            print("`scrapy stories ID` shows one story: its members, copy groups, syndication graph and timeline.")
        return 0

    def _show(self, connection: sa.Connection, story_id: int, as_json: bool) -> int:
        found = story(connection, story_id)
        if found is None:
            last = connection.execute(sa.text("SELECT max(id) FROM stories")).scalar_one()
            print(f"scrapy stories: no story {story_id} in the catalog"
                  + (f" (story ids run up to {last}; `scrapy stories --min-outlets 1` lists them)" if last else
                     " (it has no stories yet)"), file=sys.stderr)
            return 1
        found = _figures(found)
        found["timeline"] = _timeline(found["members"])
        if as_json:
            print(json.dumps(found, indent=1, default=str))
        else:
            print("\n".join(_story_lines(found)))
        return 0


# -- input and the catalog


def _story_id(text: str) -> int:
    if not _ID.match(text) or int(text) < 1:
        raise UsageError(f"a story id is a whole number from 1 (as `scrapy stories` lists them), not {text[:40]!r}")
    return int(text)


def _is_day(text: str) -> bool:
    if not _DAY.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _root(settings: Any) -> str:
    return str(settings.get("ARCHIVE_ROOT") or "archive")


# -- figures


def _instant(member: dict[str, Any]) -> datetime | None:
    """When a member came out, in UTC: its stated time, else its day (at 00:00)."""
    return warc_datetime(member.get("published") or "") or warc_datetime(member.get("day") or "")


def _day_only(member: dict[str, Any]) -> bool:
    return len(member.get("published") or "") <= 10


def _in_order(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Members in publication order (UTC instants: stated times carry their own offsets)."""
    return sorted(members, key=lambda m: (_instant(m) or datetime.max.replace(tzinfo=UTC), m.get("id") or 0))


def _figures(entry: dict[str, Any]) -> dict[str, Any]:
    """A story in publication order (UTC) and where it was first seen (its figures come with it: queries)."""
    members = _in_order(entry["members"])
    first = members[0]
    moment = _instant(first)
    return {
        **entry,
        "members": members,
        "first_seen": {"outlet": first["outlet"], "published": first["published"], "record_id": first["record_id"],
                       "utc": moment.isoformat() if moment else None},
    }


def _timeline(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each member's moment (UTC), in order, with the time since the story was first seen."""
    start = _instant(members[0]) if members else None
    rows = []
    for member in members:
        moment = _instant(member)
        rows.append({"outlet": member["outlet"], "record_id": member["record_id"],
                     "utc": moment.isoformat() if moment else None, "day_only": _day_only(member),
                     "after_seconds": int((moment - start).total_seconds()) if moment and start else None,
                     "copy_group": member["copy_group"], "origin": member["origin"], "credited": member["credited"]})
    return rows


# -- text


def _heading(opts: argparse.Namespace, shown: int, total: int) -> str:
    narrowed = [f"carried by {opts.min_outlets} or more outlets" if opts.min_outlets > 1 else "",
                f"carried by {opts.outlet}" if opts.outlet else "", f"running on or after {opts.since}" if opts.since
                else ""]
    what = "Stories" + (" " + ", ".join(part for part in narrowed if part) if any(narrowed) else "")
    if not shown:
        hint = " (--min-outlets 1 lists single articles too)" if opts.min_outlets > 1 else ""
        return f"{what}: none, of the archive's {total} stories{hint}."
    more = f"; --limit {opts.limit} shows at most {opts.limit}" if shown == opts.limit else ""
    hint = "; --min-outlets 1 lists every story" if opts.min_outlets > 1 else ""
    return f"{what}, the latest first: {shown} of the archive's {total} stories{more}{hint}."


def _days(entry: dict[str, Any]) -> str:
    first, last = entry["first_day"], entry["last_day"]
    return first if first == last else f"{first}..{last}"


def _utc(value: str | None, seconds: bool = False) -> str:
    if not value:
        return "?"
    moment = datetime.fromisoformat(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _table(found: list[dict[str, Any]]) -> str:
    wide = sys.stdout.isatty()
    width = shutil.get_terminal_size((100, 24)).columns
    head = (f"{'story':>6}  {'days':<22}  {'first seen (UTC)':<30}  {'outlets':>7}  {'articles':>8}  "
            f"{'copies':>6}  {'attributed':>10}  headline")
    lines = [head]
    for entry in found:
        seen = f"{_utc(entry['first_seen']['utc'])} {entry['first_seen']['outlet']}"
        row = (f"{entry['id']:>6}  {_days(entry):<22}  {seen:<30}  {entry['outlets']:>7}  {entry['articles']:>8}  "
               f"{entry['copies']:>6}  {entry['attributed']:>10}  ")
        title = entry["title"] or "(no headline)"
        if wide and len(row) + len(title) > width:
            title = title[:max(20, width - len(row) - 1)] + "…"
        lines.append(row + title)
        lines.append(f"{'':>8}{', '.join(entry['outlet_names'])}")
    return "\n".join(lines)


def _origin_kind(member_outlets: set[str], origin: str) -> str:
    if origin in member_outlets:
        return "outlet"
    return "agency, not archived" if agency(origin) == origin else "outlet; its write-up is not in this story"


def _after(seconds: int | None) -> str:
    if seconds is None:
        return ""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return "+" + (f"{days}d " if days else "") + f"{hours}:{rest // 60:02d}"


def _story_lines(found: dict[str, Any]) -> list[str]:
    members = found["members"]
    outlets = {m["outlet"] for m in members}
    groups = found["copy_groups"]
    lines = [f"Story {found['id']}: {found['title'] or '(no headline)'}",
             f"{_days(found)} · {found['articles']} article{'s' if found['articles'] != 1 else ''} from "
             f"{found['outlets']} outlet{'s' if found['outlets'] != 1 else ''} ({', '.join(found['outlet_names'])}) · "
             f"{len(groups)} copy group{'s' if len(groups) != 1 else ''} · {found['attributed']} republished "
             f"({found['credited']} credited)",
             f"first seen {_utc(found['first_seen']['utc'])} UTC at {found['first_seen']['outlet']}", "",
             "Members, in publication order (UTC)"]
    for member in members:
        moment = _instant(member)
        when = "????-??-?? ??:??" if moment is None else (
            moment.strftime("%Y-%m-%d") + " (day)  " if _day_only(member) else moment.strftime("%Y-%m-%d %H:%M"))
        lines.append(f"  {when:<16}  {member['outlet']:<14} {member['title'] or '(no headline)'}")
        lines.append(f"  {'':<16}  {'':<14} {member['url']}")
        notes = [f"published {member['published']}" if member["published"] else "no publication time stated"]
        if member["copy_group"] is not None:
            notes.append(f"copy group {member['copy_group']}" + ("" if member["origin"] else ", its origin"))
        if member["origin"]:
            notes.append(f"republished from {member['origin']} ({'credited' if member['credited'] else 'uncredited'})")
        elif member["copy_group"] is None:
            notes.append("its own text")
        lines.append(f"  {'':<16}  {'':<14} {' · '.join(notes)}")
    lines += ["", "Copy groups (one text published again: copies, excerpts, credited rewrites)"]
    if not groups:
        lines.append("  none: every member's text is its own")
    by_record = {m["record_id"]: m for m in members}
    for group in groups:
        kind = {"agency": "the agency its members credit", "outlet": "the outlet its members credit",
                "earliest": "no credit: the member published first"}.get(group["origin_kind"], group["origin_kind"])
        holders = ", ".join(by_record[r]["outlet"] for r in group["members"] if r in by_record)
        lines.append(f"  group {group['id']}: origin {group['origin']} ({kind}); members {holders}")
    lines += ["", "Syndication graph (each article's outlet ← the origin it republished, credited or not)"]
    order = {m["record_id"]: n for n, m in enumerate(members)}
    for edge in sorted(found["edges"], key=lambda e: order.get(e["from"], 0)):
        source = by_record[edge["from"]]["outlet"]
        target = edge["origin"]
        kind = _origin_kind(outlets, target)
        notes = ["credited" if edge["credited"] else "uncredited"] + ([kind] if kind != "outlet" else [])
        lines.append(f"  {source} ← republished from {target} ({'; '.join(notes)})")
    republishers = {by_record[edge["from"]]["outlet"] for edge in found["edges"]}
    origins = {edge["origin"] for edge in found["edges"]}
    for outlet in found["outlet_names"]:
        if outlet not in republishers and outlet not in origins:
            lines.append(f"  {outlet} (its own write-up)")
    lines += ["", "Timeline (UTC; the time since the story was first seen)"]
    day = None
    for entry, member in zip(found["timeline"], members, strict=True):
        moment = datetime.fromisoformat(entry["utc"]) if entry["utc"] else None
        this_day = moment.strftime("%Y-%m-%d") if moment else "unknown day"
        if this_day != day:
            lines.append(f"  {this_day}")
            day = this_day
        clock = "  day " if entry["day_only"] or moment is None else moment.strftime("%H:%M")
        how = ""
        if member["origin"]:
            how = f"from {member['origin']} ({'credited' if member['credited'] else 'uncredited'})"
        elif member["copy_group"] is not None:
            how = f"copy group {member['copy_group']}: origin"
        after = _after(entry["after_seconds"]) if entry["after_seconds"] else "first"
        lines.append(f"    {clock}  {member['outlet']:<14} {after:<10} {how}".rstrip())
    return lines
