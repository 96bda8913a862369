"""Run article extractors on the shared test corpora and score them, side by side.

Every extractor is a callable ``(html, url) -> article | None`` whose result has the attributes of
``pipelines.extract.Article`` (``title``, ``authors``, ``published``, ``standfirst``, ``body``, ``text``);
a missing attribute counts as empty, ``None`` as "nothing extracted". ``trafilatura_default`` wraps
trafilatura's own default run in that shape: ``trafilatura.extract(html, url=url)`` for the body and
``trafilatura.extract_metadata(html, default_url=url)`` for title, authors (its ``"; "``-joined author
string, split), date and description (as ``excerpt``). ``newspaper4k_default`` does the same for newspaper4k
(``Article.download(input_html=...)``, ``parse()``, images not fetched; bytes decoded with trafilatura's
``decode_file``); it is optional: :func:`newspaper4k_available` says whether it can run. Each page gets
the same input for every extractor. A page whose extraction
raises counts as a failure (the error is recorded, the prediction scored as empty); the run goes on.

The corpora are read by :mod:`evaluation.corpora` and scored by :mod:`evaluation.metrics`;
:func:`evaluate` runs them all, :func:`format_table` prints the result.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluation.corpora import CORPORA, DEFAULT_CORPORA_DIR, LOADERS, Page
from evaluation.metrics import SCORERS

Extractor = Callable[[str | bytes, str], Any]

FIELDS = ("title", "authors", "published", "standfirst", "excerpt", "body", "text")

# ---------------------------------------------------------------- extractors


@dataclass
class Prediction:
    """The Article fields the metrics read."""

    title: str = ""
    authors: list[str] = field(default_factory=list)
    published: str = ""
    standfirst: str = ""
    excerpt: str = ""  # the page's summary (description, dek); an Article has none: its standfirst stands in
    body: str = ""
    text: str = ""


def trafilatura_default(html: str | bytes, url: str) -> Prediction:
    """trafilatura's default run: ``extract`` for the body, ``extract_metadata`` for the metadata."""
    import trafilatura

    body = trafilatura.extract(html, url=url) or ""
    meta = trafilatura.extract_metadata(html, default_url=url)
    authors = [a.strip() for a in ((meta.author if meta else None) or "").split(";") if a.strip()]
    return Prediction(
        title=(meta.title if meta else None) or "", authors=authors,
        published=(meta.date if meta else None) or "", excerpt=(meta.description if meta else None) or "",
        body=body, text=body,
    )


def newspaper4k_available() -> bool:
    """Whether newspaper4k (``import newspaper``) is installed; it is not a project dependency."""
    return importlib.util.find_spec("newspaper") is not None


def newspaper4k_default(html: str | bytes, url: str) -> Prediction:
    """newspaper4k's default parse of the given HTML (no download, images not fetched)."""
    from newspaper import Article
    from trafilatura.utils import decode_file

    article = Article(url or "https://example.invalid/", fetch_images=False)
    article.download(input_html=decode_file(html) if isinstance(html, bytes) else html)
    article.parse()
    published = article.publish_date
    return Prediction(
        title=article.title or "", authors=list(article.authors or []),
        published=published.isoformat() if published else "", excerpt=article.meta_description or "",
        body=article.text or "", text=article.text or "",
    )


def fields_of(article: Any) -> dict[str, Any]:
    """The metric fields of an extractor's result (all empty for ``None``)."""
    values = {name: getattr(article, name, None) or "" for name in FIELDS}
    values["authors"] = [str(a) for a in values["authors"] or []]
    values["excerpt"] = values["excerpt"] or values["standfirst"]  # an Article's summary is its standfirst
    return values


def run_page(page: Page, extractors: dict[str, Extractor]) -> dict[str, dict[str, Any]]:
    """Every extractor on one page: its fields, or the error it raised, and the seconds it took."""
    try:
        html: str | bytes | None = page.html()
        load_error = None
    except Exception as exc:  # an unreadable corpus file fails the page for everyone
        html, load_error = None, f"reading {page.path}: {type(exc).__name__}: {exc}"
    out = {}
    for name, extract in extractors.items():
        started = time.perf_counter()
        fields, error = fields_of(None), load_error
        if html is not None:
            try:
                fields = fields_of(extract(html, page.url))
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
        out[name] = {"fields": fields, "error": error, "seconds": time.perf_counter() - started}
    return out


_WORKER_EXTRACTORS: dict[str, Extractor] = {}


def _init_worker(extractors: dict[str, Extractor]) -> None:
    _WORKER_EXTRACTORS.update(extractors)


