"""How many articles have each key term, as one assigning process last read or wrote it: a term's rarity weighs it
in the cosines that tell write-ups of one event (see :mod:`pipelines.stories.index`).

Each term the process meets gets a number, and its count sits at that place in an array: every article's
write-up candidates bring some 250 terms to weigh, and with numbers their counts, rarities and products are a
few passes in C, where one dictionary look-up per term cost more than the rest of the cosines together
(measured on ``bench/stories_speed.py``'s articles). A count is read from the catalog the first time its term
is met, and kept up to date with what this process adds; another process's few articles meanwhile barely
change a rarity.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping

import numpy as np

#: What the catalog says: (term, articles) of those of these terms it counts.
Reader = Callable[[list[str]], Iterable[tuple[str, int]]]


class TermCounts:
    """Article counts of key terms by number (:meth:`numbers`); :meth:`counts` reads those not yet known."""

    def __init__(self, read: Reader) -> None:
        self._read = read
        self.clear()

    def clear(self) -> None:
        """Forget every term (and number: arrays of numbers from before mean nothing after)."""
        self._numbers: dict[str, int] = {}
        self._terms: list[str] = []
        self._counts = np.zeros(1024, np.int64)
        self._known = np.zeros(1024, bool)
        self.scratch = np.zeros(1024, np.float64)  # a value by term number, for one computation at a time: zeros

    def __len__(self) -> int:
        return len(self._terms)

    def numbers(self, terms: list[str]) -> np.ndarray:
        """The terms' numbers (a term met for the first time gets the next one)."""
        numbers = self._numbers
        found = np.fromiter(map(numbers.get, terms, itertools.repeat(-1)), np.intp, len(terms))
        if (found < 0).any():
            for place in np.flatnonzero(found < 0).tolist():
                term = terms[place]
                if term not in numbers:  # (not a term twice in the list)
                    numbers[term] = len(self._terms)
                    self._terms.append(term)
                found[place] = numbers[term]
            self._grow(len(self._terms))
        return found

    def counts(self, numbers: np.ndarray, pending: Mapping[str, int]) -> np.ndarray:
        """The counts of these terms; those not known yet read from the catalog, plus ``pending``: the articles
        that have them that this process counted but has not yet written."""
        unknown = numbers[~self._known[numbers]]
        if len(unknown):
            fresh = np.unique(unknown)
            terms = [self._terms[number] for number in fresh.tolist()]
            self._counts[fresh] = [pending.get(term, 0) for term in terms]
            numbers_of = self._numbers
            for term, articles in self._read(terms):
                self._counts[numbers_of[term]] += articles
            self._known[fresh] = True
        return self._counts[numbers]

    def add(self, numbers: np.ndarray, change: int) -> None:
        """Count an article (``change`` 1) or uncount one (-1) that has these terms (each once); a term whose
        count is not known yet gets it from the catalog and what is pending when it is read."""
        known = numbers[self._known[numbers]]
        self._counts[known] += change

    def _grow(self, size: int) -> None:
        capacity = len(self._counts)
        if size <= capacity:
            return
        while capacity < size:
            capacity *= 2
        extra = capacity - len(self._counts)
        self._counts = np.concatenate([self._counts, np.zeros(extra, np.int64)])
        self._known = np.concatenate([self._known, np.zeros(extra, bool)])
        self.scratch = np.concatenate([self.scratch, np.zeros(extra, np.float64)])
