"""Metrics of story assignment: copies (pairwise), stories (B-cubed, ARI), attribution, per kind.

A clustering is a sequence of labels, one per article, in the same order for the truth and the prediction;
``None`` is an article alone (a cluster of its own: an article that is nobody's copy).

- **Copies, pairwise** (:func:`pairwise`): over the pairs of articles, a pair is *predicted* when both are in
  one predicted copy group and *true* when both are in one labelled copy group; precision = true predicted
  pairs / predicted pairs, recall = true predicted pairs / true pairs (each 1.0 when its denominator is 0,
  nothing claimed or nothing to find; the pair counts are reported beside them), F1 their harmonic mean.
  Restricted to a kind: the pairs with at least one article of that kind.
- **Stories, B-cubed** (:func:`bcubed`, Bagga & Baldwin 1998; Amigó et al. 2009): for each article, precision =
  |its predicted cluster ∩ its true cluster| / |its predicted cluster|, recall = the same / |its true cluster|;
  averaged over the articles; F1 the harmonic mean of the averages. Restricted to a kind: averaged over the
  articles of that kind only (their clusters still count every article).
- **Stories, adjusted Rand index** (:func:`adjusted_rand_index`, Hubert & Arabie 1985), from the contingency
  table n_ij: (Σ C(n_ij, 2) − E) / (½ (Σ C(a_i, 2) + Σ C(b_j, 2)) − E), E = Σ C(a_i, 2) Σ C(b_j, 2) / C(n, 2),
  with a_i, b_j the row and column sums; 1.0 for identical clusterings (also when the denominator is 0, as
  scikit-learn does), about 0 for a random one, negative for worse. Restricted to a kind: over the articles of
  that kind, the articles of their true stories and of the true stories of the articles they were made from
  (so a distractor is scored with the story it imitates).
- **Attribution** (:func:`attribution`): over the articles with something to attribute (in a labelled copy
  group, or crediting an origin), the share whose predicted origin is the labelled one, and the share whose
  predicted ``credited`` is the labelled one. Origins are compared as :func:`canonical_origin` makes them: an
  agency by its canonical credit ("Agence France-Presse" is AFP), an outlet by its id or site name ("Axios"
  is axios), "" as the article's own outlet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from math import comb
from typing import Any

from pipelines.extract.syndication import agency

Labels = Sequence[Hashable | None]


def _singletons(labels: Labels) -> list[Hashable]:
    """``None`` made a cluster of its own."""
    return [("\0alone", i) if label is None else label for i, label in enumerate(labels)]


def contingency(truth: Labels, pred: Labels) -> Counter[tuple[Hashable, Hashable]]:
    """Counts of (true cluster, predicted cluster) over the articles."""
    if len(truth) != len(pred):
        raise ValueError(f"{len(truth)} true labels and {len(pred)} predicted ones")
    return Counter(zip(_singletons(truth), _singletons(pred), strict=True))


def pair_counts(truth: Labels, pred: Labels) -> tuple[int, int, int]:
    """(pairs in one cluster in both, in one predicted cluster, in one true cluster)."""
    table = contingency(truth, pred)
    both = sum(comb(n, 2) for n in table.values())
    predicted = sum(comb(n, 2) for n in Counter(_singletons(pred)).values())
    true = sum(comb(n, 2) for n in Counter(_singletons(truth)).values())
    return both, predicted, true


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def pairwise(truth: Labels, pred: Labels, focus: Sequence[bool] | None = None) -> dict[str, Any]:
    """Pairwise precision, recall and F1 (see the module docstring), over the pairs touching ``focus``."""
    both, predicted, true = pair_counts(truth, pred)
    if focus is not None:
        rest = [i for i, f in enumerate(focus) if not f]
        b2, p2, t2 = pair_counts([truth[i] for i in rest], [pred[i] for i in rest])
        both, predicted, true = both - b2, predicted - p2, true - t2
    precision = both / predicted if predicted else 1.0
    recall = both / true if true else 1.0
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall),
            "true_pairs": true, "predicted_pairs": predicted, "correct_pairs": both}


def bcubed(truth: Labels, pred: Labels, focus: Sequence[bool] | None = None) -> dict[str, Any]:
    """B-cubed precision, recall and F1, averaged over the articles (of ``focus``)."""
    t, p = _singletons(truth), _singletons(pred)
    table = contingency(truth, pred)
    t_size, p_size = Counter(t), Counter(p)
    items = [i for i in range(len(t)) if focus is None or focus[i]]
    if not items:
        return {"precision": 1.0, "recall": 1.0, "f1": 1.0, "articles": 0}
    precision = sum(table[t[i], p[i]] / p_size[p[i]] for i in items) / len(items)
    recall = sum(table[t[i], p[i]] / t_size[t[i]] for i in items) / len(items)
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall), "articles": len(items)}


def adjusted_rand_index(truth: Labels, pred: Labels) -> float:
    """The adjusted Rand index of two clusterings (see the module docstring)."""
    n = len(truth)
    both, predicted, true = pair_counts(truth, pred)
    total = comb(n, 2)
    if total == 0:
        return 1.0
    expected = true * predicted / total
    maximum = (true + predicted) / 2
    if maximum == expected:  # both clusterings all singletons, or both one cluster: identical
        return 1.0
    return (both - expected) / (maximum - expected)


# ---------------------------------------------------------------- attribution


def canonical_origin(name: str, own_outlet: str, outlets: dict[str, str]) -> str:
    """An origin as compared: ``agency:AFP``, ``outlet:axios``, or ``other:<name>``; "" is ``own_outlet``."""
    name = " ".join((name or "").split())
    if not name:
        return f"outlet:{own_outlet}"
    if agency(name):
        return f"agency:{agency(name)}"
    folded = name.casefold()
    for outlet, site in outlets.items():
        if folded in (outlet.casefold(), site.casefold()):
            return f"outlet:{outlet}"
    return f"other:{folded}"


def attribution(rows: Sequence[dict[str, Any]], outlets: dict[str, str],
                focus: Sequence[bool] | None = None) -> dict[str, Any]:
    """Origin and credited accuracy over the rows to attribute (of ``focus``).

    Each row: ``outlet``, ``copy_group``, ``origin``, ``credited`` (labels) and ``pred_origin``,
    ``pred_credited``.
    """
    scored = [r for i, r in enumerate(rows) if (focus is None or focus[i]) and (r["copy_group"] or r["credited"])]
    if not scored:
        return {"origin_accuracy": None, "credited_accuracy": None, "articles": 0}
    origin = sum(canonical_origin(r["pred_origin"], r["outlet"], outlets)
                 == canonical_origin(r["origin"], r["outlet"], outlets) for r in scored)
    credited = sum(bool(r["pred_credited"]) == bool(r["credited"]) for r in scored)
    return {"origin_accuracy": origin / len(scored), "credited_accuracy": credited / len(scored),
            "articles": len(scored)}


def by_kind(kinds: Sequence[Sequence[str]], score: Callable[[list[bool]], dict[str, Any]],
            names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``score(focus)`` for each kind of ``names`` that some article has."""
    out = {}
    for name in names:
        focus = [name in k for k in kinds]
        if any(focus):
            out[name] = score(focus)
    return out
