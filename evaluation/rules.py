"""What each rule of the generic extractor does, publisher by publisher: the generalisation check.

A rule enters the generic extractor only if it helps pages of at least :data:`MIN_PUBLISHERS` publishers and
costs none (issue 16). Each rule of :mod:`pipelines.extract.authors` and :mod:`pipelines.extract.heading` can be
switched off (their ``ENABLED``); this module scores the extractor on the labelled corpora with all rules and
with none, then each rule both switched off among all and switched on alone (rules overlap: two that catch the
same pages each look useless when only one is switched off), and reports per rule the publishers whose pages
it turns right and those it turns wrong, in either way.

It also gives the **leave-one-publisher-out** figure for authors on the fundus pages: each publisher is scored
with only the rules that would have entered had its pages never been seen (those still helping three other
publishers and costing none elsewhere), so nothing is fitted on the publisher being scored.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from pipelines.extract import authors, extract_article, heading

#: A rule must help pages of this many publishers (and hurt none) to enter the generic extractor.
MIN_PUBLISHERS = 3
#: Rules the issue asks for by name (authors: photo credits, the outlet as author, roles, e-mail addresses and
#: handles, lists split; headline: never a site name or a section label, the page title less its site suffix
#: among the stated titles): they enter if they cost nothing, however few pages here need them.
REQUESTED = frozenset({"contacts", "picture-credits", "joined", "roles", "organisations", "site-label-h1",
                       "title-tag"})
#: Labels of the shared corpora that the page itself contradicts, and why. They are scored as labelled in every
#: figure; only the bar for a rule sets aside a change on them (listed apart in the report).
DISPUTED = {
    ("readability", "simplyfound-1"): "labelled with no byline, but the page shows 'Joe Wee' as its byline "
                                      "(and its site name is 'SIMPLYFOUND.COM | BY: JOE WEE')",
    ("readability", "heise"): "labelled with the authors 'Mac' and 'i': the magazine's name 'Mac & i' split",
    ("readability", "daringfireball-1"): "labelled with no byline, but the page shows 'By John Gruber' over its "
                                         "text, which begins 'Daring Fireball is written and produced by John Gruber'",
}
#: The corpora with per-page authors and titles.
CORPORA = ("fundus", "readability", "postlight")
_NUMBERED = re.compile(r"-\d+$")
#: The switchable modules, and the field each one's rules decide.
MODULES: dict[str, tuple[ModuleType, str]] = {"authors": (authors, "authors"), "headline": (heading, "title")}


@dataclass(frozen=True)
class WithRules:
    """``extract_article`` with only ``enabled`` of a module's rules (called in the evaluation's workers)."""

    module: str
    enabled: frozenset[str]

    def __call__(self, html: str | bytes, url: str) -> Any:
        target = MODULES[self.module][0]
        saved = target.ENABLED
        target.ENABLED = self.enabled
        try:
            return extract_article(html, url)
        finally:
            target.ENABLED = saved


def publisher(corpus: str, page: dict[str, Any]) -> str:
    """Who published a corpus page: fundus names it; the other corpora's pages are one site each, named by
    their file (``yahoo-2`` is Yahoo's, ``www.newyorker.com--multiple-authors.html`` The New Yorker's)."""
    if corpus == "fundus":
        return f"fundus:{page['truth']['publisher']}"
    name = re.sub(r"(?:--.*)?\.html?$", "", page["id"])
    return f"{corpus}:{_NUMBERED.sub('', name)}"


def verdicts(result: dict[str, Any], field: str) -> dict[tuple[str, str], bool]:
    """(corpus, page id) -> whether our ``field`` (``authors`` or ``title``) is right on that page."""
    found = {}
    for corpus in CORPORA:
        for page in result["corpora"].get(corpus, {}).get("per_page", []):
            ours = page.get("ours", {})
            if corpus == "fundus":
                right = ours.get(f"{field}_ok")
            elif field == "authors":
                right = ours.get("authors") == "exact" if "expected_authors" in ours else None
            else:
                right = ours.get("title") == "match" if "title" in ours else None
            if right is not None:
                found[corpus, page["id"]] = bool(right)
    return found


def ablate(module: str, corpora_dir: Path, jobs: int | None, progress: Any = print) -> dict[str, Any]:
    """Score with every rule of ``module`` and with none, then each rule off among all and on alone; what each
    rule changes, by publisher, and (authors) the leave-one-publisher-out figure on the fundus pages."""
    from evaluation.run import evaluate

    target, field = MODULES[module]
    everything = frozenset(target.RULES)
    owners: dict[tuple[str, str], str] = {}

    def run(enabled: frozenset[str]) -> dict[tuple[str, str], bool]:
        result = evaluate({"ours": WithRules(module, enabled)}, list(CORPORA), None, corpora_dir, jobs)
        if not owners:  # the same pages in every run
            owners.update({(corpus, page["id"]): publisher(corpus, page)
                           for corpus in CORPORA for page in result["corpora"][corpus]["per_page"]})
        return verdicts(result, field)

    progress(f"{module}: all {len(everything)} rules, then none")
    full = run(everything)
    base = run(frozenset())
    rules = {}
    for rule in target.RULES:
        progress(f"{module}: all but {rule!r}, then {rule!r} alone")
        without = run(everything - {rule})
        alone = run(frozenset({rule}))
        helped: dict[str, set[str]] = defaultdict(set)
        hurt: dict[str, set[str]] = defaultdict(set)
        disputed: set[str] = set()
        for on, off in ((full, without), (alone, base)):  # what the rule changes among all, and on its own
            for key, right in on.items():
                if right != off.get(key, False):
                    if key in DISPUTED:
                        disputed.add(f"{key[0]}:{key[1]}")
                    else:
                        (helped if right else hurt)[owners[key]].add(key[1])
        rules[rule] = {"says": target.RULES[rule], "helped": {name: sorted(pages) for name, pages in helped.items()},
                       "hurt": {name: sorted(pages) for name, pages in hurt.items()}, "disputed": sorted(disputed),
                       "requested": rule in REQUESTED, "enters": _enters(rule, set(helped), set(hurt))}
    report: dict[str, Any] = {"module": module, "field": field, "rules": rules,
                              "right": sum(full.values()), "pages": len(full)}
    fundus = {key: right for key, right in full.items() if key[0] == "fundus"}
    report["fundus_pct"] = 100 * sum(fundus.values()) / max(1, len(fundus))
    if module == "authors":
        report["lopo_pct"] = _leave_one_publisher_out(rules, owners, fundus, run, everything, progress)
    return report


def _enters(rule: str, helped: set[str], hurt: set[str]) -> bool:
    return not hurt and (len(helped) >= MIN_PUBLISHERS or rule in REQUESTED)


def _leave_one_publisher_out(rules: dict[str, Any], owners: dict[tuple[str, str], str],
                             fundus: dict[tuple[str, str], bool], run: Any, everything: frozenset[str],
                             progress: Any) -> float:
    """The share of fundus pages right when each publisher is scored with the rules chosen without it."""
    by_rules: dict[frozenset[str], list[tuple[str, str]]] = defaultdict(list)
    for key in fundus:
        left_out = owners[key]
        chosen = frozenset(rule for rule, found in rules.items()
                           if _enters(rule, set(found["helped"]) - {left_out}, set(found["hurt"]) - {left_out}))
        by_rules[chosen].append(key)
    right = 0
    for chosen, keys in by_rules.items():
        if chosen == everything:
            right += sum(fundus[key] for key in keys)
            continue
        progress(f"leave-one-publisher-out: {len(keys)} fundus pages without {sorted(everything - chosen)}")
        scored = run(chosen)
        right += sum(scored[key] for key in keys)
    return 100 * right / max(1, len(fundus))


def format_report(report: dict[str, Any]) -> str:
    """The ablation as a table: per rule, the publishers it helps and hurts (pages), and whether it enters."""
    lines = [f"{report['module']} rules ({report['field']} right on {report['right']}/{report['pages']} pages; "
             f"fundus {report['fundus_pct']:.1f}%"
             + (f", leave-one-publisher-out {report['lopo_pct']:.1f}%)" if "lopo_pct" in report else ")")]
    for rule, found in report["rules"].items():
        verdict = ("enters" if found["enters"] else "FAILS the bar") + (" (asked for)" if found["requested"] else "")
        lines.append(f"  {rule:<16} helps {len(found['helped']):>2} publishers, hurts {len(found['hurt']):>2}: "
                     f"{verdict} - {found['says']}")
        for label in ("helped", "hurt"):
            if found[label]:
                lines.append(f"      {label}: " + ", ".join(f"{name} ({len(pages)})" if len(pages) > 1 else name
                                                          for name, pages in sorted(found[label].items())))
        if found["disputed"]:
            lines.append("      changes disputed labels: " + ", ".join(found["disputed"]))
    disputed = sorted({page for found in report["rules"].values() for page in found["disputed"]})
    for page in disputed:
        corpus, _, name = page.partition(":")
        lines.append(f"  disputed label {page}: {DISPUTED[corpus, name]}")
    return "\n".join(lines)
