"""``python -m evaluation.stories``: story assignment scored on the labelled set (``make evaluate-stories``).

Builds the set (:func:`evaluation.stories_set.build_set`, ``--size``, ``--seed``), feeds each article in
publication order to the system under test in a scratch catalog::

    catalog = Catalog(tmp / "catalog.sqlite")
    index = StoryIndex.of(catalog)                    # pipelines.stories.index (--system to name another)
    index.add(StoryArticle(...))                      # -> Assignment, for every article in turn
    membership = index.membership()                   # record_id -> Assignment: the final groups

and scores the final membership (an article's assignment can change as later articles arrive) with
:mod:`evaluation.story_metrics`: copies pairwise, stories B-cubed and ARI, origin and credited accuracy,
overall and per kind (:data:`evaluation.stories_set.KINDS`), and the seed story's check. Prints a table,
writes the JSON (``archive/stories-evaluation.json`` unless ``--json`` says otherwise: every metric, the set's
composition and every article's labels beside its assignment) and exits 0 when every target is met
(:data:`TARGETS`, and the seed story exactly right), 1 when one is missed (the table says which) or the JSON
cannot be written, 2 for bad arguments or a system that cannot be loaded. Progress goes to stderr.

The set is the same in every process; a system whose assignment depends on set iteration order gives figures
that vary with ``PYTHONHASHSEED`` (recorded in the JSON: set it to compare two runs).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evaluation.corpora import DEFAULT_CORPORA_DIR
from evaluation.stories_set import (
    DEFAULT_SEED,
    DEFAULT_SIZE,
    KINDS,
    MIN_SIZE,
    SEED_STORY,
    LabelledArticle,
    build_set,
    composition,
    outlet_names,
)
from evaluation.story_metrics import (
    adjusted_rand_index,
    attribution,
    bcubed,
    by_kind,
    canonical_origin,
    pairwise,
)

SYSTEM = "pipelines.stories.index:StoryIndex"
DEFAULT_JSON = Path("archive") / "stories-evaluation.json"
#: the issue's targets
TARGETS = {"copies_f1": 0.95, "stories_bcubed_f1": 0.90}


def load_system(spec: str) -> Callable[[Any], Any]:
    """``module:Class`` -> what makes the index of a catalog (the class's ``of`` if it has one, as
    ``StoryIndex.of``, else the class), or ValueError saying why not."""
    module, _, name = spec.partition(":")
    try:
        system = getattr(importlib.import_module(module), name or "StoryIndex")
    except Exception as exc:  # ImportError (not written yet), AttributeError, or what importing it raised
        raise ValueError(f"cannot load the system under test {spec!r}: {type(exc).__name__}: {exc}") from exc
    if not callable(system):
        raise ValueError(f"cannot load the system under test {spec!r}: not callable")
    return getattr(system, "of", system)


def _progress(message: str, end: str = "\n") -> None:
    print(message, end=end, file=sys.stderr, flush=True)


def assign(articles: Sequence[LabelledArticle], system: Callable[[Any], Any], workdir: Path) -> tuple[dict, dict]:
    """Every article fed in order to ``system(catalog)``; its final membership and the timings."""
    from pipelines.catalog import Catalog

    catalog = Catalog(workdir / "catalog.sqlite")
    try:
        index = system(catalog)
        started = time.perf_counter()
        tty = sys.stderr.isatty()
        for n, article in enumerate(articles, 1):
            try:
                index.add(article.story_article())
            except Exception as exc:
                raise RuntimeError(f"the system under test failed on article {n} ({article.record_id}, "
                                   f"{article.url}): {type(exc).__name__}: {exc}") from exc
            if tty or n == len(articles) or n % 100 == 0:
                _progress(f"\rassigning: {n}/{len(articles)}" if tty else f"assigning: {n}/{len(articles)}",
                          end="" if tty and n < len(articles) else "\n")
        added = time.perf_counter() - started
        membership = dict(index.membership())
        total = time.perf_counter() - started
    finally:
        catalog.close()
    return membership, {"add_seconds": round(added, 2), "total_seconds": round(total, 2)}


def seed_check(articles: Sequence[LabelledArticle], rows: Sequence[dict[str, Any]],
               outlets: dict[str, str]) -> dict[str, Any]:
    """Whether the seed story came out exactly as labelled: one story of exactly its five articles, the copy
    group {Axios, inkl, Al Mayadeen} and no other, each origin and credit as labelled."""
    members = [i for i, a in enumerate(articles) if a.story == SEED_STORY]
    problems = []
    stories = {rows[i]["pred_story"] for i in members}
    if len(stories) != 1:
        problems.append(f"the seed articles are in {len(stories)} stories, not one")
    else:
        story = stories.pop()
        others = [a.url for a, r in zip(articles, rows, strict=True)
                  if r["pred_story"] == story and a.story != SEED_STORY]
        if others:
            problems.append(f"the seed story also holds {len(others)} other article(s): {', '.join(others[:3])}")
    for i in members:
        a, r = articles[i], rows[i]
        if a.copy_group:
            together = {j for j, row in enumerate(rows) if r["pred_copy_group"] is not None
                        and row["pred_copy_group"] == r["pred_copy_group"]}
            expected = {j for j, b in enumerate(articles) if b.copy_group == a.copy_group}
            if together != expected:
                problems.append(f"{a.outlet}: its copy group holds {sorted(articles[j].outlet for j in together)}, "
                                f"not {sorted(articles[j].outlet for j in expected)}")
        elif r["pred_copy_group"] is not None and any(
                row["pred_copy_group"] == r["pred_copy_group"] for j, row in enumerate(rows) if j != i):
            problems.append(f"{a.outlet}: put in a copy group with others; it is nobody's copy")
        if canonical_origin(r["pred_origin"], a.outlet, outlets) != canonical_origin(a.origin, a.outlet, outlets):
            problems.append(f"{a.outlet}: origin {r['pred_origin']!r}, not {a.origin or '(its own)'!r}")
        if bool(r["pred_credited"]) != a.credited:
            problems.append(f"{a.outlet}: credited {r['pred_credited']}, not {a.credited}")
    return {"exact": not problems, "articles": [articles[i].url for i in members], "problems": problems}


def score(articles: Sequence[LabelledArticle], membership: dict[str, Any]) -> dict[str, Any]:
    """Every metric of the final membership (``record_id -> Assignment``); missing articles count alone."""
    rows = []
    missing = []
    for a in articles:
        got = membership.get(a.record_id)
        if got is None:
            missing.append(a.record_id)
        rows.append({
            "record_id": a.record_id, "outlet": a.outlet, "url": a.url, "kind": list(a.kind),
            "copy_group": a.copy_group, "story": a.story, "origin": a.origin, "credited": a.credited,
            "pred_copy_group": getattr(got, "copy_group", None),
            "pred_story": getattr(got, "story_id", None) if got is not None else ("\0missing", a.record_id),
            "pred_origin": getattr(got, "origin", "") or "", "pred_credited": bool(getattr(got, "credited", False)),
        })
    outlets = outlet_names(articles)
    kinds = [a.kind for a in articles]
    true_groups = [a.copy_group for a in articles]
    pred_groups = [r["pred_copy_group"] for r in rows]
    true_stories = [a.story for a in articles]
    pred_stories = [r["pred_story"] for r in rows]
    by_id = {a.record_id: a for a in articles}

    def story_ari(focus: list[bool]) -> float:
        stories = {articles[i].story for i, f in enumerate(focus) if f}
        stories |= {by_id[articles[i].derived_from].story for i, f in enumerate(focus)
                    if f and articles[i].derived_from}
        keep = [i for i, a in enumerate(articles) if a.story in stories]
        return adjusted_rand_index([true_stories[i] for i in keep], [pred_stories[i] for i in keep])

    return {
        "copies": {"overall": pairwise(true_groups, pred_groups),
                   "by_kind": by_kind(kinds, lambda f: pairwise(true_groups, pred_groups, f), KINDS)},
        "stories": {"overall": {**bcubed(true_stories, pred_stories),
                                "ari": adjusted_rand_index(true_stories, pred_stories)},
                    "by_kind": by_kind(kinds, lambda f: {**bcubed(true_stories, pred_stories, f),
                                                         "ari": story_ari(f)}, KINDS)},
        "attribution": {"overall": attribution(rows, outlets),
                        "by_kind": by_kind(kinds, lambda f: attribution(rows, outlets, f), KINDS)},
        "seed_story": seed_check(articles, rows, outlets),
        "missing": missing,
        "articles": rows,
    }


def missed_targets(metrics: dict[str, Any]) -> list[str]:
    """The targets the metrics miss, said in words."""
    missed = []
    copies = metrics["copies"]["overall"]["f1"]
    if copies < TARGETS["copies_f1"]:
        missed.append(f"copies F1 {copies:.3f} < {TARGETS['copies_f1']}")
    stories = metrics["stories"]["overall"]["f1"]
    if stories < TARGETS["stories_bcubed_f1"]:
        missed.append(f"stories B-cubed F1 {stories:.3f} < {TARGETS['stories_bcubed_f1']}")
    if not metrics["seed_story"]["exact"]:
        missed.append("the seed story is not exactly right: " + "; ".join(metrics["seed_story"]["problems"]))
    if metrics["missing"]:
        missed.append(f"{len(metrics['missing'])} article(s) missing from the membership")
    return missed


def _cell(value: Any, pattern: str = "{:.3f}") -> str:
    return "—" if value is None else pattern.format(value)


def format_table(metrics: dict[str, Any], counts: dict[str, int]) -> str:
    """One row for the whole set, then one per kind: copies, stories, attribution."""
    header = ("kind", "n", "copy P", "copy R", "copy F1", "pairs t/p", "B3 P", "B3 R", "B3 F1", "ARI",
              "origin", "credit")
    rows = [header]
    names = ["all", *[k for k in KINDS if k in metrics["copies"]["by_kind"]]]
    for name in names:
        c, s, a = (metrics[part]["overall"] if name == "all" else metrics[part]["by_kind"][name]
                   for part in ("copies", "stories", "attribution"))
        rows.append((name, str(counts.get(name, 0)), _cell(c["precision"]), _cell(c["recall"]), _cell(c["f1"]),
                     f"{c['true_pairs']}/{c['predicted_pairs']}", _cell(s["precision"]), _cell(s["recall"]),
                     _cell(s["f1"]), _cell(s["ari"]), _cell(a["origin_accuracy"]), _cell(a["credited_accuracy"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths,
                                                                                                  strict=True)))
             for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    seed = metrics["seed_story"]
    lines.append("")
    lines.append("seed story: " + ("exactly right" if seed["exact"] else "NOT right: " + "; ".join(seed["problems"])))
    return "\n".join(lines)


def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an int of at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The command line: --size, --seed, --json, --corpora-dir, --system."""
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.stories",
        description="Score story assignment (copy groups, stories, attribution) on the labelled set built from "
                    "the seed outlets' fixtures and the shared corpora.",
    )
    parser.add_argument("--size", type=at_least(MIN_SIZE), default=DEFAULT_SIZE,
                        help=f"articles in the set (default {DEFAULT_SIZE}, at least {MIN_SIZE})")
    parser.add_argument("--seed", type=at_least(0), default=DEFAULT_SEED,
                        help=f"the set's random seed (default {DEFAULT_SEED})")
    parser.add_argument("--json", dest="json_out",
                        help=f"JSON output file (by default {DEFAULT_JSON} under the current directory)")
    parser.add_argument("--corpora-dir", help=f"the shared corpora (by default {DEFAULT_CORPORA_DIR})")
    parser.add_argument("--system", default=SYSTEM,
                        help=f"the system under test as module:Class, its index made by Class.of(catalog) "
                             f"(or Class(catalog)) (default {SYSTEM})")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Build, assign, score, print and write; 0 when every target is met, 1 when not (2: bad arguments)."""
    parser = build_parser()
    opts = parser.parse_args(argv)
    corpora_dir = Path(opts.corpora_dir) if opts.corpora_dir else DEFAULT_CORPORA_DIR
    if not corpora_dir.is_dir():
        parser.error(f"corpora directory not found: {corpora_dir} (give it with --corpora-dir)")
    out = Path(opts.json_out) if opts.json_out else DEFAULT_JSON
    if out.is_dir():
        parser.error(f"--json {out} is a directory; give a file name")
    try:
        system = load_system(opts.system)
    except ValueError as exc:
        parser.error(str(exc))

    started = time.perf_counter()
    try:
        articles = build_set(opts.size, opts.seed, corpora_dir)
    except FileNotFoundError as exc:
        parser.error(str(exc))
    made = composition(articles)
    _progress(f"set: {len(articles)} articles, {made['stories']} stories, {made['copy_groups']} copy groups "
              f"(built in {time.perf_counter() - started:.1f}s)")
    with tempfile.TemporaryDirectory(prefix="stories-evaluation-") as tmp:
        membership, timing = assign(articles, system, Path(tmp))
    metrics = score(articles, membership)
    missed = missed_targets(metrics)
    counts = {"all": len(articles), **made["kinds"]}  # type: ignore[dict-item]
    result = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"), "system": opts.system, "size": opts.size,
        "seed": opts.seed, "corpora_dir": str(corpora_dir), "composition": made, "timing": timing,
        # the set does not depend on it; a system whose result does (set iteration order) varies with it
        "python_hash_seed": os.environ.get("PYTHONHASHSEED", "random"),
        "targets": TARGETS, "missed": missed, **metrics,
    }
    print(format_table(metrics, counts))
    print(f"assignment: {timing['total_seconds']:.1f}s for {len(articles)} articles")
    print("targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str), "utf-8")
    except OSError as exc:
        print(f"cannot write the JSON to {out}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    _progress(f"JSON written to {out}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
