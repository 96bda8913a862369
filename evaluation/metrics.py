"""How extractions are scored: the metric of each corpus, page by page and over a corpus.

Corpora (read in place, never copied) and their metrics:

``aeb`` - article-extraction-benchmark (109 pages, ``html/<id>.html.gz`` decoded as UTF-8, truth
``ground-truth.json`` ``articleBody``). The prediction is ``Article.body``. Metric as defined by
scrapinghub/article-extraction-benchmark's README.rst and ``evaluate.py`` (checked against evaluate.py at
commit 7d95432; its scoring functions reproduce per page exactly). Their published trafilatura 2.0.0 output
scores F1 0.954 on these 109 pages (README: 0.958 on all 181).

- tokens: every match of the Unicode regex ``\\w+`` (case kept, punctuation dropped);
- shingles: the multiset of runs of 4 consecutive tokens; a text of 1-3 tokens is one shingle of all
  its tokens; an empty text (or ``None``) has none;
- per page: tp = sum over shingles of min(true count, predicted count), fp = surplus predicted,
  fn = surplus true; the three are divided by tp+fp+fn (so long texts weigh no more);
  precision = 1 if fp = fn = 0, else 0 if tp = fp = 0, else tp/(tp+fp); recall likewise with fn;
- corpus: precision = mean page precision over pages with tp+fp > 0 (a non-empty prediction), recall =
  mean page recall over pages with tp+fn > 0 (a non-empty truth), F1 = 2PR/(P+R) of those two means
  (not a mean of page F1s); a mean over no page is 0. accuracy = share of all pages whose token lists are
  identical. The benchmark's bootstrap standard deviations are not computed.

``fundus`` - fundus-test-data, rows of ``manifest.json`` with ``english`` true; truth is the expected JSON's
``version_key`` entry.

- body: the shingle metric above, truth = ``summary`` paragraphs, then each section's ``headline`` and
  ``paragraphs``, joined with newlines; prediction = ``standfirst`` and ``body`` joined with a newline;
- title: equal after whitespace normalisation (runs of whitespace -> one space, stripped), case kept;
- authors: equal as sets of names, each whitespace-normalised, case kept (fundus gives the names as the page
  prints them, e.g. AP's "STEVE PEOPLES"; folding case would also hide duplicates such as "Sauli giliard"
  beside "Sauli Giliard"); empty names are dropped; two empty sets agree;
- time: the truth (``publishing_date``) "has a time" unless its local time is exactly 00:00:00 - fundus
  gives midnight where the page states only a date (Nature, Taipei Times) - or it has no time part.
  For pages whose truth has a time: a hit when the prediction parses (``datetime.fromisoformat``) as an
  aware datetime and both instants, cut down to the minute in UTC, are equal (a date-only or naive
  prediction misses). For the other pages ("date only"): a hit when the calendar dates agree (an aware
  prediction is first converted to the truth's UTC offset). "date (day)" applies that date test to all pages.
  Percentages are of the pages in each group.
- authors by publisher: the "authors equal" test per publisher (fundus has 1-2 English pages each), with
  the number of publishers whose pages are all right / all wrong and the lowest and median publisher score.
  This only shows the spread: a leave-one-publisher-out figure needs rules fitted on the other
  publishers, and the extractor has no fitted rules yet.

``trafilatura`` - trafilatura-eval (``evaldata.json``, 990 pages, HTML passed as raw bytes as trafilatura's
evaluation does). Scored like trafilatura's ``tests/eval_common.py`` (commit d5f6da0):
per page, each ``with`` snippet found in the prediction is a true positive (else a false negative), each
``without`` snippet found is a false positive (else a true negative); finding is substring search after
whitespace normalisation of both sides; an empty/failed prediction finds nothing. Counts are summed over
the corpus: precision = tp/(tp+fp), recall = tp/(tp+fn), accuracy = (tp+tn)/all, F-score = 2tp/(2tp+fp+fn)
(0 when a denominator is 0). trafilatura's evaluation scores ``extract()``'s text output, which holds the
main content without the title, so ours is scored on ``standfirst`` + ``body`` (``Article.text`` minus the
headline). Note that trafilatura's own benchmark runs ``extract`` with ``include_comments=False``;
the "trafilatura" column here is the library default (comments included) on every corpus.

``readability`` - Mozilla Readability's test pages (94 folders, ``source.html.gz`` decoded as UTF-8, truth
``expected-metadata.json``: what Readability itself returned). ``postlight`` - Postlight (Mercury) parser
fixtures (``expected.json``, 152 records with an expectation: what Mercury's site-specific extractors
returned). Both are weak, string-valued truth, scored field by field with the rules of
:mod:`evaluation.fields` (authors from a printed byline, titles with a site name reported apart, dates by
day and minute, excerpt/dek by token containment, the body's first words):

- title: share of the pages with a title in the truth that ``match``; ``site affix`` (the headline right
  but for a site name added or missing) and ``wrong`` (or empty) are reported beside it;
- authors: scored on pages whose truth names someone, plus pages whose truth has no byline (Readability
  ``null``, Mercury ``author: null``), which are right only when the prediction is empty too (their number
  is shown); a byline that yields no name (``"Last Updated: January 7, 2025"``) is not scored. ``exact``:
  the same set of names; ``any name``: exact, or at least one name in common;
- date: ``day`` on pages with a truth date, ``minute`` on pages whose truth has an aware time;
- excerpt (Readability's ``excerpt``) / dek (Mercury's ``dek``): on pages with a non-empty truth, against
  the prediction's ``excerpt`` (see :func:`evaluation.run.fields_of`);
- first words (Mercury only): the body starts with Mercury's ``content_first_words``.

The corpus scorers (``SCORERS``) take a corpus's pages, the extractors' outputs on them (as
:func:`evaluation.run.run_page` gives them) and an extractor's name, and return its corpus metrics and
one detail row per page.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from evaluation.corpora import Page
from evaluation.fields import (
    authors_verdict,
    byline_names,
    date_verdict,
    excerpt_verdict,
    first_words_verdict,
    title_verdict,
)

# ---------------------------------------------------------------- article-extraction-benchmark metric

_TOKEN = re.compile(r"\w+")


def tokenize(text: str | None) -> list[str]:
    """The benchmark's tokens: runs of Unicode word characters."""
    return _TOKEN.findall(text or "")


