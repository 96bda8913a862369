"""The key-term counts an assigning process keeps by term number (pipelines.stories.counts)."""

from __future__ import annotations

import numpy as np

from pipelines.stories.counts import TermCounts


class Catalog:
    """What the catalog counts, and which terms it was asked for."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.stored = counts
        self.asked: list[list[str]] = []

    def read(self, terms: list[str]) -> list[tuple[str, int]]:
        self.asked.append(sorted(terms))
        return [(term, self.stored[term]) for term in terms if term in self.stored]


def test_a_term_keeps_its_number_and_new_terms_get_the_next_ones() -> None:
    counts = TermCounts(Catalog({}).read)
    first = counts.numbers(["gaza", "ceasefire"])
    again = counts.numbers(["ceasefire", "talks", "gaza", "talks"])
    assert first.tolist() == [0, 1]
    assert again.tolist() == [1, 2, 0, 2]
    assert len(counts) == 3


def test_counts_are_read_once_with_what_is_pending() -> None:
    catalog = Catalog({"gaza": 40, "": 1000})
    counts = TermCounts(catalog.read)
    numbers = counts.numbers(["gaza", "talks", ""])
    assert counts.counts(numbers, {"talks": 2, "gaza": 1}).tolist() == [41, 2, 1000]
    assert counts.counts(numbers[::-1], {"talks": 5}).tolist() == [1000, 2, 41]  # known now: not read again
    assert catalog.asked == [["", "gaza", "talks"]]


def test_adding_changes_only_the_counts_already_known() -> None:
    catalog = Catalog({"gaza": 40})
    counts = TermCounts(catalog.read)
    gaza, talks = counts.numbers(["gaza", "talks"]).tolist()
    counts.counts(np.array([gaza]), {})
    counts.add(np.array([gaza, talks]), 1)
    counts.add(np.array([gaza]), -1)
    counts.add(np.array([gaza]), 1)
    catalog.stored["talks"] = 7  # what the catalog holds when the term is first read (its add counted there)
    assert counts.counts(np.array([gaza, talks]), {}).tolist() == [41, 7]


def test_numbers_past_the_first_arrays_and_clearing() -> None:
    counts = TermCounts(Catalog({f"t{n}": n for n in range(5000)}).read)
    numbers = counts.numbers([f"t{n}" for n in range(5000)])
    assert counts.counts(numbers, {}).tolist() == list(range(5000))
    assert len(counts.scratch) >= 5000 and not counts.scratch.any()
    counts.clear()
    assert len(counts) == 0
    assert counts.numbers(["t4999"]).tolist() == [0]
