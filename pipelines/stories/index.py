"""Assigning each article, as it arrives, to a copy group and a story (see :mod:`pipelines.stories`).

For a new article (or a new version of one: it stays one member):

1. **copies**: its shingles' MinHash signature meets candidates in the LSH index; a candidate of another outlet
   is a copy when the signatures say the texts are alike (Jaccard) or one mostly holds the other (containment:
   an excerpt). The article joins the copy group of its copies (groups it links are merged);
2. **attribution**: a group's origin is the source its members credit when that is a known agency or an
   archived outlet (recognised by the site name its own articles carry), otherwise the member published first;
   each member credits the origin or not;
3. **story**: a copy joins its group's story; otherwise the article joins the story of the most similar
   write-up within :data:`STORY_DAYS` days (cosine of key terms weighed by how rare they are), if similar
   enough, or starts a story. An outlet's near-identical pages (boilerplate) never join each other.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pipelines.capture import warc_datetime
from pipelines.catalog import Catalog
from pipelines.extract.syndication import agency
from pipelines.stories import Assignment, StoryArticle
from pipelines.stories.lsh import (
    BandStore,
    SqlBands,
    band_keys,
    containment,
    jaccard,
    pack,
    signature,
    unpack,
)
from pipelines.stories.text import key_terms, shingles

#: A candidate is a copy when the texts' Jaccard similarity reaches this...
COPY_JACCARD = 0.5
#: ...or when this share of the smaller text is in the larger (an excerpt, a trimmed copy)...
COPY_CONTAINMENT = 0.8
#: ...if the smaller has at least this many shingles (a short passage in common is a quotation, not a copy).
MIN_CONTAINED = 40
#: An article crediting an archived outlet copies that outlet's write-up when their key terms are this alike (a
#: rewrite keeps the story's terms while its wording shares little text: Al Mayadeen's of Axios's, 17%).
CREDITED_COPY_SIMILARITY = 0.5
#: Write-ups of one event are looked for within this many days of each other.
STORY_DAYS = 2
#: The key-term similarity at which two write-ups tell one event.
STORY_SIMILARITY = 0.35
#: The rarest key terms of an article used to find candidate write-ups, and how many candidates are scored.
SEARCH_TERMS, MAX_CANDIDATES = 8, 60
#: Near-identical texts of one outlet: boilerplate or the same page twice, never joined into a story.
SAME_OUTLET_DUPLICATE = 0.8
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass
class _Member:
    """A stored article, as assignment needs it (its site name case-folded: what credits are matched with)."""

    id: int
    outlet: str
    site_name: str
    credit: str
    published: str
    day: str
    shingles: int
    signature: list[int] | None
    terms: dict[str, float]
    copy_group: int | None
    story_id: int

    @classmethod
    def of(cls, row: Any) -> _Member:
        values = dict(row._mapping)
        return cls(values["id"], values["outlet"], values["site_name"] or "", values["credit"] or "",
                   values["published"] or "", values["day"], values["shingles"],
                   unpack(values["signature"]) if values["signature"] else None, json.loads(values["terms"]),
                   values["copy_group"], values["story_id"])


_COLUMNS = "id, outlet, site_name, credit, published, day, shingles, signature, terms, copy_group, story_id"


class StoryIndex:
    """Story assignment over one catalog (and its LSH index: the catalog's, or Redis)."""

    def __init__(self, catalog: Catalog, bands: BandStore | None = None) -> None:
        self.catalog = catalog
        self.bands = bands or SqlBands(catalog.connection)

    @property
    def _db(self) -> sa.Connection:
        assert self.catalog.connection is not None, "the catalog is closed"
        return self.catalog.connection

    # -- assignment

    def add(self, article: StoryArticle, commit: bool = True) -> Assignment:
        """Assign the article (a new one, or a new version of one already assigned) and return where it went."""
        self.catalog.begin_write()
        try:
            assignment = self._add(article)
        except BaseException:
            self.catalog.rollback()
            raise
        if commit:
            self.catalog.commit()
        return assignment

    def _add(self, article: StoryArticle) -> Assignment:
        found = shingles(article.standfirst, article.body)
        values = signature(found) if found else None
        terms = key_terms(article.title, article.standfirst, article.body)
        day = _day(article)
        previous = self._db.execute(sa.text(f"SELECT {_COLUMNS} FROM story_articles WHERE outlet = :outlet "
                                            "AND url_key = :url_key"),
                                    {"outlet": article.outlet, "url_key": article.url_key}).first()
        member = _Member.of(previous) if previous is not None else None
        if member is not None:  # a new version: the same member, its text compared anew
            self._forget(member)
        copies = self._copies(article.outlet, values, len(found)) if values else []
        credited = self._credited_origin(article.source, article.site_name, article.outlet)
        if credited and not agency(credited) and all(copy.outlet != credited for copy in copies):
            # a rewrite that credits an archived outlet: a copy of that outlet's write-up of the event, if any
            source, score = self._best_writeup(article.outlet, terms, day, values, of_outlet=credited)
            if source is not None and score >= CREDITED_COPY_SIMILARITY:
                copies.append(source)
        groups = sorted({copy.copy_group for copy in copies if copy.copy_group is not None}
                        | ({member.copy_group} if member is not None and member.copy_group is not None else set()))
        stories = sorted({copy.story_id for copy in copies} | ({member.story_id} if member is not None else set()))
        if not stories and (story := self._similar_story(article.outlet, terms, day, values)) is not None:
            stories = [story]
        story_id = self._merge_stories(stories) if stories else self._new_story(day)
        self._extend_story(story_id, day)
        group = self._merge_groups(groups) if groups else (self._new_group() if copies else None)
        row = {"outlet": article.outlet, "url_key": article.url_key, "record_id": article.record_id,
               "url": article.url, "title": article.title, "published": article.published, "day": day,
               "site_name": article.site_name.casefold(), "credit": article.source, "shingles": len(found),
               "signature": pack(values) if values else None, "terms": json.dumps(terms, sort_keys=True),
               "copy_group": group, "story_id": story_id, "origin": "", "credited": False}
        if member is None:
            article_id = self._db.execute(sa.text(
                f"INSERT INTO story_articles ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)}) "
                "RETURNING id"), row).scalar_one()
        else:
            article_id = member.id
            self._db.execute(sa.text(f"UPDATE story_articles SET {', '.join(f'{k} = :{k}' for k in row)} "
                                     "WHERE id = :id"), {**row, "id": article_id})
        if copies and group is not None:
            self._db.execute(sa.text("UPDATE story_articles SET copy_group = :group WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)), {"group": group, "ids": [copy.id for copy in copies]})
        if values:
            self.bands.add(article_id, band_keys(values))
        self._index_terms(article_id, terms, day)
        if group is not None:
            self._attribute(group)
        else:
            origin = self._credited_origin(article.source, article.site_name, article.outlet)
            self._db.execute(sa.text("UPDATE story_articles SET origin = :origin, credited = :credited WHERE id = :id"),
                             {"origin": origin, "credited": bool(origin), "id": article_id})
        final = self._db.execute(sa.text("SELECT story_id, copy_group, origin, credited FROM story_articles "
                                         "WHERE id = :id"), {"id": article_id}).one()
        return Assignment(final[0], final[1], final[2], bool(final[3]))

    def _forget(self, member: _Member) -> None:
        """Take a member's old text out of the indexes (its new version goes in)."""
        if member.signature is not None:
            self.bands.remove(member.id, band_keys(member.signature))
        if member.terms:
            self._db.execute(sa.text("UPDATE story_df SET articles = articles - 1 WHERE term = :term"),
                             [{"term": term} for term in member.terms])
        self._db.execute(sa.text("DELETE FROM story_terms WHERE article_id = :id"), {"id": member.id})

    def _copies(self, outlet: str, values: list[int], size: int) -> list[_Member]:
        """The stored articles of other outlets whose text this article's copies or is copied from."""
        candidates = self.bands.candidates(band_keys(values))
        if not candidates:
            return []
        ids = [article_id for article_id, _ in candidates.most_common(MAX_CANDIDATES)]
        rows = self._db.execute(sa.text(f"SELECT {_COLUMNS} FROM story_articles WHERE id IN :ids").bindparams(
            sa.bindparam("ids", expanding=True)), {"ids": ids})
        copies = []
        for member in map(_Member.of, rows):
            if member.outlet == outlet or member.signature is None:
                continue
            similarity = jaccard(values, member.signature)
            contained = containment(similarity, size, member.shingles)
            excerpt = contained >= COPY_CONTAINMENT and min(size, member.shingles) >= MIN_CONTAINED
            if similarity >= COPY_JACCARD or excerpt:
                copies.append(member)
        return copies

    def _similar_story(self, outlet: str, terms: dict[str, float], day: str, values: list[int] | None) -> int | None:
        """The story of the most similar write-up within the window, if it is similar enough."""
        best, score = self._best_writeup(outlet, terms, day, values)
        return best.story_id if best is not None and score >= STORY_SIMILARITY else None

    def _best_writeup(self, outlet: str, terms: dict[str, float], day: str, values: list[int] | None,
                      of_outlet: str = "") -> tuple[_Member | None, float]:
        """The stored write-up within the window whose key terms are most like these (of one outlet, if
        given), and how alike (cosine of the terms weighed by rarity)."""
        if not terms:
            return None, 0.0
        frequencies = self._frequencies(list(terms))
        total = self._articles()
        known = [term for term in terms if frequencies.get(term)]  # a term no article has finds no candidate
        search = sorted(known, key=lambda term: (frequencies[term], -terms[term]))[:SEARCH_TERMS]
        if not search:
            return None, 0.0
        first, last = _shift(day, -STORY_DAYS), _shift(day, STORY_DAYS)
        outlet_filter = ""
        if of_outlet:
            outlet_filter = " AND article_id IN (SELECT id FROM story_articles WHERE outlet = :of_outlet)"
        rows = self._db.execute(sa.text(
            "SELECT article_id, count(*) AS shared FROM story_terms WHERE term IN :terms AND day BETWEEN :first "
            f"AND :last{outlet_filter} GROUP BY article_id ORDER BY shared DESC LIMIT :limit").bindparams(
            sa.bindparam("terms", expanding=True)),
            {"terms": search, "first": first, "last": last, "limit": MAX_CANDIDATES, "of_outlet": of_outlet}).all()
        if not rows:
            return None, 0.0
        members = [_Member.of(row) for row in self._db.execute(sa.text(
            f"SELECT {_COLUMNS} FROM story_articles WHERE id IN :ids").bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": [row[0] for row in rows]})]
        frequencies.update(self._frequencies([term for member in members for term in member.terms
                                              if term not in frequencies]))
        vector = _weighted(terms, frequencies, total)
        best, best_score = None, 0.0
        for member in members:
            if member.outlet == outlet and values is not None and member.signature is not None \
                    and jaccard(values, member.signature) >= SAME_OUTLET_DUPLICATE:
                continue  # the outlet's boilerplate, or the same page twice: not a write-up of an event
            score = _cosine(vector, _weighted(member.terms, frequencies, total))
            if score > best_score:
                best, best_score = member, score
        return best, best_score

    def _frequencies(self, terms: list[str]) -> dict[str, int]:
        if not terms:
            return {}
        rows = self._db.execute(sa.text("SELECT term, articles FROM story_df WHERE term IN :terms").bindparams(
            sa.bindparam("terms", expanding=True)), {"terms": terms})
        return {term: count for term, count in rows}

    def _articles(self) -> int:
        return self._db.execute(sa.text("SELECT count(*) FROM story_articles")).scalar_one()

    def _index_terms(self, article_id: int, terms: dict[str, float], day: str) -> None:
        if not terms:
            return
        self._db.execute(sa.text("INSERT INTO story_terms (term, day, article_id) VALUES (:term, :day, :id)"),
                         [{"term": term, "day": day, "id": article_id} for term in terms])
        self._db.execute(sa.text("INSERT INTO story_df (term, articles) VALUES (:term, 1) "
                                 "ON CONFLICT (term) DO UPDATE SET articles = story_df.articles + 1"),
                         [{"term": term} for term in terms])

    # -- stories and groups

    def _new_story(self, day: str) -> int:
        return self._db.execute(sa.text("INSERT INTO stories (first_day, last_day) VALUES (:day, :day) RETURNING id"),
                                {"day": day}).scalar_one()

    def _extend_story(self, story_id: int, day: str) -> None:
        self._db.execute(sa.text(
            "UPDATE stories SET first_day = CASE WHEN :day < first_day THEN :day ELSE first_day END, "
            "last_day = CASE WHEN :day > last_day THEN :day ELSE last_day END WHERE id = :id"),
            {"day": day, "id": story_id})

    def _merge_stories(self, stories: list[int]) -> int:
        """One story of several (the oldest id stays); their days and members move to it."""
        keep, others = stories[0], stories[1:]
        if others:
            ids = sa.bindparam("ids", expanding=True)
            days = self._db.execute(sa.text("SELECT min(first_day), max(last_day) FROM stories WHERE id IN :ids")
                                    .bindparams(ids), {"ids": stories}).one()
            self._db.execute(sa.text("UPDATE story_articles SET story_id = :keep WHERE story_id IN :ids")
                             .bindparams(ids), {"keep": keep, "ids": others})
            self._db.execute(sa.text("UPDATE stories SET first_day = :first, last_day = :last WHERE id = :keep"),
                             {"first": days[0], "last": days[1], "keep": keep})
            self._db.execute(sa.text("DELETE FROM stories WHERE id IN :ids").bindparams(ids), {"ids": others})
        return keep

    def _new_group(self) -> int:
        return self._db.execute(sa.text(
            "INSERT INTO copy_groups (origin, origin_kind) VALUES ('', 'earliest') RETURNING id")).scalar_one()

    def _merge_groups(self, groups: list[int]) -> int:
        keep, others = groups[0], groups[1:]
        if others:
            ids = sa.bindparam("ids", expanding=True)
            self._db.execute(sa.text("UPDATE story_articles SET copy_group = :keep WHERE copy_group IN :ids")
                             .bindparams(ids), {"keep": keep, "ids": others})
            self._db.execute(sa.text("DELETE FROM copy_groups WHERE id IN :ids").bindparams(ids), {"ids": others})
        return keep

    def _attribute(self, group: int) -> None:
        """The group's origin, and whether each member credits it."""
        members = self._db.execute(sa.text("SELECT id, outlet, site_name, credit, published, day FROM story_articles "
                                           "WHERE copy_group = :group"), {"group": group}).all()
        credited = {row[0]: self._credited_origin(row[3] or "", row[2] or "", row[1]) for row in members}
        named = Counter(origin for origin in credited.values() if origin)
        if named:
            origin = named.most_common(1)[0][0]
            kind = "agency" if agency(origin) == origin else "outlet"
        else:
            earliest = min(members, key=lambda row: (_when(row[4], row[5]), row[0]))
            origin, kind = earliest[1], "earliest"
        self._db.execute(sa.text("UPDATE copy_groups SET origin = :origin, origin_kind = :kind WHERE id = :group"),
                         {"origin": origin, "kind": kind, "group": group})
        for article_id, outlet, *_ in members:
            own = outlet == origin
            self._db.execute(sa.text("UPDATE story_articles SET origin = :origin, credited = :credited WHERE id = :id"),
                             {"origin": "" if own else origin, "credited": not own and credited[article_id] == origin,
                              "id": article_id})

    def _credited_origin(self, credit: str, site_name: str, outlet: str) -> str:
        """Who an article credits: a known agency, or an archived outlet (by the site name its articles carry);
        "" for its own work or a source the archive does not know."""
        credit = credit.strip()
        if not credit or credit.casefold() == site_name.casefold():
            return ""
        if wire := agency(credit):
            return wire
        found = self._db.execute(sa.text("SELECT outlet FROM story_articles WHERE site_name = :name AND outlet <> :own "
                                         "LIMIT 1"), {"name": credit.casefold(), "own": outlet}).first()
        return found[0] if found is not None else ""

    # -- reading

    def membership(self) -> dict[str, Assignment]:
        """Where every article is now (by the record id of its latest version)."""
        rows = self._db.execute(sa.text("SELECT record_id, story_id, copy_group, origin, credited FROM story_articles"))
        return {row[0]: Assignment(row[1], row[2], row[3], bool(row[4])) for row in rows}


def _day(article: StoryArticle) -> str:
    for value in (article.published, article.fetched):
        if value and _DAY.match(value):
            return value[:10]
    return "1970-01-01"


def _shift(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def _when(published: str, day: str) -> datetime:
    """When an article came out, for "published first": its stated time in UTC, else its day."""
    return warc_datetime(published) or warc_datetime(day) or datetime.min.replace(tzinfo=UTC)


def _weighted(terms: dict[str, float], frequencies: dict[str, int], total: int) -> dict[str, float]:
    return {term: weight * math.log(1 + (total + 1) / (1 + frequencies.get(term, 0))) for term, weight in terms.items()}


def _cosine(one: dict[str, float], other: dict[str, float]) -> float:
    shared = one.keys() & other.keys()
    if not shared:
        return 0.0
    dot = sum(one[term] * other[term] for term in shared)
    return dot / (math.sqrt(sum(v * v for v in one.values())) * math.sqrt(sum(v * v for v in other.values())))