def shingles(text: str | None, n: int = 4) -> Counter[tuple[str, ...]]:
    """Multiset of n-token shingles; 1..n-1 tokens make one short shingle, no tokens none."""
    tokens = tokenize(text)
    if len(tokens) < n:
        return Counter([tuple(tokens)] if tokens else [])
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def shingle_match(true: str | None, pred: str | None, n: int = 4) -> tuple[float, float, float]:
    """Normalised (tp, fp, fn) of one page: shingle counts divided by tp+fp+fn."""
    t, p = shingles(true, n), shingles(pred, n)
    tp = float(sum((t & p).values()))
    fp = float(sum((p - t).values()))
    fn = float(sum((t - p).values()))
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def page_precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def page_recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def shingle_scores(matches: list[tuple[float, float, float]]) -> dict[str, float]:
    """Corpus precision, recall and F1 from per-page (tp, fp, fn), averaged as the benchmark does."""
    precisions = [page_precision(*m) for m in matches if m[0] + m[1] > 0]
    recalls = [page_recall(*m) for m in matches if m[0] + m[2] > 0]
    precision = statistics.mean(precisions) if precisions else 0.0
    recall = statistics.mean(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": f1, "precision": precision, "recall": recall}


def same_tokens(true: str | None, pred: str | None) -> bool:
    """The benchmark's "accuracy" for one page: identical token lists."""
    return tokenize(true) == tokenize(pred)


# ---------------------------------------------------------------- trafilatura-eval metric


def normalize_space(text: str | None) -> str:
    """Runs of whitespace become one space; ends stripped."""
    return re.sub(r"\s+", " ", text or "").strip()


def snippet_counts(wanted: list[str], unwanted: list[str], text: str | None) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) of one page: which required / forbidden snippets occur in ``text``."""
    found = normalize_space(text) if text else None
    tp = sum(1 for s in wanted if found is not None and normalize_space(s) in found)
    fp = sum(1 for s in unwanted if found is not None and normalize_space(s) in found)
    return tp, fp, len(wanted) - tp, len(unwanted) - fp


def snippet_scores(tp: int, fp: int, fn: int, tn: int) -> dict[str, float]:
    """Precision, recall, accuracy and F-score of summed snippet counts, as trafilatura reports them."""
    total = tp + fp + fn + tn
    return {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "accuracy": (tp + tn) / total if total else 0.0,
        "f_score": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
    }


# ---------------------------------------------------------------- metadata comparisons (fundus)


def same_title(true: str | None, pred: str | None) -> bool:
    return normalize_space(true) == normalize_space(pred)


def author_set(names: list[str] | None) -> set[str]:
    return {normalize_space(name) for name in names or [] if normalize_space(name)}


def same_authors(true: list[str] | None, pred: list[str] | None) -> bool:
    return author_set(true) == author_set(pred)


def parse_when(value: str | None) -> datetime | date | None:
    """An ISO 8601 date or date-time (``None`` if empty or unparseable)."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def has_time(when: datetime | date | None) -> bool:
    """True for a date-time that is not exactly local midnight (midnight stands for "date only")."""
    return isinstance(when, datetime) and when.time() != datetime.min.time()


