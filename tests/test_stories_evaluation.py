"""The story-assignment evaluation (``evaluation.stories``): its labelled set is deterministic and labelled
consistently, its metrics are right on hand-made clusterings, and its runner scores a membership and says
what is wrong with its arguments (with a stand-in answering the labels).

One test, :func:`test_the_story_index_meets_the_issues_targets`, runs the system under test itself
(:class:`pipelines.stories.index.StoryIndex`) on a set of :data:`SYSTEM_SIZE` articles and asserts the issue's
targets (copies F1 >= 0.95, stories B-cubed F1 >= 0.90, the seed story exactly right); ``make
evaluate-stories`` runs the full-size set and prints every figure per kind."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path

import pytest

from evaluation.stories import (
    SYSTEM,
    TARGETS,
    assign,
    build_parser,
    format_table,
    load_system,
    main,
    missed_targets,
    score,
)
from evaluation.stories_set import (
    COPY_SPECS,
    KINDS,
    OUTLETS,
    SEED_STORY,
    TRANSFORMS,
    Draft,
    boilerplate_lines,
    build_set,
    composition,
    containment,
    facts,
    jaccard,
    load_others,
    shingle_set,
    transform,
)
from evaluation.story_metrics import (
    adjusted_rand_index,
    attribution,
    bcubed,
    canonical_origin,
    pair_counts,
    pairwise,
)
from pipelines.stories import Assignment
from pipelines.urls import url_key
from tests.conftest import REPO, SHARED

CORPORA = SHARED / "corpora"
SIZE = 450
#: the set the system under test is run on here (a few seconds)
SYSTEM_SIZE = 300


@pytest.fixture(scope="module")
def labelled():
    if not (CORPORA / "fundus-test-data").is_dir() or not (CORPORA / "article-extraction-benchmark").is_dir():
        pytest.skip(f"the shared corpora are absent ({CORPORA} not found)")
    return build_set(SIZE, seed=0, corpora_dir=CORPORA)


def by_id(articles):
    return {a.record_id: a for a in articles}


# ---------------------------------------------------------------- the set


def test_the_set_is_deterministic_and_the_seed_changes_it(labelled) -> None:
    again = build_set(SIZE, seed=0, corpora_dir=CORPORA)
    assert [asdict(a) for a in again] == [asdict(a) for a in labelled]
    other = build_set(SIZE, seed=1, corpora_dir=CORPORA)
    assert [a.body for a in other] != [a.body for a in labelled]


def test_size_is_exact_ids_and_url_keys_unique_in_publication_order(labelled) -> None:
    assert len(labelled) == SIZE
    assert len(build_set(60, corpora_dir=CORPORA)) == 60
    assert len({a.record_id for a in labelled}) == SIZE
    assert all(a.record_id.startswith("<urn:uuid:") for a in labelled)
    assert len({(a.outlet, a.url_key) for a in labelled}) == SIZE
    assert all(a.url_key == url_key(a.url) for a in labelled)
    from evaluation.stories_set import _parse_when
    times = [_parse_when(a.published) for a in labelled]
    assert all(t is not None for t in times) and times == sorted(times)
    assert all(_parse_when(a.fetched) >= _parse_when(a.published) for a in labelled)
    assert all(a.title and a.body and a.source and a.site_name for a in labelled)
    assert all("\n\n" not in a.body and a.body == a.body.strip() for a in labelled)


def test_too_small_a_set_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        build_set(10, corpora_dir=CORPORA)


def test_every_kind_and_every_copy_spec_is_present(labelled) -> None:
    kinds = Counter(k for a in labelled for k in a.kind)
    assert set(kinds) == set(KINDS)
    specs = Counter(frozenset(k for k in a.kind if k in TRANSFORMS) for a in labelled if a.corpus == "synthetic"
                    and a.copy_group)
    assert set(specs) == {frozenset(s) for s in COPY_SPECS}
    assert all(specs[frozenset(s)] >= 5 for s in COPY_SPECS)


def test_many_distinct_sources_from_both_corpora(labelled) -> None:
    made = composition(labelled)
    assert made["original_sources"]["fundus"] >= 40 and made["original_sources"]["aeb"] >= 60
    originals = [a for a in labelled if "original" in a.kind]
    assert len({a.url for a in originals}) == len(originals)


def test_labels_are_consistent(labelled) -> None:
    groups = defaultdict(list)
    for a in labelled:
        if a.copy_group:
            groups[a.copy_group].append(a)
    for members in groups.values():
        assert len(members) >= 2
        assert len({a.story for a in members}) == 1, "a copy group lies within one story"
        assert len({a.origin for a in members}) == 1 and members[0].origin
    for a in labelled:
        if a.copy_group is None and not a.credited:
            assert a.origin == "", a.url
        if any(k.startswith("distractor") for k in a.kind):
            assert a.copy_group is None
            assert sum(b.story == a.story for b in labelled) == 1, "a distractor is a story of its own"
        if "rewrite" in a.kind:
            assert a.copy_group is None and any("original" in b.kind and b.story == a.story for b in labelled)


def _content(copy, original_titles):
    """A copy's text without the outlet's boilerplate lines (and the headlines it lists)."""
    outlet = next((o for o in OUTLETS if o.id == copy.outlet), None)
    lines = copy.body.split("\n")
    if outlet is not None and {"boilerplate", "distractor-boilerplate"} & set(copy.kind):
        plate = boilerplate_lines(outlet, int(copy.published[:4]))
        lines = [x for x in lines if x not in original_titles and not x.startswith("Read more: ") and x not in plate]
    return "\n".join(lines)


def test_every_copy_is_made_of_its_original(labelled) -> None:
    ids = by_id(labelled)
    titles = {a.title for a in labelled}
    shares = defaultdict(list)
    for a in labelled:
        if a.copy_group and a.derived_from:
            original = ids[a.derived_from]
            assert original.copy_group == a.copy_group and "original" in original.kind
            share = containment(_content(a, titles), original.text)
            shares["edited" if "edited" in a.kind else "other"].append(share)
            assert share >= (0.5 if "edited" in a.kind else 0.85), (a.kind, a.url, share)
    assert min(shares["other"]) >= 0.85 and len(shares["edited"]) > 20
    # hard positives: trims and excerpts keep well under half of the original
    kept = [containment(ids[a.derived_from].text, a.text) for a in labelled if {"excerpt", "trimmed"} & set(a.kind)]
    assert min(kept) < 0.35


def test_rewrites_share_names_not_text(labelled) -> None:
    ids = by_id(labelled)
    for a in labelled:
        if "rewrite" in a.kind:
            original = ids[a.derived_from]
            assert containment(a.text, original.text) < 0.4, a.title
            f = facts(original.title, original.body.split("\n"))
            names = f.people + f.places + f.orgs
            assert any(n in a.text for n in names) or not names, a.title


def test_distractors_share_names_but_not_text(labelled) -> None:
    ids = by_id(labelled)
    distractors = [a for a in labelled if "distractor-names" in a.kind]
    assert len(distractors) >= 30
    sharing = 0
    for a in distractors:
        original = ids[a.derived_from]
        assert jaccard(a.text, original.text) < 0.1 and containment(a.text, original.text) < 0.2
        assert a.published[:10] == original.published[:10] or abs(
            (_when(a) - _when(original)).total_seconds()) < 86400
        f = facts(original.title, original.body.split("\n"))
        sharing += any(n in a.text for n in f.people + f.places)
    assert sharing >= 0.8 * len(distractors)
    # each distractor of its own text (the corpus holds a few pages twice)
    others = load_others(CORPORA)
    assert len({o.title for o in others}) == len(others)


def _when(article):
    from evaluation.stories_set import _parse_when
    return _parse_when(article.published)


def test_articles_of_different_copy_groups_share_little_beyond_boilerplate(labelled) -> None:
    """No two articles are near-duplicates unless labelled copies, except the deliberate near-identical briefs
    and boilerplate pages."""
    titles = {a.title for a in labelled}
    plain = [(a, shingle_set(_content(a, titles))) for a in labelled
             if not {"distractor-brief", "distractor-boilerplate"} & set(a.kind)]
    for i, (a, sa) in enumerate(plain):
        for b, sb in plain[i + 1:]:
            if a.copy_group and a.copy_group == b.copy_group or not sa or not sb:
                continue
            shared = len(sa & sb) / min(len(sa), len(sb))
            assert shared < 0.4, (a.title, b.title, shared)


def test_the_seed_story_is_labelled_as_the_outlets_carried_it(labelled) -> None:
    seed = {a.outlet: a for a in labelled if a.story == SEED_STORY}
    assert set(seed) == {"axios", "inkl", "almayadeen", "ndtv", "jns"}
    group = seed["axios"].copy_group
    assert group and seed["inkl"].copy_group == group == seed["almayadeen"].copy_group
    assert {a.outlet for a in labelled if a.copy_group == group} == {"axios", "inkl", "almayadeen"}
    assert all(seed[o].origin == "axios" for o in ("axios", "inkl", "almayadeen"))
    assert seed["ndtv"].copy_group is None and seed["ndtv"].origin == "AFP" and seed["ndtv"].source == "AFP"
    assert seed["jns"].copy_group is None and seed["jns"].origin == "" and not seed["jns"].credited
    assert seed["almayadeen"].source == "Axios" and seed["inkl"].source == "Axios"
    assert seed["axios"].published == "2024-03-27T15:06:00+00:00"
    seed_text = (SHARED / "seeds" / "003_9333b2d9991fb65b.txt")
    if seed_text.is_file():  # the NDTV article is seed 003's text
        assert seed["ndtv"].body in seed_text.read_text("utf-8")
    # the seed pages are labelled as reconstructed from the seeds, and no other article is
    assert {o: a.reconstructed for o, a in seed.items()} == {
        "axios": "seed 002 (inkl's republication of it)", "inkl": "seed 002", "almayadeen": "seeds 000 and 001",
        "ndtv": "seed 003", "jns": "seed 004"}
    assert sum(bool(a.reconstructed) for a in labelled) == 5
    fixtures = [a for a in labelled if "fixture" in a.kind]
    assert len(fixtures) == 14 and all(a.story != SEED_STORY for a in fixtures)
    # inkl republishes two Axios stories word for word
    inkl = [a for a in fixtures if a.outlet == "inkl"]
    assert len(inkl) == 2 and all(a.copy_group and a.origin == "axios" and a.credited for a in inkl)


def test_credits_and_sources_agree_with_the_labels(labelled) -> None:
    for a in labelled:
        if a.credited and a.corpus == "synthetic":
            assert a.source != a.site_name
        if "credit" in a.kind and not a.credited:  # credited to a name that is not the origin
            assert a.source not in (a.site_name, a.origin)
    assert {a.origin for a in labelled if a.copy_group} >= {"AFP", "AP", "Reuters"}


def test_transformations_on_a_small_text() -> None:
    import random

    draft = Draft("Title of it", "A standfirst", [f"Paragraph {i} " + "word " * 20 for i in range(10)], "Site")
    rng = random.Random(3)
    assert transform(draft, ("verbatim",), rng).paragraphs == draft.paragraphs
    trimmed = transform(draft, ("trimmed",), rng).paragraphs
    assert trimmed == draft.paragraphs[:len(trimmed)] and 2 <= len(trimmed) < 10
    excerpt = transform(draft, ("excerpt",), rng)
    assert 2 <= len(excerpt.paragraphs) <= 6 and excerpt.standfirst == ""
    assert " ".join(excerpt.paragraphs) in " ".join(draft.paragraphs)
    reordered = transform(draft, ("reordered",), rng).paragraphs
    assert sorted(reordered) == sorted(draft.paragraphs) and reordered != draft.paragraphs
    assert reordered[0] == draft.paragraphs[0]
    credited = transform(draft, ("credit",), rng, credit="AFP")
    assert credited.source == "AFP"
    plated = transform(draft, ("boilerplate",), rng, outlet=OUTLETS[0], other_titles=["A", "B", "C"])
    plate = boilerplate_lines(OUTLETS[0], 2024)
    assert plated.paragraphs[0] in plate and any(OUTLETS[0].newsletter in p for p in plated.paragraphs)
    assert set(draft.paragraphs) <= set(plated.paragraphs)
    assert [p for p in plated.paragraphs if p not in plate and p not in {"A", "B", "C"}] == [
        *draft.paragraphs[:3], "Read more: A", *draft.paragraphs[3:]]
    # each outlet its own boilerplate: some common lines at most, never the whole of it
    for one, other in itertools.combinations(OUTLETS, 2):
        assert len(boilerplate_lines(one, 2024) & boilerplate_lines(other, 2024)) <= 2


# ---------------------------------------------------------------- metrics


def test_pair_counts_and_pairwise_scores_by_hand() -> None:
    truth = ["a", "a", "a", "b", "b", None]
    pred = ["x", "x", "y", "y", "y", None]
    # true pairs: aaa -> 3, bb -> 1 = 4; predicted: xx -> 1, yyy -> 3 = 4; correct: (0,1), (3,4) = 2
    assert pair_counts(truth, pred) == (2, 4, 4)
    scores = pairwise(truth, pred)
    assert scores["precision"] == scores["recall"] == scores["f1"] == 0.5
    # pairs touching article 2 only: true (0,2), (1,2); predicted (2,3), (2,4); none correct
    focus = [False, False, True, False, False, False]
    assert pairwise(truth, pred, focus) | {} == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "true_pairs": 2,
                                                 "predicted_pairs": 2, "correct_pairs": 0}
    # nothing claimed, nothing to find: vacuous 1.0
    assert pairwise([None, None], [None, None])["f1"] == 1.0


def test_a_known_split_and_merge() -> None:
    # truth {1,2,3,4} {5,6}; prediction splits the first: {1,2} {3,4} and merges 5,6 with 3,4: {3,4,5,6}
    truth = [1, 1, 1, 1, 2, 2]
    pred = ["p", "p", "q", "q", "q", "q"]
    s = pairwise(truth, pred)
    # true pairs 6 + 1 = 7; predicted 1 + 6 = 7; correct (1,2) (3,4) (5,6) = 3
    assert (s["correct_pairs"], s["predicted_pairs"], s["true_pairs"]) == (3, 7, 7)
    assert s["precision"] == pytest.approx(3 / 7) and s["f1"] == pytest.approx(3 / 7)
    b = bcubed(truth, pred)
    # precision: 1,2 -> 2/2; 3,4 -> 2/4; 5,6 -> 2/4 => (1+1+.5+.5+.5+.5)/6 = 2/3
    # recall: 1,2,3,4 -> 2/4; 5,6 -> 2/2 => (.5*4 + 1*2)/6 = 2/3
    assert b["precision"] == pytest.approx(2 / 3) and b["recall"] == pytest.approx(2 / 3)
    assert b["f1"] == pytest.approx(2 / 3)
    # ARI: index 3, expected 7*7/15, max 7 -> (3 - 49/15) / (7 - 49/15) = (-4/15) / (56/15) = -1/14
    assert adjusted_rand_index(truth, pred) == pytest.approx(-1 / 14)
    # B-cubed of one kind: articles 5 and 6 only
    assert bcubed(truth, pred, [False] * 4 + [True] * 2)["precision"] == pytest.approx(0.5)


def test_adjusted_rand_index_known_values() -> None:
    # scikit-learn's documented examples of adjusted_rand_score
    assert adjusted_rand_index([0, 0, 1, 1], [0, 0, 1, 1]) == 1.0
    assert adjusted_rand_index([0, 0, 1, 1], [1, 1, 0, 0]) == 1.0
    assert adjusted_rand_index([0, 0, 1, 2], [0, 0, 1, 1]) == pytest.approx(4 / 7)  # 0.57...
    assert adjusted_rand_index([0, 0, 1, 1], [0, 0, 1, 2]) == pytest.approx(4 / 7)
    assert adjusted_rand_index([0, 0, 0, 0], [0, 1, 2, 3]) == 0.0
    assert adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(-0.5)
    # degenerate cases count as identical, as scikit-learn does
    assert adjusted_rand_index([None, None, None], [None, None, None]) == 1.0
    assert adjusted_rand_index([1], [2]) == 1.0


def test_perfect_prediction_is_one_everywhere() -> None:
    truth = ["a", "a", None, "b", "b", "b", None]
    renamed = [{"a": 7, "b": 9}.get(x) for x in truth]
    assert pairwise(truth, renamed)["f1"] == 1.0
    assert bcubed(truth, renamed)["f1"] == 1.0
    assert adjusted_rand_index(truth, renamed) == 1.0


def test_origins_compare_by_outlet_agency_or_own() -> None:
    outlets = {"axios": "Axios", "ndtv": "NDTV"}
    assert canonical_origin("Axios", "inkl", outlets) == canonical_origin("axios", "inkl", outlets) == "outlet:axios"
    assert canonical_origin("Agence France-Presse", "ndtv", outlets) == "agency:AFP"
    assert canonical_origin("", "ndtv", outlets) == canonical_origin("NDTV", "ndtv", outlets)
    rows = [
        {"outlet": "inkl", "copy_group": "g", "origin": "axios", "credited": True, "pred_origin": "Axios",
         "pred_credited": True},
        {"outlet": "axios", "copy_group": "g", "origin": "axios", "credited": False, "pred_origin": "",
         "pred_credited": False},
        {"outlet": "ndtv", "copy_group": None, "origin": "AFP", "credited": True, "pred_origin": "NDTV",
         "pred_credited": True},
        {"outlet": "jns", "copy_group": None, "origin": "", "credited": False, "pred_origin": "x",
         "pred_credited": True},  # nothing to attribute: not scored
    ]
    scores = attribution(rows, outlets)
    assert scores == {"origin_accuracy": pytest.approx(2 / 3), "credited_accuracy": 1.0, "articles": 3}


# ---------------------------------------------------------------- the runner


class _Oracle:
    """A stand-in for the system under test that answers the labels (set by the test)."""

    labels: dict = {}

    def __init__(self, catalog) -> None:
        self.catalog, self.given, self.ids = catalog, {}, {}

    def _id(self, key):
        return None if key is None else self.ids.setdefault(key, len(self.ids) + 1)

    def add(self, article):
        a = self.labels[article.record_id]
        self.given[article.record_id] = Assignment(self._id(a.story), self._id(a.copy_group), a.origin, a.credited)
        return self.given[article.record_id]

    def membership(self):
        return dict(self.given)


def test_the_runner_scores_a_membership(labelled, tmp_path: Path) -> None:
    _Oracle.labels = by_id(labelled)
    membership, timing = assign(labelled, _Oracle, tmp_path)
    assert set(membership) == {a.record_id for a in labelled} and timing["total_seconds"] >= 0
    metrics = score(labelled, membership)
    assert missed_targets(metrics) == [] and metrics["seed_story"]["exact"]
    assert metrics["copies"]["overall"]["f1"] == metrics["stories"]["overall"]["f1"] == 1.0
    assert set(metrics["copies"]["by_kind"]) == set(KINDS)
    table = format_table(metrics, {"all": len(labelled)})
    assert "seed story: exactly right" in table and "distractor-names" in table

    # everything alone: copies and stories miss their targets, the seed story is wrong, and it says so
    alone = {a.record_id: Assignment(n, None, "", False) for n, a in enumerate(labelled)}
    metrics = score(labelled, alone)
    missed = missed_targets(metrics)
    assert len(missed) == 3 and missed[0].startswith("copies F1 0.000 < 0.95")
    assert "seed story is not exactly right" in missed[2]
    # an article missing from the membership counts alone, and is reported
    partial = dict(membership)
    partial.pop(labelled[0].record_id)
    assert score(labelled, partial)["missing"] == [labelled[0].record_id]
    assert TARGETS == {"copies_f1": 0.95, "stories_bcubed_f1": 0.90}


def test_the_command_line_end_to_end_with_a_stand_in(labelled, tmp_path: Path, monkeypatch, capsys) -> None:
    _Oracle.labels = by_id(build_set(60, corpora_dir=CORPORA))
    monkeypatch.setattr("evaluation.stories.load_system", lambda spec: _Oracle)
    out = tmp_path / "result.json"
    assert main(["--size", "60", "--corpora-dir", str(CORPORA), "--json", str(out)]) == 0
    result = json.loads(out.read_text("utf-8"))
    assert result["copies"]["overall"]["f1"] == 1.0 and result["missed"] == []
    assert result["composition"]["articles"] == 60 and len(result["articles"]) == 60
    assert "targets: all met" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["--size", "3"], "must be at least 40, not 3"),
    (["--size", "many"], "invalid int value: 'many'"),
    (["--seed", "-1"], "must be at least 0"),
    (["--corpora-dir", "/nonexistent/corpora"], "corpora directory not found"),
    (["--corpora-dir", "{tmp}", "--system", "no.such.module:StoryIndex"],
     "cannot load the system under test 'no.such.module:StoryIndex'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_arguments_exit_2_with_a_clear_message(args, message, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([a.replace("{tmp}", str(tmp_path)) for a in args])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_a_json_path_that_is_a_directory_is_refused(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--corpora-dir", str(tmp_path), "--json", str(tmp_path)])
    assert exit_.value.code == 2 and "is a directory" in capsys.readouterr().err


def test_the_runner_is_importable_and_documents_its_options() -> None:
    done = subprocess.run([sys.executable, "-m", "evaluation.stories", "--help"], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "--size" in done.stdout and "--seed" in done.stdout
    assert "--json" in build_parser().format_help()


# ---------------------------------------------------------------- the system under test


@pytest.mark.system_targets
@pytest.mark.timeout(60)
def test_the_story_index_meets_the_issues_targets(tmp_path: Path) -> None:
    """THE SYSTEM UNDER TEST (pipelines.stories.index.StoryIndex) on a set of SYSTEM_SIZE articles: the issue's
    targets, never loosened here (tune the system instead; `make evaluate-stories` shows each kind's figures)."""
    if not (CORPORA / "fundus-test-data").is_dir() or not (CORPORA / "article-extraction-benchmark").is_dir():
        pytest.skip(f"the shared corpora are absent ({CORPORA} not found)")
    articles = build_set(SYSTEM_SIZE, seed=0, corpora_dir=CORPORA)
    membership, _ = assign(articles, load_system(SYSTEM), tmp_path)
    metrics = score(articles, membership)
    copies, stories = metrics["copies"]["overall"], metrics["stories"]["overall"]
    table = format_table(metrics, {"all": len(articles), **composition(articles)["kinds"]})
    assert metrics["seed_story"]["exact"], metrics["seed_story"]["problems"]
    assert not metrics["missing"]
    assert stories["f1"] >= TARGETS["stories_bcubed_f1"] == 0.90, table
    assert copies["f1"] >= TARGETS["copies_f1"] == 0.95, table