def _run_in_worker(page: Page) -> dict[str, dict[str, Any]]:
    return run_page(page, _WORKER_EXTRACTORS)


def run_pages(pages: list[Page], extractors: dict[str, Extractor], jobs: int, label: str) -> list[dict]:
    """Run the extractors on every page (``jobs`` processes), in page order, reporting progress on stderr."""
    results: list[dict] = []
    tty = sys.stderr.isatty()

    def progress(done: int) -> None:
        if tty:
            print(f"\r{label}: {done}/{len(pages)} pages", end="" if done < len(pages) else "\n",
                  file=sys.stderr, flush=True)
        elif done == len(pages) or done % 50 == 0:
            print(f"{label}: {done}/{len(pages)} pages", file=sys.stderr, flush=True)

    if jobs <= 1 or len(pages) <= 1:
        for page in pages:
            results.append(run_page(page, extractors))
            progress(len(results))
        return results
    # fork: the extractors need not be importable by name in the workers
    with multiprocessing.get_context("fork").Pool(jobs, _init_worker, (extractors,)) as pool:
        for output in pool.imap(_run_in_worker, pages):  # imap keeps page order: deterministic results
            results.append(output)
            progress(len(results))
    return results


# ---------------------------------------------------------------- run and score


def _errors(pages: list[Page], outputs: list[dict], name: str) -> list[dict[str, str]]:
    return [{"page": p.id, "error": o[name]["error"]} for p, o in zip(pages, outputs, strict=True) if o[name]["error"]]


def evaluate(
    extractors: dict[str, Extractor],
    corpora: list[str],
    limit: int | None = None,
    corpora_dir: Path | str = DEFAULT_CORPORA_DIR,
    jobs: int | None = None,
) -> dict[str, Any]:
    """Run and score every extractor on the named corpora (the first ``limit`` pages of each)."""
    root = Path(corpora_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"corpora directory not found: {root}")
    unknown = [c for c in corpora if c not in CORPORA]
    if unknown:
        raise ValueError(f"unknown corpus {', '.join(unknown)}; known: {', '.join(CORPORA)}")
    jobs = jobs or min(2, os.cpu_count() or 1)
    result: dict[str, Any] = {
        "corpora_dir": str(root), "limit": limit, "extractors": list(extractors), "corpora": {},
    }
    for corpus in corpora:
        pages = LOADERS[corpus](root / CORPORA[corpus])[:limit]
        started = time.monotonic()
        outputs = run_pages(pages, extractors, jobs, corpus)
        entry: dict[str, Any] = {
            "folder": CORPORA[corpus], "pages": len(pages), "seconds": round(time.monotonic() - started, 1),
            "metrics": {}, "errors": {}, "per_page": [{"id": p.id, "url": p.url} for p in pages],
        }
        if corpus in ("fundus", "readability", "postlight"):  # the metadata truth, beside each extractor's values
            for row, page in zip(entry["per_page"], pages, strict=False):
                row["truth"] = {k: v for k, v in page.truth.items() if k != "body"}
        for name in extractors:
            metrics, details = SCORERS[corpus](pages, outputs, name)
            errors = _errors(pages, outputs, name)
            metrics["failures"] = len(errors)
            metrics["extract_seconds"] = round(sum(o[name]["seconds"] for o in outputs), 2)
            entry["metrics"][name] = metrics
            entry["errors"][name] = errors
            for row, detail, output in zip(entry["per_page"], details, outputs, strict=False):
                row[name] = {**detail, **({"error": output[name]["error"]} if output[name]["error"] else {})}
        result["corpora"][corpus] = entry
    return result


# ---------------------------------------------------------------- report

