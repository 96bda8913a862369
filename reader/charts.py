"""Charts as inline SVG, drawn on the server: no script, no library, nothing fetched.

Every piece of text in a chart (outlet names, dates, figures) is escaped; hovering a bar or point shows its
figures through SVG's own ``<title>``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from markupsafe import Markup, escape

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac")
HEALTH_FIELDS = ("title", "byline", "published", "body", "confidence")
HEALTH_COLORS = dict(zip(HEALTH_FIELDS, ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#9c755f"), strict=True))
#: More days than this are drawn per month.
MAX_DAYS = 120


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    return Markup(f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
                  f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
                  + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "middle", css: str = "axis") -> str:
    return f'<text x="{_fmt(x)}" y="{_fmt(y)}" text-anchor="{anchor}" class="{css}">{escape(text)}</text>'


def buckets(per_day: list[tuple[str, str, int]], day_totals: dict[str, dict[str, int]]) -> tuple[str, list[dict]]:
    """Matches and all articles per outlet in each day (or month, over long spans) from the first matching day
    to the last, empty ones included: ``("day" | "month", [{"bucket", "matches": {outlet: n},
    "totals": {outlet: n}}])``."""
    if not per_day:
        return "day", []
    first, last = date.fromisoformat(per_day[0][0]), date.fromisoformat(per_day[-1][0])
    monthly = (last - first).days + 1 > MAX_DAYS

    def key(day: str) -> str:
        return day[:7] if monthly else day

    names: list[str] = []
    current = first
    while current <= last:
        if not names or names[-1] != key(current.isoformat()):
            names.append(key(current.isoformat()))
        current += timedelta(days=1)
    table = {name: {"bucket": name, "matches": {}, "totals": {}} for name in names}
    for day, outlet, count in per_day:
        matches = table[key(day)]["matches"]
        matches[outlet] = matches.get(outlet, 0) + count
    for day, outlets in day_totals.items():
        if key(day) in table:
            totals = table[key(day)]["totals"]
            for outlet, count in outlets.items():
                totals[outlet] = totals.get(outlet, 0) + count
    return ("month" if monthly else "day"), list(table.values())


def _x_labels(names: list[str], x_of: Any, y: float) -> list[str]:
    step = max(1, -(-len(names) // 6))
    shown = sorted({0, len(names) - 1, *range(0, len(names), step)})
    if len(shown) > 1 and shown[-1] - shown[-2] < step / 2:
        shown.pop(-2)
    return [_text(x_of(i), y, names[i]) for i in shown]


def matches_chart(rows: list[dict], outlets: list[str], unit: str) -> dict[str, Markup]:
    """Two charts of the matches: counts per day (stacked by outlet) and each outlet's share of its own
    articles that day."""
    width, height, left, right, top, bottom = 760, 190, 44, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(rows), 1)
    slot = plot_w / n

    def x_of(i: int) -> float:
        return left + slot * (i + 0.5)

    colors = {outlet: color(i) for i, outlet in enumerate(outlets)}
    peak = max((sum(row["matches"].values()) for row in rows), default=0) or 1
    counts = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" class="grid"/>',
              _text(left - 6, top + 8, str(peak), "end"), _text(left - 6, top + plot_h, "0", "end")]
    for i, row in enumerate(rows):
        y = top + plot_h
        for outlet in outlets:
            count = row["matches"].get(outlet, 0)
            if not count:
                continue
            h = plot_h * count / peak
            y -= h
            tip = f"{row['bucket']} {outlet}: {count} matching"
            bar = min(max(slot * 0.8, 1), 36)
            counts.append(f'<rect x="{_fmt(x_of(i) - bar / 2)}" y="{_fmt(y)}" '
                          f'width="{_fmt(bar)}" height="{_fmt(h)}" fill="{colors[outlet]}">'
                          f"<title>{escape(tip)}</title></rect>")
    counts += _x_labels([row["bucket"] for row in rows], x_of, height - 8)

    shares = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" class="grid"/>',
              f'<line x1="{left}" y1="{top}" x2="{width - right}" y2="{top}" class="grid"/>',
              _text(left - 6, top + 8, "100%", "end"), _text(left - 6, top + plot_h, "0%", "end")]
    for outlet in outlets:
        points = []
        for i, row in enumerate(rows):
            total = row["totals"].get(outlet, 0)
            if total:
                share = row["matches"].get(outlet, 0) / total
                points.append((x_of(i), top + plot_h * (1 - share), row["bucket"], share, total))
        if len(points) > 1:
            path = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y, *_ in points)
            shares.append(f'<polyline points="{path}" fill="none" stroke="{colors[outlet]}" stroke-width="1.5"/>')
        for x, y, bucket, share, total in points:
            tip = f"{bucket} {outlet}: {share:.0%} of its {total} article(s)"
            shares.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="3" fill="{colors[outlet]}">'
                          f"<title>{escape(tip)}</title></circle>")
    shares += _x_labels([row["bucket"] for row in rows], x_of, height - 8)
    per = "month" if unit == "month" else "day"
    return {"counts": _svg(width, height, f"matching articles per {per} and outlet", counts),
            "shares": _svg(width, height, f"share of each outlet's articles per {per} that match", shares)}


def health_chart(rows: list[dict[str, Any]], outlet: str) -> Markup:
    """An outlet's extraction coverage run after run (oldest left): the share of article pages with each
    field, and the runs judged degraded marked in red."""
    width, height, left, right, top, bottom = 260, 78, 30, 6, 6, 16
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(rows)

    def x_of(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" class="grid"/>',
            f'<line x1="{left}" y1="{top}" x2="{width - right}" y2="{top}" class="grid"/>',
            _text(left - 3, top + 7, "100%", "end"), _text(left - 3, top + plot_h, "0%", "end")]
    for i, row in enumerate(rows):
        if row.get("degraded"):
            tip = f"{row['finished'][:16]}: degraded - {row['degraded']}"
            body.append(f'<rect x="{_fmt(x_of(i) - 3)}" y="{top}" width="6" height="{plot_h}" class="degraded">'
                        f"<title>{escape(tip)}</title></rect>")
    for name in HEALTH_FIELDS:
        points = [(x_of(i), top + plot_h * (1 - float(row.get(name) or 0)), row) for i, row in enumerate(rows)]
        if len(points) > 1:
            path = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y, _ in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{HEALTH_COLORS[name]}" stroke-width="1.5"/>')
        for x, y, row in points:
            tip = f"{row['finished'][:16]} ({row['pages']} pages): {name} {float(row.get(name) or 0):.0%}"
            body.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="2.5" fill="{HEALTH_COLORS[name]}">'
                        f"<title>{escape(tip)}</title></circle>")
    if rows:
        body += [_text(left, height - 3, rows[0]["finished"][:10], "start"),
                 _text(width - right, height - 3, rows[-1]["finished"][:10], "end")]
    return _svg(width, height, f"extraction coverage of {outlet} per run", body)


# -- stories


def _layers(names: list[str], targets: dict[str, set[str]]) -> dict[str, int]:
    """Each node's column: 0 for a node republishing from nobody (an origin, or a write-up of its own), else one
    right of the furthest origin it republishes from (a cycle is cut where it closes)."""
    column: dict[str, int] = {}

    def depth(name: str, seen: frozenset[str]) -> int:
        if name in column:
            return column[name]
        ahead = [t for t in targets.get(name, ()) if t not in seen and t != name]
        value = 1 + max(depth(t, seen | {name}) for t in ahead) if ahead else 0
        column[name] = value
        return value

    for name in names:
        depth(name, frozenset())
    return column


def syndication_graph(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], story_id: int) -> Markup:
    """A story's "republished from" graph: a box per outlet or agency (origins highlighted, agencies that are
    not archived dashed), an arrow from each republisher to its origin, solid when it credits the origin and
    dashed when it does not. Origins stand on the left, their republishers to the right."""
    box_w, box_h, gap_x, gap_y, pad = 176, 42, 120, 16, 14
    names = [node["name"] for node in nodes]
    targets: dict[str, set[str]] = {}
    for edge in edges:
        targets.setdefault(edge["from"], set()).add(edge["to"])
    column = _layers(names, targets)
    columns = max(column.values(), default=0) + 1
    placed: dict[str, tuple[int, int]] = {}  # name -> (column, row)
    for c in range(columns):
        here = [name for name in names if column[name] == c]
        if c:  # beside the origins they republish from
            here.sort(key=lambda name: min((placed[t][1] for t in targets.get(name, ()) if t in placed),
                                           default=len(names)))
        else:  # the most republished origins first, write-ups of their own last
            incoming = {name: sum(1 for e in edges if e["to"] == name) for name in here}
            here.sort(key=lambda name: (-incoming[name], names.index(name)))
        for row, name in enumerate(here):
            placed[name] = (c, row)
    rows = max((row for _, row in placed.values()), default=0) + 1
    width = pad * 2 + columns * box_w + (columns - 1) * gap_x
    height = pad * 2 + rows * box_h + (rows - 1) * gap_y

    def box(name: str) -> tuple[float, float]:
        c, row = placed[name]
        return pad + c * (box_w + gap_x), pad + row * (box_h + gap_y)

    body = ['<defs><marker id="story-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head"/>'
            "</marker></defs>"]
    pairs: dict[tuple[str, str], int] = {}
    for edge in edges:
        source, target = edge["from"], edge["to"]
        n = pairs.get((source, target), 0)
        pairs[(source, target)] = n + 1
        shift = 6 * n
        sx, sy = box(source)
        tx, ty = box(target)
        if placed[source][0] > placed[target][0]:  # the usual way: right to left
            x1, y1, x2, y2 = sx, sy + box_h / 2 + shift, tx + box_w + 2, ty + box_h / 2 + shift
            middle = (x1 + x2) / 2
            path = f"M {_fmt(x1)} {_fmt(y1)} C {_fmt(middle)} {_fmt(y1)}, {_fmt(middle)} {_fmt(y2)}, " \
                   f"{_fmt(x2)} {_fmt(y2)}"
            label_x, label_y = middle, (y1 + y2) / 2 - 4
        else:  # a cycle, or within one column: an arc over the boxes
            x1, y1 = sx + box_w * 0.3 + shift, sy
            x2, y2 = tx + box_w * 0.7 + shift, ty - 2
            lift = min(y1, y2) - 28
            path = f"M {_fmt(x1)} {_fmt(y1)} C {_fmt(x1)} {_fmt(lift)}, {_fmt(x2)} {_fmt(lift)}, " \
                   f"{_fmt(x2)} {_fmt(y2)}"
            label_x, label_y = (x1 + x2) / 2, lift + 8
        kind = "credited" if edge["credited"] else "uncredited"
        count = edge.get("articles", 1)
        tip = (f"{source} republished from {target} ({kind})" + (f": {count} articles" if count > 1 else ""))
        dash = "" if edge["credited"] else ' stroke-dasharray="6 4"'
        label = kind + (f" ×{count}" if count > 1 else "")
        body.append(f'<g class="edge {kind}" data-from="{escape(source)}" data-to="{escape(target)}">'
                    f"<title>{escape(tip)}</title>"
                    f'<path d="{path}" fill="none" class="edge-line"{dash} marker-end="url(#story-arrow)"/>'
                    + _text(label_x, label_y, label, css="edge-label") + "</g>")
    for node in nodes:
        x, y = box(node["name"])
        classes = ["node", node["kind"].replace(" ", "-")] + (["origin"] if node["origin"] else [])
        if node["kind"] == "agency":
            note = "agency, not archived"
        elif node["kind"] == "outlet elsewhere":
            note = "archived outlet; not in this story"
        else:
            note = f"{node['articles']} article{'s' if node['articles'] != 1 else ''}"
        if node["origin"]:
            note = "origin · " + note
        dash = ' stroke-dasharray="4 3"' if node["kind"] != "outlet" else ""
        tip = f"{node['name']}: {note}"
        body.append(f'<g class="{" ".join(classes)}" data-name="{escape(node["name"])}"><title>{escape(tip)}</title>'
                    f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{box_w}" height="{box_h}" rx="6"{dash}/>'
                    + _text(x + box_w / 2, y + 17, node["name"], css="node-name")
                    + _text(x + box_w / 2, y + 33, note, css="node-note") + "</g>")
    return Markup(f'<svg class="chart story-graph" viewBox="0 0 {width} {height}" width="{width}" '
                  f'height="{height}" role="img" aria-label="syndication graph of story {int(story_id)}" '
                  'xmlns="http://www.w3.org/2000/svg">' + "".join(body) + "</svg>")


#: Tick spacings for the timeline, in seconds: the first giving at most 8 ticks is used.
_STEPS = (3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400,
          91 * 86400, 365 * 86400)


def story_timeline(rows: list[dict[str, Any]], outlets: list[str], story_id: int) -> Markup:
    """A story's timeline: one row per outlet (in the order they first published), a mark at each member's
    publication time (UTC) in its copy group's colour (hollow: a text of its own; square: a day without a time)."""
    width, left, right, top, row_h, bottom = 760, 120, 24, 10, 28, 30
    moments = [datetime.fromisoformat(row["utc"]) for row in rows if row["utc"]]
    start = min(moments, default=datetime(1970, 1, 1, tzinfo=UTC))
    end = max(moments, default=start)
    span = (end - start).total_seconds()
    if span < 3600:
        start, end = start - timedelta(minutes=30), end + timedelta(minutes=30)
        span = (end - start).total_seconds()
    plot_w = width - left - right
    height = top + row_h * max(len(outlets), 1) + bottom

    def x_of(moment: datetime) -> float:
        return left + 8 + (plot_w - 16) * (moment - start).total_seconds() / span

    step = next((s for s in _STEPS if span / s <= 8), _STEPS[-1])
    body = []
    if step < 86400:  # on the hour (every 1, 2, 3, 6 or 12 hours of the UTC day)
        tick = datetime.fromtimestamp(-(-start.timestamp() // step) * step, UTC)
    else:  # at midnight
        tick = datetime(start.year, start.month, start.day, tzinfo=UTC)
        tick += timedelta(days=1) if tick < start else timedelta()
    while tick <= end:
        x = x_of(tick)
        body.append(f'<line x1="{_fmt(x)}" y1="{top}" x2="{_fmt(x)}" y2="{height - bottom}" class="grid"/>')
        body.append(_text(x, height - bottom + 14, tick.strftime("%m-%d %H:%M" if step < 86400 else "%Y-%m-%d")))
        tick += timedelta(seconds=step)
    body.append(_text(left + plot_w, height - 3, "UTC", "end"))
    for n, outlet in enumerate(outlets):
        y = top + row_h * n + row_h / 2
        body.append(f'<line x1="{left}" y1="{_fmt(y)}" x2="{width - right}" y2="{_fmt(y)}" class="grid"/>')
        body.append(_text(left - 8, y + 4, outlet, "end", css="row-label"))
    for row in rows:
        if not row["utc"]:
            continue
        moment = datetime.fromisoformat(row["utc"])
        x, y = x_of(moment), top + row_h * outlets.index(row["outlet"]) + row_h / 2
        when = moment.strftime("%Y-%m-%d") + " (day only)" if row["day_only"] else moment.strftime(
            "%Y-%m-%d %H:%M UTC")
        how = (f"; republished from {row['origin']} ({'credited' if row['credited'] else 'uncredited'})"
               if row["origin"] else "")
        group = f"; copy group {row['copy_group']}" if row["copy_group"] is not None else ""
        tip = f"{row['outlet']}, {when}{group}{how}: {row['title'] or ''}"
        fill = row["colour"] or "#ffffff"
        css = "mark" + (" own" if row["colour"] is None else "")
        if row["day_only"]:
            shape = f'<rect x="{_fmt(x - 5)}" y="{_fmt(y - 5)}" width="10" height="10" fill="{fill}" class="{css}"/>'
        else:
            shape = f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="6" fill="{fill}" class="{css}"/>'
        body.append(f'<g class="member" data-outlet="{escape(row["outlet"])}"><title>{escape(tip)}</title>{shape}</g>')
    return Markup(f'<svg class="chart story-timeline" viewBox="0 0 {width} {height}" width="{width}" '
                  f'height="{height}" role="img" aria-label="timeline of story {int(story_id)}" '
                  'xmlns="http://www.w3.org/2000/svg">' + "".join(body) + "</svg>")