def same_minute(true: datetime, pred: datetime | date | None) -> bool:
    """Both aware and the same instant once cut down to the minute."""
    if not isinstance(pred, datetime) or pred.tzinfo is None or true.tzinfo is None:
        return False

    def minute(dt: datetime) -> datetime:
        return dt.astimezone(UTC).replace(second=0, microsecond=0)

    return minute(true) == minute(pred)


def same_day(true: datetime | date, pred: datetime | date | None) -> bool:
    """Same calendar date; an aware prediction is read in the truth's UTC offset."""
    if pred is None:
        return False
    if isinstance(pred, datetime):
        if isinstance(true, datetime) and true.tzinfo is not None and pred.tzinfo is not None:
            pred = pred.astimezone(true.tzinfo)
        pred = pred.date()
    return (true.date() if isinstance(true, datetime) else true) == pred


# ---------------------------------------------------------------- scoring


def _main_text(f: dict[str, Any]) -> str:
    """Standfirst and body: the article text without its headline."""
    return "\n".join(part for part in (f["standfirst"], f["body"]) if part)


def score_aeb(pages: list[Page], outputs: list[dict], name: str) -> tuple[dict[str, Any], list[dict]]:
    matches, accurate, details = [], 0, []
    for page, output in zip(pages, outputs, strict=True):
        body = output[name]["fields"]["body"]
        m = shingle_match(page.truth["body"], body)
        matches.append(m)
        accurate += same_tokens(page.truth["body"], body)
        details.append({"precision": round(page_precision(*m), 4), "recall": round(page_recall(*m), 4)})
    metrics = {**shingle_scores(matches), "accuracy": accurate / len(pages) if pages else 0.0}
    return metrics, details


def score_fundus(pages: list[Page], outputs: list[dict], name: str) -> tuple[dict[str, Any], list[dict]]:
    matches, details = [], []
    counts: Counter[str] = Counter()
    for page, output in zip(pages, outputs, strict=True):
        f = output[name]["fields"]
        m = shingle_match(page.truth["body"], _main_text(f))
        matches.append(m)
        truth_when, pred_when = parse_when(page.truth["published"]), parse_when(f["published"])
        detail = {
            "body_precision": round(page_precision(*m), 4), "body_recall": round(page_recall(*m), 4),
            "title_ok": same_title(page.truth["title"], f["title"]),
            "authors_ok": same_authors(page.truth["authors"], f["authors"]),
            "title": f["title"], "authors": f["authors"], "published": f["published"],
        }
        if truth_when is not None:
            detail["date_ok"] = same_day(truth_when, pred_when)
            counts["dated"] += 1
            counts["date_ok"] += detail["date_ok"]
            if has_time(truth_when):
                detail["time_ok"] = same_minute(truth_when, pred_when)  # type: ignore[arg-type]
                counts["timed"] += 1
                counts["time_ok"] += detail["time_ok"]
            else:
                counts["date_only"] += 1
                counts["date_only_ok"] += detail["date_ok"]
        counts["title_ok"] += detail["title_ok"]
        counts["authors_ok"] += detail["authors_ok"]
        details.append(detail)

    def pct(hits: int, total: int) -> float:
        return 100.0 * hits / total if total else 0.0

    body = shingle_scores(matches)
    by_publisher: dict[str, dict[str, int]] = {}
    for page, detail in zip(pages, details, strict=True):
        tally = by_publisher.setdefault(page.truth.get("publisher") or "?", {"ok": 0, "pages": 0})
        tally["ok"] += detail["authors_ok"]
        tally["pages"] += 1
    shares = [100.0 * t["ok"] / t["pages"] for t in by_publisher.values()]
    metrics = {
        "authors_by_publisher": dict(sorted(by_publisher.items())),
        "publishers": len(by_publisher),
        "publishers_authors_all_right": sum(t["ok"] == t["pages"] for t in by_publisher.values()),
        "publishers_authors_all_wrong": sum(t["ok"] == 0 for t in by_publisher.values()),
        "publisher_authors_min_pct": min(shares, default=0.0),
        "publisher_authors_median_pct": statistics.median(shares) if shares else 0.0,
        "body_f1": body["f1"], "body_precision": body["precision"], "body_recall": body["recall"],
        "title_exact_pct": pct(counts["title_ok"], len(pages)),
        "authors_equal_pct": pct(counts["authors_ok"], len(pages)),
        "time_minute_pct": pct(counts["time_ok"], counts["timed"]), "pages_with_time": counts["timed"],
        "date_only_equal_pct": pct(counts["date_only_ok"], counts["date_only"]),
        "pages_date_only": counts["date_only"],
        "date_day_pct": pct(counts["date_ok"], counts["dated"]),
    }
    return metrics, details


