"""The evaluation harness (``evaluation``): its metrics on hand-made texts, and ``python -m evaluation``
end to end on the shared corpora."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from evaluation.corpora import fundus_body, load_aeb
from evaluation.metrics import (
    has_time,
    page_precision,
    page_recall,
    parse_when,
    same_authors,
    same_day,
    same_minute,
    same_title,
    same_tokens,
    shingle_match,
    shingle_scores,
    shingles,
    snippet_counts,
    snippet_scores,
    tokenize,
)
from evaluation.run import Prediction, evaluate, format_table

REPO = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- shingle metric


def test_tokens_are_unicode_word_runs_with_case_kept():
    expected = ["Hello", "world", "It", "s", "2024", "Straße"]
    assert tokenize("Hello, world! It's 2024 — Straße.") == expected
    assert tokenize(None) == []


def test_shingles_of_long_short_and_empty_texts():
    assert shingles("a b c d e") == {("a", "b", "c", "d"): 1, ("b", "c", "d", "e"): 1}
    assert shingles("a b") == {("a", "b"): 1}  # fewer than 4 tokens: one short shingle
    assert shingles(" , ") == {}


def test_page_counts_are_normalised_by_their_sum():
    # truth {abcd, bcde}, prediction {abcd}: tp 1, fp 0, fn 1 -> halves
    assert shingle_match("a b c d e", "a b c d") == (0.5, 0.0, 0.5)
    # truth "x y z w x y z w" has xyzw twice + yzwx, zwxy, wxyz; prediction xyzw once: tp 1, fn 4
    tp, fp, fn = shingle_match("x y z w x y z w", "x y z w")
    assert (tp, fp, fn) == pytest.approx((0.2, 0.0, 0.8))
    assert page_precision(tp, fp, fn) == 1.0 and page_recall(tp, fp, fn) == pytest.approx(0.2)
    assert shingle_match("", None) == (0.0, 0.0, 0.0)


def test_page_scores_follow_the_benchmark_edge_cases():
    assert page_precision(0, 0, 0) == page_recall(0, 0, 0) == 1.0
    assert page_precision(0, 0, 1) == 0.0 and page_recall(0, 0, 1) == 0.0
    assert page_precision(0, 1, 0) == 0.0 and page_recall(0, 1, 0) == 0.0


def test_corpus_scores_average_pages_then_take_the_harmonic_mean():
    pages = [
        (0.5, 0.0, 0.5),  # precision 1, recall 0.5
        (0.0, 0.0, 1.0),  # empty prediction: counted in recall (0) only
        (0.0, 1.0, 0.0),  # empty truth: counted in precision (0) only
        (0.0, 0.0, 0.0),  # both empty: in neither average
    ]
    scores = shingle_scores(pages)
    assert scores["precision"] == pytest.approx(0.5)  # mean(1, 0)
    assert scores["recall"] == pytest.approx(0.25)  # mean(0.5, 0)
    assert scores["f1"] == pytest.approx(2 * 0.5 * 0.25 / 0.75)
    assert shingle_scores([]) == {"f1": 0.0, "precision": 0.0, "recall": 0.0}


def test_accuracy_compares_token_lists():
    assert same_tokens("Hello,  world!", "Hello world")
    assert not same_tokens("Hello world", "hello world")


# ---------------------------------------------------------------- snippets (trafilatura-eval)


def test_snippets_are_found_after_whitespace_normalisation():
    counts = snippet_counts(["foo bar", "baz"], ["menu", "footer"], "Foo\nfoo  bar and menu")
    assert counts == (1, 1, 1, 1)  # tp, fp, fn, tn
    assert snippet_counts(["a", "b"], ["c"], None) == (0, 0, 2, 1)
    assert snippet_counts(["a"], ["c"], "") == (0, 0, 1, 1)


def test_snippet_scores_from_summed_counts():
    scores = snippet_scores(tp=3, fp=1, fn=2, tn=4)
    assert scores == pytest.approx({"precision": 0.75, "recall": 0.6, "accuracy": 0.7, "f_score": 6 / 9})
    assert snippet_scores(0, 0, 0, 0) == {"precision": 0.0, "recall": 0.0, "accuracy": 0.0, "f_score": 0.0}


# ---------------------------------------------------------------- metadata (fundus)


def test_titles_compare_after_whitespace_normalisation_only():
    assert same_title("  Hello\n world ", "Hello world")
    assert not same_title("Hello world", "hello world")


def test_author_sets_ignore_order_and_spacing_but_not_case():
    assert same_authors(["STEVE PEOPLES", "Amy  Lee"], ["Amy Lee", " STEVE\nPEOPLES", ""])
    assert not same_authors(["STEVE PEOPLES"], ["Steve Peoples"])
    assert not same_authors(["A B"], ["A B", "C D"])
    assert same_authors([], [])


def test_dates_parse_as_date_or_datetime():
    assert parse_when("2024-03-28") == date(2024, 3, 28)
    assert parse_when("2024-03-28T05:38:00+02:00").utcoffset().total_seconds() == 7200
    assert parse_when("") is None and parse_when("last Tuesday") is None


def test_local_midnight_counts_as_date_only():
    assert has_time(parse_when("2024-11-26 13:27:18+00:00"))
    assert not has_time(parse_when("2025-11-03 00:00:00+00:00"))
    assert not has_time(parse_when("2025-11-03"))


def test_time_to_the_minute_needs_two_aware_instants():
    truth = parse_when("2024-03-28 03:38:59.614+00:00")
    assert same_minute(truth, parse_when("2024-03-28T05:38:00+02:00"))
    assert not same_minute(truth, parse_when("2024-03-28T05:39:00+02:00"))
    assert not same_minute(truth, parse_when("2024-03-28T03:38:00"))  # naive
    assert not same_minute(truth, parse_when("2024-03-28"))


def test_day_is_read_in_the_truths_offset():
    truth = parse_when("2024-10-16 00:00:00+08:00")
    assert same_day(truth, parse_when("2024-10-15T16:30:00Z"))  # 00:30 in Taipei
    assert same_day(truth, parse_when("2024-10-16"))
    assert not same_day(truth, parse_when("2024-10-15"))
    assert not same_day(truth, None)


def test_fundus_body_is_summary_then_sections():
    body = {"summary": ["S"], "sections": [{"headline": [], "paragraphs": ["P1", "P2"]},
                                           {"headline": ["H"], "paragraphs": ["P3"]}]}
    assert fundus_body(body) == "S\nP1\nP2\nH\nP3"


# ---------------------------------------------------------------- evaluate() on a tiny made-up corpus


def echo_extract(html: str | bytes, url: str) -> Prediction | None:
    """Stand-in extractor: the page's <p> text is the body; 'boom' pages raise, 'nothing' pages give None."""
    text = html.decode() if isinstance(html, bytes) else html
    if "boom" in text:
        raise RuntimeError("boom")
    if "nothing" in text:
        return None
    body = text.split("<p>", 1)[1].split("</p>", 1)[0]
    return Prediction(title="T", body=body, text=f"T\n{body}")


