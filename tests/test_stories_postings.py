"""The key-term postings held in memory by day (pipelines.stories.postings): a day read once from the catalog's
rows, kept up to date by what is added and removed, and read again after it was forgotten."""

from __future__ import annotations

import json

import pytest

from pipelines.stories import postings
from pipelines.stories.postings import DayPostings


def catalog_rows(stored: dict[str, list[tuple[int, str, dict[str, float]]]]):
    reads: list[str] = []

    def read(day: str) -> list[tuple[int, str, str]]:
        reads.append(day)
        return [(article_id, outlet, json.dumps(terms)) for article_id, outlet, terms in stored.get(day, [])]

    return read, reads


def test_the_latest_articles_of_the_latest_days_first() -> None:
    stored = {"2026-03-02": [(1, "wire", {"flood": 3.0}), (4, "paper", {"flood": 1.0, "road": 1.0})],
              "2026-03-03": [(2, "wire", {"flood": 1.5}), (3, "gazette", {"road": 1.0})]}
    read, reads = catalog_rows(stored)
    held = DayPostings(read)
    days = ["2026-03-03", "2026-03-02", "2026-03-01"]
    assert held.latest("flood", days, 10) == [2, 4, 1]
    assert held.latest("flood", days, 2) == [2, 4]
    assert held.latest("flood", days, 10, of_outlet="wire") == [2, 1]
    assert held.latest("road", days, 10) == [3, 4] and held.latest("storm", days, 10) == []
    assert sorted(reads) == sorted(days)  # each day read once, an empty one too
    held.add(5, "paper", "2026-03-02", ["flood"])  # a day in memory takes what is added
    held.add(9, "paper", "2026-02-01", ["flood"])  # one not in memory: read with it when looked at
    held.remove(4, "2026-03-02", ["flood", "road"])  # a new version's old terms
    assert held.latest("flood", days, 10) == [2, 5, 1] and held.latest("road", days, 10) == [3]
    held.add(0, "paper", "2026-03-02", ["road"])  # an id below those held (stored earlier by another process)
    assert held.latest("road", ["2026-03-02"], 10) == [0]


def test_days_beyond_the_limit_are_forgotten_and_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postings, "DAYS", 3)
    stored = {f"2026-03-{day:02d}": [(day, "wire", {"flood": 1.0})] for day in range(1, 8)}
    read, reads = catalog_rows(stored)
    held = DayPostings(read)
    for day in range(1, 8):
        assert held.latest("flood", [f"2026-03-{day:02d}"], 5) == [day]
    assert held.latest("flood", ["2026-03-07", "2026-03-01"], 5) == [7, 1]  # the first day read again
    assert reads.count("2026-03-01") == 2 and reads.count("2026-03-07") == 1
    assert not held.holds("2026-03-04") and held.holds("2026-03-01")