def score_snippets(pages: list[Page], outputs: list[dict], name: str) -> tuple[dict[str, Any], list[dict]]:
    totals, details = [0, 0, 0, 0], []
    for page, output in zip(pages, outputs, strict=True):
        text = _main_text(output[name]["fields"])
        counts = snippet_counts(page.truth["with"], page.truth["without"], text)
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        found = normalize_space(text)
        details.append({
            "missing": [s for s in page.truth["with"] if not found or normalize_space(s) not in found],
            "unwanted": [s for s in page.truth["without"] if found and normalize_space(s) in found],
        })
    tp, fp, fn, tn = totals
    return {**snippet_scores(tp, fp, fn, tn), "tp": tp, "fp": fp, "fn": fn, "tn": tn}, details


# ---------------------------------------------------------------- string-valued metadata (readability, postlight)


def _pct(hits: int, total: int) -> float:
    return 100.0 * hits / total if total else 0.0


def score_metadata_page(truth: dict[str, Any], f: dict[str, Any], byline_key: str) -> dict[str, Any]:
    """One page's verdicts on the fields its truth holds (a missing truth key: that field is not scored).

    ``byline_key`` names the truth's byline (``byline`` or ``author``); ``excerpt``/``dek`` are compared
    with the prediction's ``excerpt``; ``first_words`` with its standfirst and body.
    """
    detail: dict[str, Any] = {}
    if truth.get("title"):
        detail["title"] = title_verdict(truth["title"], f["title"])
    if byline_key in truth:
        names = byline_names(truth[byline_key])
        if truth[byline_key] and not names:
            detail["authors"] = "unscored"  # a byline that names no one
        else:
            detail["authors"] = authors_verdict(names, f["authors"])
            detail["expected_authors"] = names
            detail["empty_truth"] = not names
    if truth.get("published"):
        when = date_verdict(truth["published"], f["published"])
        detail.update({f"date_{k}": v for k, v in when.items() if v is not None})
    for key in ("excerpt", "dek"):
        if truth.get(key):
            detail[key] = excerpt_verdict(truth[key], f["excerpt"])
    if truth.get("first_words"):
        detail["first_words"] = first_words_verdict(truth["first_words"], _main_text(f))
    detail.update({"pred_title": f["title"], "pred_authors": f["authors"], "pred_published": f["published"],
                   "pred_excerpt": f["excerpt"][:300]})
    return detail


def metadata_metrics(details: list[dict[str, Any]]) -> dict[str, Any]:
    """Corpus percentages of the page verdicts, each with the number of pages it is over (``<field>_n``)."""
    titles = [d["title"] for d in details if "title" in d]
    authors = [d for d in details if d.get("authors", "unscored") != "unscored"]
    empty = [d for d in authors if d["empty_truth"]]
    metrics: dict[str, Any] = {
        "title_n": len(titles),
        "title_match_pct": _pct(titles.count("match"), len(titles)),
        "title_site_affix_pct": _pct(titles.count("site_affix"), len(titles)),
        "title_wrong_pct": _pct(titles.count("wrong") + titles.count("empty"), len(titles)),
        "authors_n": len(authors),
        "authors_exact_pct": _pct(sum(d["authors"] == "exact" for d in authors), len(authors)),
        "authors_any_pct": _pct(sum(d["authors"] in ("exact", "partial") for d in authors), len(authors)),
        "authors_empty_truth": len(empty),
        "authors_empty_truth_ok": sum(d["authors"] == "exact" for d in empty),
        "authors_unscored": sum(d.get("authors") == "unscored" for d in details),
    }
    for key in ("date_day", "date_minute", "excerpt", "dek", "first_words"):
        scored = [d[key] for d in details if key in d]
        metrics[f"{key}_n"] = len(scored)
        metrics[f"{key}_pct"] = _pct(sum(scored), len(scored))
    return metrics


def score_readability(pages: list[Page], outputs: list[dict], name: str) -> tuple[dict[str, Any], list[dict]]:
    details = [score_metadata_page(p.truth, o[name]["fields"], "byline") for p, o in zip(pages, outputs, strict=True)]
    return metadata_metrics(details), details


def score_postlight(pages: list[Page], outputs: list[dict], name: str) -> tuple[dict[str, Any], list[dict]]:
    details = [score_metadata_page(p.truth, o[name]["fields"], "author") for p, o in zip(pages, outputs, strict=True)]
    return metadata_metrics(details), details


SCORERS = {
    "aeb": score_aeb, "fundus": score_fundus, "trafilatura": score_snippets,
    "readability": score_readability, "postlight": score_postlight,
}