@pytest.fixture
def tiny_corpora(tmp_path: Path) -> Path:
    aeb = tmp_path / "article-extraction-benchmark"
    (aeb / "html").mkdir(parents=True)
    truth = {"a": "one two three four five", "b": "alpha beta", "c": "gamma delta"}
    pages = {"a": "<p>one two three four five</p>", "b": "<p>boom</p>", "c": "<p>nothing</p>"}
    for key, html in pages.items():
        (aeb / "html" / f"{key}.html.gz").write_bytes(gzip.compress(html.encode()))
    ground_truth = {key: {"articleBody": body, "url": f"https://example.org/{key}"}
                    for key, body in truth.items()}
    (aeb / "ground-truth.json").write_text(json.dumps(ground_truth))
    return tmp_path


@pytest.mark.parametrize("jobs", [1, 2])
def test_evaluate_records_failures_and_keeps_going(tiny_corpora: Path, jobs: int):
    result = evaluate({"ours": echo_extract}, ["aeb"], corpora_dir=tiny_corpora, jobs=jobs)
    aeb = result["corpora"]["aeb"]
    assert aeb["pages"] == 3
    metrics = aeb["metrics"]["ours"]
    # page a exact (P 1, R 1); b failed and c gave nothing: empty predictions, recall 0 each
    assert metrics["precision"] == 1.0
    assert metrics["recall"] == pytest.approx(1 / 3)
    assert metrics["accuracy"] == pytest.approx(1 / 3)
    assert metrics["failures"] == 1
    assert aeb["errors"]["ours"] == [{"page": "b", "error": "RuntimeError: boom"}]
    assert [row["id"] for row in aeb["per_page"]] == ["a", "b", "c"]
    assert "ours" in format_table(result).splitlines()[0]