TABLE_ROWS: dict[str, list[tuple[str, str]]] = {
    "aeb": [("f1", "body F1"), ("precision", "body precision"), ("recall", "body recall"),
            ("accuracy", "accuracy (exact)")],
    "fundus": [("body_f1", "body F1"), ("body_precision", "body precision"), ("body_recall", "body recall"),
               ("title_exact_pct", "title exact"), ("authors_equal_pct", "authors equal"),
               ("time_minute_pct", "time to the minute"), ("date_only_equal_pct", "date (date-only truth)"),
               ("date_day_pct", "date (day), all pages")],
    "trafilatura": [("f_score", "snippet F-score"), ("precision", "snippet precision"),
                    ("recall", "snippet recall"), ("accuracy", "snippet accuracy")],
}
TABLE_ROWS["fundus"] += [
    ("publishers_authors_all_right", "authors: publishers all right"),
    ("publishers_authors_all_wrong", "authors: publishers all wrong"),
    ("publisher_authors_min_pct", "authors: lowest publisher"),
    ("publisher_authors_median_pct", "authors: median publisher"),
]
_METADATA_ROWS = [
    ("title_match_pct", "title match"), ("title_site_affix_pct", "title site affix only"),
    ("title_wrong_pct", "title wrong or empty"),
    ("authors_exact_pct", "authors exact"), ("authors_any_pct", "authors any name right"),
    ("authors_empty_truth_ok", "authors: empty truth, empty prediction"),
    ("date_day_pct", "date (day)"), ("date_minute_pct", "date (minute)"),
]
TABLE_ROWS["readability"] = _METADATA_ROWS + [("excerpt_pct", "excerpt")]
TABLE_ROWS["postlight"] = _METADATA_ROWS + [("dek_pct", "dek"), ("first_words_pct", "body first words")]
_METADATA_COUNTS = {
    "title_match_pct": "title_n", "title_site_affix_pct": "title_n", "title_wrong_pct": "title_n",
    "authors_exact_pct": "authors_n", "authors_any_pct": "authors_n",
    "authors_empty_truth_ok": "authors_empty_truth",
    "date_day_pct": "date_day_n", "date_minute_pct": "date_minute_n", "excerpt_pct": "excerpt_n",
    "dek_pct": "dek_n", "first_words_pct": "first_words_n",
}
#: per corpus, the metric giving a row's number of scored pages, shown in its label
ROW_COUNTS: dict[str, dict[str, str]] = {
    "fundus": {"time_minute_pct": "pages_with_time",
               "date_only_equal_pct": "pages_date_only", "publishers_authors_all_right": "publishers",
               "publishers_authors_all_wrong": "publishers"},
    "readability": _METADATA_COUNTS, "postlight": _METADATA_COUNTS,
}
PUBLISHER_NOTE = ("fundus authors by publisher (pages right/pages): the spread; the leave-one-publisher-out "
                  "figure is python -m evaluation --rules authors")


def _cell(key: str, value: Any) -> str:
    if key.endswith("_pct"):
        return f"{value:.1f}%"
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def _publisher_lines(entry: dict[str, Any], names: list[str]) -> list[str]:
    """Per-publisher author scores of the fundus corpus, one line each."""
    tallies = {n: entry["metrics"][n].get("authors_by_publisher", {}) for n in names}
    publishers = sorted({p for t in tallies.values() for p in t})
    if not publishers:
        return []
    width = max(len(p) for p in publishers)
    lines = ["", PUBLISHER_NOTE]
    for publisher in publishers:
        cells = [f"{tallies[n][publisher]['ok']}/{tallies[n][publisher]['pages']}" if publisher in tallies[n]
                 else "-" for n in names]
        lines.append("  ".join([f"  {publisher:<{width}}"] + [f"{c:>{max(len(n), 5)}}" for c, n in
                                                              zip(cells, names, strict=True)]))
    return lines


def format_table(result: dict[str, Any]) -> str:
    """One row per metric, one column per extractor."""
    names = result["extractors"]
    rows: list[tuple[str, list[str]]] = []
    for corpus, entry in result["corpora"].items():
        metrics = entry["metrics"]
        first = metrics[names[0]] if names else {}
        rows.append((f"{corpus}: pages", [str(entry["pages"])] * len(names)))
        for key, label in TABLE_ROWS[corpus]:
            count = ROW_COUNTS.get(corpus, {}).get(key)
            if count:
                label += f" (n={first.get(count, 0)})"
            cells = [_cell(key, metrics[n][key]) for n in names]
            rows.append((f"{corpus}: {label}", cells))
        rows.append((f"{corpus}: failures", [str(metrics[n]["failures"]) for n in names]))
        rows.append((f"{corpus}: extraction seconds",
                     [f"{metrics[n]['extract_seconds']:.1f}" for n in names]))
    width = max([len("metric")] + [len(label) for label, _ in rows])
    cols = [max([len(n)] + [len(cells[i]) for _, cells in rows]) for i, n in enumerate(names)]
    lines = ["  ".join([f"{'metric':<{width}}"] + [f"{n:>{w}}" for n, w in zip(names, cols, strict=False)])]
    for label, cells in rows:
        lines.append("  ".join([f"{label:<{width}}"] + [f"{c:>{w}}" for c, w in zip(cells, cols, strict=False)]))
    if "fundus" in result["corpora"]:
        lines += _publisher_lines(result["corpora"]["fundus"], names)
    return "\n".join(lines)
