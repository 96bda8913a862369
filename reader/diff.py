"""What changed between two versions of an article: headline and byline word by word, the body line by line.

Plain data (lists of ``[op, text]`` pairs, op ``=`` kept, ``-`` removed, ``+`` added), so a page renders it
as escaped text and the JSON twin returns it as it is. :mod:`difflib`, as NewsDiffs and diffengine use.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Any

_TOKENS = re.compile(r"\s+|[^\s]+")
#: Lines of unchanged body kept around each change.
CONTEXT = 1


def words(old: str, new: str) -> list[list[str]]:
    """Word-level changes from ``old`` to ``new`` (white space kept, so joining the kept and added parts gives
    ``new`` and the kept and removed parts give ``old``)."""
    a, b = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    parts: list[list[str]] = []

    def add(op: str, tokens: list[str]) -> None:
        text = "".join(tokens)
        if not text:
            return
        if parts and parts[-1][0] == op:
            parts[-1][1] += text
        else:
            parts.append([op, text])

    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            add("=", a[i1:i2])
        else:
            add("-", a[i1:i2])
            add("+", b[j1:j2])
    return parts


def field(old: str | None, new: str | None) -> dict[str, Any] | None:
    """A changed field (headline, byline) as old, new and word changes; None when it did not change."""
    old, new = old or "", new or ""
    if old == new:
        return None
    return {"old": old, "new": new, "changes": words(old, new)}


def body(old: str, new: str, context: int = CONTEXT) -> list[dict[str, Any]]:
    """The body's changes in hunks: each a list of lines ``{"op", "text"}`` (op ``=``, ``-``, ``+``) or, for a
    line edited in place, ``{"op": "~", "changes": words(old line, new line)}``."""
    a, b = old.splitlines(), new.splitlines()
    hunks = []
    for group in SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        lines: list[dict[str, Any]] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [{"op": "=", "text": line} for line in a[i1:i2]]
            elif tag == "replace" and i2 - i1 == j2 - j1:
                lines += [{"op": "~", "changes": words(x, y)} for x, y in zip(a[i1:i2], b[j1:j2], strict=True)]
            else:
                lines += [{"op": "-", "text": line} for line in a[i1:i2]]
                lines += [{"op": "+", "text": line} for line in b[j1:j2]]
        hunks.append({"old_start": group[0][1] + 1, "new_start": group[0][3] + 1, "lines": lines})
    return hunks


def summary(headline: dict | None, byline: dict | None, hunks: list[dict[str, Any]]) -> str:
    """One line on what changed, e.g. ``headline, byline, body (+2 -1 lines, 3 edited)``."""
    parts = [name for name, changed in (("headline", headline), ("byline", byline)) if changed]
    ops = [line["op"] for hunk in hunks for line in hunk["lines"]]
    if any(op != "=" for op in ops):
        counts = {op: ops.count(op) for op in "+-~"}
        detail = ", ".join(text for text, n in ((f"+{counts['+']}", counts["+"]), (f"-{counts['-']}", counts["-"]),
                                                 (f"{counts['~']} edited", counts["~"])) if n)
        parts.append(f"body ({detail} lines)")
    return ", ".join(parts) or "no visible change in the text"


def unified(headline: dict | None, byline: dict | None, hunks: list[dict[str, Any]]) -> str:
    """The changes as plain text (the Atom feed's text form)."""
    out = []
    for name, changed in (("Headline", headline), ("Byline", byline)):
        if changed:
            out += [f"{name}:", f"- {changed['old']}", f"+ {changed['new']}", ""]
    for hunk in hunks:
        out.append(f"@@ line {hunk['old_start']} -> {hunk['new_start']} @@")
        for line in hunk["lines"]:
            if line["op"] == "~":
                out.append("- " + "".join(text for op, text in line["changes"] if op != "+"))
                out.append("+ " + "".join(text for op, text in line["changes"] if op != "-"))
            else:
                out.append({"=": "  ", "-": "- ", "+": "+ "}[line["op"]] + line["text"])
    return "\n".join(out)