def test_evaluate_refuses_a_missing_corpora_dir(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="corpora directory not found"):
        evaluate({"ours": echo_extract}, ["aeb"], corpora_dir=tmp_path / "absent")


# ---------------------------------------------------------------- on the shared corpora


def test_published_trafilatura_output_scores_as_in_the_benchmark_readme(shared_corpora: Path):
    """The benchmark's README gives trafilatura 2.0.0 F1 0.958, P 0.938, R 0.978 on all 181 pages;
    its published predictions for the 109 shared pages score 0.954, 0.935, 0.973 here."""
    root = shared_corpora / "article-extraction-benchmark"
    published = json.loads((root / "output" / "trafilatura.json").read_text("utf-8"))["output"]
    pages = load_aeb(root)
    scores = shingle_scores([shingle_match(p.truth["body"], published[p.id]["articleBody"]) for p in pages])
    assert scores["f1"] == pytest.approx(0.958, abs=0.01)
    assert scores["precision"] == pytest.approx(0.938, abs=0.01)
    assert scores["recall"] == pytest.approx(0.978, abs=0.01)


def run_evaluate(*args: str, cwd: Path = REPO, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m evaluation`` as a real subprocess (this checkout's code first on the path)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "evaluation", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def assert_usage_error(done: subprocess.CompletedProcess, *message: str) -> None:
    """Refused before any work: exit 2, usage and message on stderr, no traceback, nothing on stdout."""
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("usage: python -m evaluation"), done.stderr
    assert "Traceback" not in done.stderr and done.stdout == "", done.stdout + done.stderr
    for part in message:
        assert part in done.stderr, (part, done.stderr)


#: the columns of a default run: newspaper4k's only where it is installed (not a project dependency)
COLUMNS = ["ours", "trafilatura"] + (["newspaper4k"] if importlib.util.find_spec("newspaper") else [])
METADATA_METRICS = {"title_match_pct", "title_site_affix_pct", "title_wrong_pct", "authors_exact_pct",
                    "authors_any_pct", "authors_empty_truth", "date_day_pct", "date_minute_pct"}


def check_structure(result: dict, extractors: list[str], pages: int) -> None:
    assert result["extractors"] == extractors
    assert set(result["corpora"]) == {"aeb", "fundus", "trafilatura", "readability", "postlight"}
    expected = {
        "aeb": {"f1", "precision", "recall", "accuracy"},
        "fundus": {"body_f1", "body_precision", "body_recall", "title_exact_pct", "authors_equal_pct",
                   "time_minute_pct", "pages_with_time", "date_only_equal_pct", "date_day_pct",
                   "publishers_authors_all_right", "publisher_authors_median_pct"},
        "trafilatura": {"f_score", "precision", "recall", "accuracy", "tp", "fp", "fn", "tn"},
        "readability": METADATA_METRICS | {"excerpt_pct"},
        "postlight": METADATA_METRICS | {"dek_pct", "first_words_pct"},
    }
    for corpus, entry in result["corpora"].items():
        assert entry["pages"] == pages and len(entry["per_page"]) == pages
        for name in extractors:
            metrics = entry["metrics"][name]
            assert expected[corpus] | {"failures", "extract_seconds"} <= set(metrics)
            assert all(isinstance(metrics[key], (int, float)) for key in expected[corpus])
            assert all(name in row for row in entry["per_page"])


def test_cli_end_to_end(shared_corpora: Path, tmp_path: Path):
    if importlib.util.find_spec("pipelines.extract") is None:
        pytest.skip("pipelines.extract (extract_article) does not exist yet")
    out = tmp_path / "evaluation.json"
    done = run_evaluate("--limit", "3", "--json", str(out), "--corpora-dir", str(shared_corpora))
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text("utf-8"))
    check_structure(result, COLUMNS, 3)
    assert result["extractor_specs"]["ours"] == "pipelines.extract:extract_article"
    assert done.stdout.splitlines()[0].split() == ["metric", *COLUMNS]
    assert "aeb: body F1" in done.stdout and "3/3 pages" in done.stderr
    assert "readability: authors exact (n=" in done.stdout and "postlight: body first words (n=" in done.stdout
    assert "the leave-one-publisher-out figure is python -m evaluation --rules authors" in done.stdout
    assert f"JSON written to {out}" in done.stderr


def failing_extract(html: str | bytes, url: str) -> None:
    raise ValueError(f"cannot read {url}")


def test_cli_survives_a_failing_extractor(shared_corpora: Path, tmp_path: Path):
    out = tmp_path / "evaluation.json"
    done = run_evaluate("--limit", "3", "--json", str(out), "--ours", "tests.test_evaluate:failing_extract",
                        "--corpora-dir", str(shared_corpora), "--no-newspaper4k")
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text("utf-8"))
    check_structure(result, ["ours", "trafilatura"], 3)
    for entry in result["corpora"].values():
        assert entry["metrics"]["ours"]["failures"] == 3
        assert all(e["error"].startswith("ValueError: cannot read") for e in entry["errors"]["ours"])
        assert entry["metrics"]["trafilatura"]["failures"] == 0
    assert result["corpora"]["aeb"]["metrics"]["ours"]["recall"] == 0.0
    assert result["corpora"]["trafilatura"]["metrics"]["ours"]["tp"] == 0


