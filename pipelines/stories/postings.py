"""Which articles of a day have each key term: where assignment finds the write-ups of an event (its rarest terms'
latest articles within a few days), held in memory for the days it looks at.

A day is read from the catalog (the key terms each article's row keeps) the first time it is looked at, and then
kept up to date by assignment; :data:`DAYS` days at most are kept, the least recently looked at forgotten first.
Crawls and replays look at a few days at a time (today's, or those of the WARCs being read), so a day is read
seldom, where an index table in the catalog cost 24 rows an article inserted and a query of five days' postings
for every article.
"""

from __future__ import annotations

import bisect
import json
from collections import OrderedDict
from collections.abc import Callable, Iterable

import numpy as np

#: An article id in the postings (as the memory LSH index holds them: 4 bytes).
_ID = np.dtype("<u4")
#: Days kept in memory (about 2 MB for a day of 1,000 articles).
DAYS = 32


class _Day:
    """A day's postings, in objects the garbage collector does not track (bytearrays of ids, and dicts holding only
    strings, numbers and bytearrays): a month of days is a quarter of a million lists or arrays otherwise, each
    scanned by every full collection (measured on bench/stories_speed.py's articles at 100,000: a tenth of the
    time of assignment with arrays, a fifth with lists)."""

    __slots__ = ("terms", "outlets")

    def __init__(self) -> None:
        self.terms: dict[str, bytearray] = {}  # term -> the ids of the day's articles that have it, ascending (_ID)
        self.outlets: dict[int, str] = {}

    def add(self, article_id: int, outlet: str, terms: Iterable[str]) -> None:
        self.outlets[article_id] = outlet
        packed = article_id.to_bytes(_ID.itemsize, "little")
        for term in terms:
            postings = self.terms.get(term)
            if postings is None:
                self.terms[term] = bytearray(packed)
            elif not postings or int.from_bytes(postings[-_ID.itemsize:], "little") < article_id:
                postings += packed
            else:  # an article stored earlier by another process, or a new version of an older one
                ids = _ids(postings)
                bisect.insort(ids, article_id)
                self.terms[term] = _packed(ids)

    def remove(self, article_id: int, terms: Iterable[str]) -> None:
        self.outlets.pop(article_id, None)
        for term in terms:
            ids = _ids(self.terms.get(term, b""))
            place = bisect.bisect_left(ids, article_id)
            if place < len(ids) and ids[place] == article_id:
                del ids[place]
                self.terms[term] = _packed(ids)


def _ids(postings: bytes | bytearray) -> list[int]:
    return np.frombuffer(postings, _ID).tolist()


def _packed(ids: list[int]) -> bytearray:
    return bytearray(np.array(ids, _ID).tobytes())


class DayPostings:
    """Key-term postings by day, for the days looked at (read with ``read(day)``: (id, outlet, terms JSON) of
    each article stored on that day)."""

    def __init__(self, read: Callable[[str], Iterable[tuple[int, str, str]]]) -> None:
        self._read = read
        self._days: OrderedDict[str, _Day] = OrderedDict()

    def latest(self, term: str, days: list[str], limit: int, of_outlet: str = "") -> list[int]:
        """The latest ``limit`` articles with ``term`` on these days (latest first; of one outlet, if given)."""
        found: list[int] = []
        for day in days:
            held = self._day(day)
            postings = held.terms.get(term)
            if not postings:
                continue
            wanted = limit - len(found)
            if of_outlet:
                outlets = held.outlets
                found += [article_id for article_id in reversed(_ids(postings))
                          if outlets[article_id] == of_outlet][:wanted]
            else:
                found += np.frombuffer(postings, _ID)[:-wanted - 1:-1].tolist()
            if len(found) >= limit:
                break
        return found

    def holds(self, day: str) -> bool:
        return day in self._days

    def add(self, article_id: int, outlet: str, day: str, terms: Iterable[str]) -> None:
        """An article stored (its day, if in memory, takes it; otherwise it is read with the day)."""
        if day in self._days:
            self._days[day].add(article_id, outlet, terms)

    def remove(self, article_id: int, day: str, terms: Iterable[str]) -> None:
        """An article's old key terms (a new version replaces them)."""
        held = self._days.get(day)
        if held is not None:
            held.remove(article_id, terms)

    def clear(self) -> None:
        self._days.clear()

    def _day(self, day: str) -> _Day:
        held = self._days.get(day)
        if held is None:
            held = self._days[day] = _Day()
            for article_id, outlet, terms in self._read(day):
                held.add(article_id, outlet, json.loads(terms))
            while len(self._days) > DAYS:
                self._days.popitem(last=False)
        else:
            self._days.move_to_end(day)
        return held
