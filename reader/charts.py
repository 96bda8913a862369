"""Charts as inline SVG, drawn on the server: no script, no library, nothing fetched.

Every piece of text in a chart (outlet names, dates, figures) is escaped; hovering a bar or point shows its
figures through SVG's own ``<title>``.
"""

from __future__ import annotations

from datetime import date, timedelta
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