def test_cli_names_a_missing_corpora_dir(tmp_path: Path):
    done = run_evaluate("--corpora-dir", str(tmp_path / "absent"), "--ours", "none", timeout=120)
    assert_usage_error(done, "corpora directory not found", str(tmp_path / "absent"))


def test_cli_names_a_corpus_missing_from_the_corpora_dir(tiny_corpora: Path):
    done = run_evaluate("--corpora-dir", str(tiny_corpora), "--corpus", "aeb", "--corpus", "fundus",
                        timeout=120)
    assert_usage_error(done, "corpus not found", f"fundus ({tiny_corpora / 'fundus-test-data'})")
    assert "aeb (" not in done.stderr


@pytest.mark.parametrize("args, message", [
    (["--limit", "0"], ["argument --limit", "must be at least 1"]),
    (["--limit", "three"], ["argument --limit", "invalid int value: 'three'"]),
    (["--jobs", "-1"], ["argument --jobs", "must be at least 1"]),
    (["--corpus", "nope"], ["argument --corpus", "invalid choice: 'nope'"]),
    (["stray"], ["unrecognized arguments: stray"]),
    (["--ours", "no_such_module:extract"], ["cannot load the extractor 'no_such_module:extract'",
                                            "ModuleNotFoundError"]),
    (["--ours", "tests.test_evaluate:absent"], ["cannot load the extractor", "AttributeError"]),
    (["--ours", "tests.test_evaluate:REPO"], ["tests.test_evaluate.REPO is not callable"]),
    (["--ours", ":f"], ["cannot load the extractor ':f'"]),
])
def test_cli_refuses_bad_arguments_before_any_work(tiny_corpora: Path, args: list[str], message: list[str]):
    done = run_evaluate("--corpora-dir", str(tiny_corpora), "--corpus", "aeb", *args, cwd=tiny_corpora,
                        timeout=120)
    assert_usage_error(done, *message)
    assert not (tiny_corpora / "archive").exists()


def test_cli_refuses_a_directory_as_json_output(tiny_corpora: Path):
    done = run_evaluate("--corpora-dir", str(tiny_corpora), "--corpus", "aeb", "--json", str(tiny_corpora),
                        timeout=120)
    assert_usage_error(done, "is a directory")


def test_cli_writes_archive_evaluation_json_by_default(tiny_corpora: Path):
    """Without --json the result goes to archive/evaluation.json under the current directory."""
    done = run_evaluate("--corpora-dir", str(tiny_corpora), "--corpus", "aeb", "--no-newspaper4k",
                        "--ours", "tests.test_evaluate:echo_extract", cwd=tiny_corpora, timeout=120)
    assert done.returncode == 0, done.stderr
    out = tiny_corpora / "archive" / "evaluation.json"
    result = json.loads(out.read_text("utf-8"))
    assert result["extractors"] == ["ours", "trafilatura"] and set(result["corpora"]) == {"aeb"}
    assert result["extractor_specs"]["ours"] == "tests.test_evaluate:echo_extract"
    assert result["extractor_specs"]["trafilatura"].startswith("trafilatura ")
    assert result["corpora"]["aeb"]["errors"]["ours"] == [{"page": "b", "error": "RuntimeError: boom"}]
    assert "JSON written to archive/evaluation.json" in done.stderr and "aeb: 3/3 pages" in done.stderr
    assert done.stdout.splitlines()[0].split() == ["metric", "ours", "trafilatura"]
