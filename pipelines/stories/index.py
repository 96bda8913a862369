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

import itertools
import json
import logging
import math
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipelines.capture import warc_datetime
from pipelines.catalog import Catalog
from pipelines.extract.syndication import agency
from pipelines.stories import Assignment, StoryArticle
from pipelines.stories.counts import TermCounts
from pipelines.stories.lsh import (
    BUCKET_CAP,
    BandStore,
    MemoryBands,
    RedisBands,
    band_key_matrix,
    band_keys,
    containment,
    jaccards,
    pack,
    signature,
    signature_matrix,
    unpack,
)
from pipelines.stories.postings import DayPostings
from pipelines.stories.sql import Driver
from pipelines.stories.text import key_terms, shingles

#: A candidate is a copy when the texts' Jaccard similarity reaches this...
COPY_JACCARD = 0.5
#: ...or when this share of the smaller text is in the larger (an excerpt, a trimmed copy)...
COPY_CONTAINMENT = 0.5
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
SEARCH_TERMS, MAX_CANDIDATES, WRITEUP_CANDIDATES = 8, 60, 10
#: Articles looked at per search term: the latest in the window that have it (a term a thousand pages share
#: that day, an outlet's boilerplate or a big event's word, costs no more than a rare one).
POSTINGS = 200
#: Terms whose article counts a process keeps in memory (beyond, it forgets them and reads them again).
FREQUENCY_CACHE = 500_000
#: Index rows (band entries count 32 each) assignment holds back before writing them together: each write sorts
#: and upserts the term counts and copies the memory index's smaller sorted run once, so the fewer the cheaper (a
#: replay's batch of 500 articles is one write: 56 µs an article, against 89 at 20,000 rows, measured).
FLUSH_ROWS = 100_000
#: SQLite's page cache on a connection assigning stories (KiB; its default is 2 MiB).
SQLITE_CACHE_KIB = 65_536
#: Stored signatures read at a time into the memory LSH index.
CATCH_UP_ROWS = 50_000
#: The memory LSH index is saved in a file (beside a SQLite catalog: ``catalog.sqlite.lsh``) when it holds this
#: many articles and new versions more than the file, for the next process to open instead of building it from
#: every stored signature (each scheduled crawl is a process of its own: at 1,000,000 articles, 23 s and
#: 2.5 GB of peak memory to build, measured); those stored after the file's are taken in as before.
SNAPSHOT_ARTICLES = 10_000
#: Ids skipped by other processes' transactions (PostgreSQL) looked for again, at most.
MAX_HOLES = 1_000
#: Full LSH buckets a process keeps in memory (BUCKET_CAP ids each).
FULL_BUCKETS = 10_000
#: Articles whose texts a process keeps in memory (about 3 kB each).
MEMBER_CACHE = 20_000
#: Near-identical texts of one outlet: boilerplate or the same page twice, never joined into a story...
SAME_OUTLET_DUPLICATE = 0.8
#: ...and a text on this many of the outlet's pages already is its boilerplate: no story is looked for.
BOILERPLATE_PAGES = 3
logger = logging.getLogger(__name__)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
#: The days an article may be placed on: the story window around each stays within the calendar.
_FIRST_DAY, _LAST_DAY = date.min + timedelta(days=STORY_DAYS), date.max - timedelta(days=STORY_DAYS)
#: The name of a catalog's story index among the writers attached to it.
ATTACHED = "stories"


@dataclass(frozen=True)
class StoryFeatures:
    """What assignment compares of an article, computed from its text alone: so replay computes it where it
    extracts (in worker processes), and the catalog's side only compares."""

    signature: bytes | None  # MinHash of its shingles (lsh.pack); None when too short to compare as a copy
    shingles: int
    terms: dict[str, float]
    bands: list[int]  # the signature's LSH band keys (lsh.band_keys; []: no signature), computed with the rest
    terms_json: str  # the terms as the catalog keeps them

    @classmethod
    def of(cls, title: str, standfirst: str, body: str) -> StoryFeatures:
        found = shingles(standfirst, body)
        values = signature(found) if found else None
        terms = key_terms(title, standfirst, body)
        return cls(pack(values) if values else None, len(found), terms, band_keys(values) if values else [],
                   json.dumps(terms, sort_keys=True))


@dataclass(frozen=True, slots=True)
class _Member:
    """A stored article's text, as assignment compares it (its site name case-folded: what credits are matched
    with). Only a new version of the article changes it; where the article is (its copy group and story) is
    read when it matters (:meth:`StoryIndex._placements`), as merges move many articles at once."""

    id: int
    outlet: str
    site_name: str
    credit: str
    published: str
    day: str
    shingles: int
    packed: bytes | None  # its MinHash signature (lsh.pack)
    terms: dict[str, float]
    numbers: np.ndarray  # the terms' numbers in the process's TermCounts, in their order...
    weights: np.ndarray  # ...and their weights (what cosines multiply)

    @classmethod
    def of(cls, row: tuple, counts: TermCounts) -> _Member:
        """From a row of ``_COLUMNS``."""
        article_id, outlet, site_name, credit, published, day, shingle_count, packed, terms = row
        return cls.holding(article_id, outlet, site_name or "", credit or "", published or "", day, shingle_count,
                           bytes(packed) if packed else None, _interned(json.loads(terms)), counts)

    @classmethod
    def holding(cls, article_id: int, outlet: str, site_name: str, credit: str, published: str, day: str,
                shingles: int, packed: bytes | None, terms: dict[str, float], counts: TermCounts) -> _Member:
        return cls(article_id, outlet, site_name, credit, published, day, shingles, packed, terms,
                   counts.numbers(list(terms)), np.fromiter(terms.values(), np.float64, len(terms)))


@dataclass(frozen=True, slots=True)
class _Watermark:
    """The rows of a table (by id) a process has taken in: every one up to ``highest`` but the ``holes``, ids
    skipped below it that are looked for again (on PostgreSQL a transaction takes ids as it inserts and its rows
    appear when it commits, maybe after a later one's)."""

    highest: int = 0
    holes: tuple[int, ...] = ()

    def after(self, ids: list[int], holes_possible: bool) -> _Watermark:
        """This one with these rows taken in (ascending ids)."""
        highest = max(self.highest, ids[-1])
        if not holes_possible:
            return _Watermark(highest)
        found = set(ids)
        skipped = (row_id for row_id in range(highest, self.highest, -1) if row_id not in found)
        return _Watermark(highest, tuple(sorted({*(row_id for row_id in self.holes if row_id not in found),
                                                 *itertools.islice(skipped, MAX_HOLES)})[-MAX_HOLES:]))


_COLUMNS = "id, outlet, site_name, credit, published, day, shingles, signature, terms"
#: The statements assignment runs (see pipelines.stories.sql).
_SQL = {
    "member": f"SELECT {_COLUMNS}, copy_group, story_id FROM story_articles WHERE outlet = :outlet "
              "AND url_key = :url_key",
    "placements": "SELECT id, copy_group, story_id FROM story_articles WHERE id IN :ids",
    "crediting": "SELECT id FROM story_articles WHERE credit = :name AND copy_group IS NULL "
                 "AND day BETWEEN :first AND :last AND outlet <> :outlet ORDER BY id DESC LIMIT :limit",
    "members": f"SELECT {_COLUMNS} FROM story_articles WHERE id IN :ids",
    "frequencies": "SELECT term, articles FROM story_df WHERE term IN :terms",
    "credited_outlet": "SELECT outlet FROM story_articles WHERE site_name = :name AND outlet <> :own LIMIT 1",
    "new_story": "INSERT INTO stories (first_day, last_day) VALUES (:day, :day) RETURNING id",
    "extend_story": "UPDATE stories SET first_day = CASE WHEN :day < first_day THEN :day ELSE first_day END, "
                    "last_day = CASE WHEN :day > last_day THEN :day ELSE last_day END WHERE id = :id",
    "story_days": "SELECT min(first_day), max(last_day) FROM stories WHERE id IN :ids",
    "move_story": "UPDATE story_articles SET story_id = :keep WHERE story_id IN :ids",
    "set_days": "UPDATE stories SET first_day = :first, last_day = :last WHERE id = :keep",
    "drop_stories": "DELETE FROM stories WHERE id IN :ids",
    "new_group": "INSERT INTO copy_groups (origin, origin_kind) VALUES ('', 'earliest') RETURNING id",
    "move_group": "UPDATE story_articles SET copy_group = :keep WHERE copy_group IN :ids",
    "drop_groups": "DELETE FROM copy_groups WHERE id IN :ids",
    "join_group": "UPDATE story_articles SET copy_group = :group WHERE id IN :ids",
    "group_members": "SELECT id, outlet, site_name, credit, published, day FROM story_articles "
                     "WHERE copy_group = :group",
    "group_origin": "UPDATE copy_groups SET origin = :origin, origin_kind = :kind WHERE id = :group",
    "member_origin": "UPDATE story_articles SET origin = :origin, credited = :credited WHERE id = :id",
    "count_terms": "INSERT INTO story_df (term, articles) VALUES (:term, :change) ON CONFLICT (term) "
                   "DO UPDATE SET articles = story_df.articles + excluded.articles",
    "last_id": "SELECT max(id) FROM story_articles",
    "day_terms": "SELECT id, outlet, terms FROM story_articles WHERE day = :day ORDER BY id",
    "membership": "SELECT record_id, story_id, copy_group, origin, credited FROM story_articles",
    "setting": "SELECT value FROM story_settings WHERE name = :name",
    "set_setting": "INSERT INTO story_settings (name, value) VALUES (:name, :value) ON CONFLICT (name) "
                   "DO UPDATE SET value = excluded.value",
    "log_version": "INSERT INTO story_versions (article_id, signature) VALUES (:id, :signature) RETURNING id",
    "version_of": "SELECT article_id FROM story_versions WHERE id = :id",
    "version_ids": "SELECT id FROM story_versions ORDER BY id",
    "versions": "SELECT v.id, v.article_id, v.signature, a.signature FROM story_versions v JOIN story_articles a "
                "ON a.id = v.article_id WHERE v.id > :after ORDER BY v.id",
    "versions_or_holes": "SELECT v.id, v.article_id, v.signature, a.signature FROM story_versions v "
                         "JOIN story_articles a ON a.id = v.article_id WHERE v.id > :after OR v.id IN :holes "
                         "ORDER BY v.id",
    "signatures": "SELECT id, signature, day, outlet, terms FROM story_articles WHERE id > :after ORDER BY id "
                  "LIMIT :limit",
    # (apart: with the OR, SQLite reads the whole table)
    "signatures_or_holes": "SELECT id, signature, day, outlet, terms FROM story_articles "
                           "WHERE id > :after OR id IN :holes ORDER BY id LIMIT :limit",
}
#: story_df's row counting the articles themselves (no key term is empty).
_ARTICLES = ""


class StoryIndex:
    """Story assignment over one catalog (and its LSH index: the catalog's, or Redis).

    It holds index rows back and writes them together (see :meth:`add`): use one per catalog connection,
    :meth:`of`, which the catalog asks to write them before each commit.
    """

    def __init__(self, catalog: Catalog, bands: BandStore | None = None, snapshots: Path | None = None) -> None:
        self.catalog = catalog
        self._sql = Driver(catalog.connection)
        if not self._sql.pyformat:  # SQLite: term counts and the articles' indexes are written at random places
            self._sql.run(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")  # (64 MiB of pages: SQL time -25%, measured)
        self.bands = bands or MemoryBands()
        catalog.before_commit.append(self._committing)
        catalog.after_rollback.append(self._rolled_back)
        catalog.on_close.append(self._save_if_due)
        # The file the memory LSH index is saved in (see of()), named by the catalog's index id, and the articles
        # and new versions it holds.
        self._index_id = self._sql.value(_SQL["setting"], {"name": "index_id"})
        self._snapshot = self._snapshot_path(snapshots) if isinstance(self.bands, MemoryBands) else None
        self._snapshot_holds = (0, 0)
        # The memory indexes' view of the catalog: the articles they hold, the new versions of articles taken in
        # (story_versions: the old text's bands out, the new one's in), and what this transaction added, undone
        # on rollback.
        self._seen, self._versions = _Watermark(), _Watermark()
        self._in_transaction = False
        self._begun_at = (self._seen, self._versions)
        self._uncommitted: list[tuple[int, tuple[int, ...]]] = []
        # What assignment wrote but has not yet put in the index and the catalog (written together by flush();
        # read through, so each article sees every one before it): band entries and term counts.
        self._bands: list[tuple[int, tuple[int, ...]]] = []
        # (tuples: once the collector finds they hold only numbers, it stops tracking them, where 32 lists an
        # article held until the flush made the full collections several times as frequent)
        self._band_overlay: dict[int, tuple[int, ...]] = {}
        self._counts: Counter[str] = Counter()
        # How many articles have each key term, as this process last read or wrote it (the batch's articles
        # counted): a term weighs by its rarity, which another process's few articles meanwhile barely change.
        self._term_counts = TermCounts(lambda terms: self._sql.rows(_SQL["frequencies"], {"terms": terms}))
        # The texts of the articles last stored or read (the candidates of the next ones, published around
        # the same days), oldest first.
        self._member_cache: dict[int, _Member] = {}
        # The LSH buckets found full: they take no more articles, so what they hold is read once (a text many
        # pages repeat, an outlet's boilerplate, then costs no query).
        self._full_buckets: dict[int, list[int]] = {}
        # Which articles of a day have each key term, for the days looked at last.
        self._postings = DayPostings(lambda day: self._sql.rows(_SQL["day_terms"], {"day": day}))

    @classmethod
    def of(cls, catalog: Catalog, redis_url: str = "", snapshots: Path | None = None) -> StoryIndex:
        """The catalog connection's story index; its LSH index in Redis with ``redis_url`` (shared by every
        worker of the catalog, under the catalog's own name: a rebuilt catalog starts an index of its own).

        Without Redis, the LSH index in memory is saved for the next process to open (see
        :data:`SNAPSHOT_ARTICLES`): beside a SQLite catalog, and in the folder ``snapshots`` (the archive's
        root: each machine has its own) for a server's catalog.

        An LSH index kept elsewhere before (``REDIS_URL`` set or unset since) is rebuilt where it is now,
        from the signatures the catalog keeps.
        """
        index = catalog.attached.get(ATTACHED)
        if index is None:
            sql = Driver(catalog.connection)
            bands: BandStore | None = None
            where = "memory"
            if redis_url:
                name = sql.value(_SQL["setting"], {"name": "index_id"})
                redis_bands = RedisBands.connect(redis_url, f"newsarchive:stories:{name}")
                bands, where = redis_bands, redis_bands.location
            index = catalog.attached[ATTACHED] = cls(catalog, bands, snapshots)
            index._open_snapshot()
            index._catch_up()  # a read: the other writers go on while a large archive's index is built
            catalog.commit()
            catalog.begin_write()
            if (sql.value(_SQL["setting"], {"name": "bands"}) or "memory") != where:
                if redis_url:
                    index._reindex(where)
                index._sql.run(_SQL["set_setting"], {"name": "bands", "value": where})
            catalog.commit()
            index._save_if_due()
        return index

    def _snapshot_path(self, folder: Path | None) -> Path | None:
        """Where the memory LSH index is saved: beside a SQLite catalog (``catalog.sqlite.lsh``), or for a
        server's catalog in ``folder``, under the name of the catalog's index (none without a folder)."""
        url = self.catalog.engine.url
        if url.get_backend_name() == "sqlite":
            if not url.database or url.database == ":memory:":
                return None
            path = Path(url.database)
            return path.with_name(f"{path.name}.lsh")
        if folder is None:
            return None
        return folder / f"stories-{self._index_id}.lsh"

    def _open_snapshot(self) -> None:
        """Start from the saved LSH index (if any) if it is this catalog's, as it was up to an article id and a
        new version (and the ids skipped below them, looked for again)."""
        path = self._snapshot
        opened = MemoryBands.open(path) if path is not None else None
        if opened is None:
            return
        bands, about = opened
        seen, versions = _saved_watermark(about, "seen"), _saved_watermark(about, "versions")
        if about.get("index_id") != self._index_id or seen is None \
                or not 0 < seen.highest <= (self._sql.value(_SQL["last_id"]) or 0) or versions is None \
                or about.get("version_of") != self._version_of(versions.highest):
            logger.info("Story index: %s is not this catalog's LSH index (another catalog's, or a newer one's): "
                        "it is built again", path)
            return
        self.bands, self._snapshot_holds = bands, (seen.highest, versions.highest)
        self._seen, self._versions = seen, versions
        logger.info("Story index: the LSH bands of the articles up to id %d opened from %s", seen.highest, path)

    def _save_if_due(self) -> None:
        """Save the memory LSH index (see :data:`SNAPSHOT_ARTICLES`), between transactions: it holds every article
        and new version up to the ids it has seen, but the ids skipped below them (PostgreSQL), saved with it."""
        held_seen, held_versions = self._snapshot_holds
        seen, versions = self._seen, self._versions
        if self._snapshot is None or self._in_transaction or \
                seen.highest - held_seen + versions.highest - held_versions < SNAPSHOT_ARTICLES:
            return
        started = time.perf_counter()
        about = {"index_id": self._index_id, "seen": seen.highest, "seen_holes": list(seen.holes),
                 "versions": versions.highest, "versions_holes": list(versions.holes),
                 "version_of": self._version_of(versions.highest)}
        try:
            self.bands.save(self._snapshot, about)
        except OSError as error:
            logger.warning("Story index: LSH index not saved to %s (%s)", self._snapshot, error)
            return
        self._snapshot_holds = (seen.highest, versions.highest)
        logger.info("Story index: the LSH bands of the articles up to id %d saved to %s in %.1f s",
                    seen.highest, self._snapshot, time.perf_counter() - started)

    def _version_of(self, version_id: int) -> int | None:
        """The article of a new version in the log (None for none): what a saved index records of its last one,
        so that a log of versions begun again since does not match it."""
        return self._sql.value(_SQL["version_of"], {"id": version_id}) if version_id else None

    def _reindex(self, where: str) -> None:
        """Put every stored signature's bands in Redis (the index was kept elsewhere until now)."""
        self.bands.clear()
        moved, after, sizes = 0, 0, Counter[int]()
        while rows := self._sql.rows(_SQL["signatures"], {"after": after, "limit": 5000}):
            entries = []
            for article_id, packed, *_ in rows:
                if packed is not None:
                    room = [key for key in band_keys(unpack(bytes(packed))) if sizes[key] < BUCKET_CAP]
                    sizes.update(room)
                    entries.append((article_id, room))
                    moved += 1
            self.bands.add(entries)
            after = rows[-1][0]
        logger.info("Story index: the LSH bands of %d articles rebuilt in %s", moved, where)

    def _catch_up(self) -> None:
        """Bring what this process holds in memory up to the catalog: the articles stored since it last looked
        (by other processes, or all of them when it starts) go into the LSH index (unless it is in Redis) and the
        key-term postings of their days, if those are in memory. At the start of each transaction, as a writer
        (SQLite: no other writes meanwhile)."""
        in_memory = isinstance(self.bands, MemoryBands)
        building = not self._seen.highest
        if building:  # the new versions recorded from here on are taken in next (the build is a read)
            if logged := [row[0] for row in self._sql.rows(_SQL["version_ids"])]:
                self._versions = self._versions.after(logged, self._sql.pyformat)
        if not in_memory and building:  # starting, with nothing in memory the stored articles go in
            self._seen = _Watermark(self._sql.value(_SQL["last_id"]) or 0)
            return
        ids, keys = [], []
        while rows := self._sql.rows(_SQL["signatures_or_holes" if self._seen.holes else "signatures"],
                                     {"after": self._seen.highest, "holes": self._seen.holes,
                                      "limit": CATCH_UP_ROWS}):
            self._seen = self._seen.after([row[0] for row in rows], self._sql.pyformat)
            for article_id, _, day, outlet, terms in rows:
                if self._postings.holds(day):
                    self._postings.add(article_id, outlet, day, json.loads(terms))
            signed = [(article_id, bytes(packed)) for article_id, packed, *_ in rows
                      if packed is not None and in_memory]
            if signed:  # (the signatures dropped as read: their bands are a sixteenth of their size)
                ids.append(np.array([article_id for article_id, _ in signed], np.int64))
                keys.append(band_key_matrix(signature_matrix([packed for _, packed in signed])))
            if len(rows) < CATCH_UP_ROWS:
                break
        found = sum(map(len, ids))
        if found:  # put in together, each bucket's first articles kept
            self.bands.load(np.concatenate(ids), np.concatenate(keys))
        if building and found:
            logger.info("Story index: the LSH bands of %d articles built in memory (%.0f MiB)", found,
                        self.bands.nbytes / 2**20)
        self._take_versions(in_memory)

    def _take_versions(self, in_memory: bool) -> None:
        """The new versions other processes recorded since this one last looked: their latest texts and key terms
        read when next compared, and, in the memory LSH index, their old texts' bands out and their latest texts'
        in. Each article's bands are set anew (what it held taken out first), so a version whose article was read
        with its new text already changes nothing."""
        rows = self._sql.rows(_SQL["versions_or_holes" if self._versions.holes else "versions"],
                              {"after": self._versions.highest, "holes": self._versions.holes})
        if not rows:
            return
        self._versions = self._versions.after([row[0] for row in rows], self._sql.pyformat)
        # (the days in memory post the articles' old key terms, maybe on another day: they are read again when
        # looked at, as new versions are few)
        self._postings.clear()
        seen, latest = self._seen, {}
        for _, article_id, old, new in rows:
            self._member_cache.pop(article_id, None)  # (its text as read before)
            # (the articles not taken in yet come in with their latest text)
            if in_memory and article_id <= seen.highest and article_id not in seen.holes:
                if old is not None:
                    self.bands.remove(article_id, band_keys(unpack(bytes(old))))
                latest[article_id] = new
        for article_id, new in latest.items():
            if new is not None:
                keys = band_keys(unpack(bytes(new)))
                self.bands.remove(article_id, keys)
                buckets = self.bands.buckets(keys)
                self.bands.add([(article_id, [key for key in keys if len(buckets.get(key, ())) < BUCKET_CAP])])

    # -- assignment

    def add(self, article: StoryArticle, commit: bool = True, features: StoryFeatures | None = None) -> Assignment:
        """Assign the article (a new one, or a new version of one already assigned) and return where it went.

        ``features``: the article's, if computed already (:meth:`StoryFeatures.of`).

        ``commit=False``: the caller commits the catalog, after :meth:`flush` (a batch: the index rows of
        the articles added are written together, :data:`FLUSH_ROWS` at most at a time).
        """
        self.catalog.begin_write()
        try:
            if not self._in_transaction:  # what other processes stored meanwhile
                self._in_transaction, self._begun_at = True, (self._seen, self._versions)
                self._catch_up()
            features = features or StoryFeatures.of(article.title, article.standfirst, article.body)
            assignment = self._add(article, features)
            if commit or len(self._counts) + len(self._bands) * 32 >= FLUSH_ROWS:
                self.flush()
        except BaseException:
            self._rolled_back()
            self.catalog.rollback()
            raise
        if commit:
            self.catalog.commit()
        return assignment

    def flush(self) -> None:
        """Write what the articles added since the last flush put in the indexes."""
        if self._bands:
            self.bands.add(self._bands)
            if isinstance(self.bands, MemoryBands):
                self._uncommitted += self._bands
        pending = self._counts  # (in the terms' order: concurrent writers of the counts lock them in one order)
        counts = [(term, pending[term]) for term in sorted(pending) if pending[term]]
        if counts:
            self._sql.run(_SQL["count_terms"], counts)
        self._discard()

    def _committing(self) -> None:
        self.flush()
        self._in_transaction, self._uncommitted = False, []

    def _rolled_back(self) -> None:
        """Forget what the transaction wrote (the ids of articles it stored may be given again)."""
        self._discard()
        self._member_cache.clear()  # (and the numbers of their terms:)
        self._term_counts.clear()  # counts of articles the transaction added
        self._postings.clear()  # days read or added to in the transaction
        for article_id, keys in self._uncommitted:
            self.bands.remove(article_id, keys)
        if self._in_transaction:
            self._seen, self._versions = self._begun_at
        self._in_transaction, self._uncommitted = False, []

    def _discard(self) -> None:
        self._bands, self._band_overlay = [], {}
        self._counts = Counter()

    def _add(self, article: StoryArticle, features: StoryFeatures) -> Assignment:
        packed, size, terms = features.signature, features.shingles, _interned(features.terms)
        if len(self._term_counts) > FREQUENCY_CACHE:  # (here: an article's counts stay while it is assigned)
            self._term_counts.clear()
            self._member_cache.clear()  # (their terms' numbers are forgotten)
        day = _day(article)
        previous = self._sql.first(_SQL["member"], {"outlet": article.outlet, "url_key": article.url_key})
        member = _Member.of(previous[:-2], self._term_counts) if previous is not None else None
        if member is not None:  # a new version: the same member, its text compared anew
            self.flush()
            self._forget(member)
            logged = self._sql.value(_SQL["log_version"], {"id": member.id, "signature": member.packed})
            self._versions = self._versions.after([logged], self._sql.pyformat)
        keys = features.bands
        sketch = np.frombuffer(packed, np.uint32) if packed else None  # compared with candidates' in C
        copies, room, repeats = self._copies(article.outlet, sketch, size, keys) if sketch is not None else ([], (), 0)
        credited = self._credited_origin(article.source, article.site_name, article.outlet)
        frequencies = self._frequencies([*terms, _ARTICLES])
        if credited and not agency(credited) and all(copy.outlet != credited for copy in copies):
            # a rewrite that credits an archived outlet: a copy of that outlet's write-up of the event, if any
            writeups = self._writeups(terms, frequencies, day, of_outlet=credited)
            source, score = self._best_writeup(article.outlet, terms, sketch, writeups)
            if source is not None and score >= CREDITED_COPY_SIMILARITY:
                copies.append(source)
        copies += self._crediting(article.outlet, article.site_name, terms, day, copies)
        placements = list(self._placements([copy.id for copy in copies]).values())
        if previous is not None:
            placements.append(previous[-2:])
        groups = sorted({group for group, _ in placements if group is not None})
        stories = sorted({story for _, story in placements})
        if not stories and repeats < BOILERPLATE_PAGES:  # a text its outlet repeats is no write-up of an event
            writeups = self._writeups(terms, frequencies, day)
            found = self._term_copies(article.outlet, sketch, size, writeups)
            best, score = self._best_writeup(article.outlet, terms, sketch, writeups)
            if found:  # copies after all
                copies += found
                placed = self._placements([copy.id for copy in found]).values()
                groups = sorted({group for group, _ in placed if group is not None})
                stories = sorted({story for _, story in placed})
            elif best is not None and score >= STORY_SIMILARITY:
                stories = [story for _, story in self._placements([best.id]).values()]
        if stories:
            story_id = self._merge_stories(stories)
            self._sql.run(_SQL["extend_story"], {"day": day, "id": story_id})
        else:
            story_id = self._sql.value(_SQL["new_story"], {"day": day})
        group = self._merge_groups(groups) if groups else (self._sql.value(_SQL["new_group"])
                                                           if copies else None)
        row = {"outlet": article.outlet, "url_key": article.url_key, "record_id": article.record_id,
               "url": article.url, "title": article.title, "published": article.published, "day": day,
               "site_name": article.site_name.casefold(), "credit": article.source.strip().casefold(),
               "shingles": size,
               "signature": packed, "terms": features.terms_json,
               "copy_group": group, "story_id": story_id, "origin": credited, "credited": bool(credited)}
        if member is None:
            article_id = self._sql.value(_INSERT_ARTICLE, row)
            self._seen = self._seen.after([article_id], self._sql.pyformat)
        else:
            article_id = member.id
            self._sql.run(_UPDATE_ARTICLE, {**row, "id": article_id})
        stored = _Member.holding(article_id, article.outlet, row["site_name"], row["credit"], article.published, day,
                                 size, row["signature"], terms, self._term_counts)
        self._remember(stored)
        if copies and group is not None:
            self._sql.run(_SQL["join_group"], {"group": group, "ids": [copy.id for copy in copies]})
        if room:
            self._bands.append((article_id, room))
            overlay = self._band_overlay
            for key in room:
                overlay[key] = overlay.get(key, ()) + (article_id,)
        self._index_terms(stored, new=member is None)
        origin, is_credited = self._attribute(group, article_id) if group is not None else (credited, bool(credited))
        return Assignment(story_id, group, origin, is_credited)

    def _forget(self, member: _Member) -> None:
        """Take a member's old text out of the indexes (its new version goes in)."""
        if member.packed is not None:
            self.bands.remove(member.id, band_keys(unpack(member.packed)))
        if member.terms:
            self._sql.run(_SQL["count_terms"], [{"term": term, "change": -1} for term in member.terms])
            self._term_counts.add(member.numbers, -1)
            self._postings.remove(member.id, member.day, member.terms)

    def _copies(self, outlet: str, values: np.ndarray, size: int,
                 keys: list[int]) -> tuple[list[_Member], tuple[int, ...], int]:
        """The stored articles of other outlets whose text this article's copies or is copied from, the
        article's band keys whose buckets have room for it (:data:`BUCKET_CAP`), and how many pages of its own
        outlet have nearly its text."""
        full, overlay = self._full_buckets, self._band_overlay
        buckets = self.bands.buckets([key for key in keys if key not in full])
        # (most keys are in no bucket: they have room, and only the others are looked at one by one)
        busy = buckets.keys() | (full.keys() & keys) | (overlay.keys() & keys)
        met: list[int] = []
        crowded = set()
        for key in [key for key in keys if key in busy] if busy else ():
            stored, pending = full.get(key) or buckets.get(key, ()), overlay.get(key, ())
            met += stored
            met += pending
            if len(stored) >= BUCKET_CAP and key not in full:
                if len(full) >= FULL_BUCKETS:
                    full.clear()
                full[key] = stored
            if len(stored) + len(pending) >= BUCKET_CAP:
                crowded.add(key)
        room = tuple(key for key in keys if key not in crowded) if crowded else tuple(keys)
        hits = Counter(met)
        members = [member for member in self._members([article_id for article_id, _ in
                                                       hits.most_common(MAX_CANDIDATES)]) if member.packed is not None]
        copies, repeats = [], 0
        for member, similarity in zip(members, jaccards(values, [member.packed for member in members]), strict=True):
            if member.outlet == outlet:
                repeats += similarity >= SAME_OUTLET_DUPLICATE
                continue
            if _copied(similarity, size, member.shingles):
                copies.append(member)
        return copies, room, repeats

    def _members(self, ids: list[int]) -> list[_Member]:
        """The texts of these stored articles (those not in memory read in one query)."""
        cache = self._member_cache
        missing = [article_id for article_id in ids if article_id not in cache]
        if missing:
            for row in self._sql.rows(_SQL["members"], {"ids": missing}):
                self._remember(_Member.of(row, self._term_counts))
        return [cache[article_id] for article_id in ids if article_id in cache]

    def _remember(self, member: _Member) -> None:
        cache = self._member_cache
        cache.pop(member.id, None)
        cache[member.id] = member
        if len(cache) > MEMBER_CACHE:
            for article_id in list(itertools.islice(cache, MEMBER_CACHE // 10)):
                del cache[article_id]

    def _placements(self, ids: list[int]) -> dict[int, tuple[int | None, int]]:
        """Where these articles are now: their (copy group, story) by id."""
        return {row[0]: row[1:] for row in self._sql.rows(_SQL["placements"], {"ids": ids})} if ids else {}

    def _writeups(self, terms: dict[str, float], frequencies: dict[str, int], day: str,
                  of_outlet: str = "") -> list[_Member]:
        """The stored write-ups within the window sharing most of these key terms' rarest (of one outlet, if
        given)."""
        known = [term for term in terms if frequencies.get(term)]  # a term no article has finds no candidate
        search = sorted(known, key=lambda term: (frequencies[term], -terms[term]))[:SEARCH_TERMS]
        if not search:
            return []
        days = [_shift(day, offset) for offset in range(STORY_DAYS, -STORY_DAYS - 1, -1)]  # the latest first
        shared: Counter[int] = Counter()
        for term in search:
            shared.update(self._postings.latest(term, days, POSTINGS, of_outlet))
        ranked = sorted(shared.items(), key=lambda item: (-item[1], item[0]))[:WRITEUP_CANDIDATES]
        return self._members([article_id for article_id, _ in ranked])

    def _best_writeup(self, outlet: str, terms: dict[str, float], values: np.ndarray | None,
                      members: list[_Member]) -> tuple[_Member | None, float]:
        """The write-up among ``members`` whose key terms are most like these, and how alike (cosine of the
        terms weighed by rarity)."""
        if not members:
            return None, 0.0
        best, best_score = None, 0.0
        for member, score in zip(members, self._similarities(terms, members), strict=True):
            if member.outlet == outlet and values is not None and member.packed is not None \
                    and jaccards(values, [member.packed])[0] >= SAME_OUTLET_DUPLICATE:
                continue  # the outlet's boilerplate, or the same page twice: not a write-up of an event
            if score > best_score:
                best, best_score = member, score
        return best, best_score

    def _term_copies(self, outlet: str, values: np.ndarray | None, size: int, members: list[_Member]) -> list[_Member]:
        """The copies among write-ups found by their key terms: the LSH index misses some pairs sharing a
        quarter of their text or less (an excerpt with an outlet's own lines around it)."""
        if values is None:
            return []
        others = [member for member in members if member.outlet != outlet and member.packed is not None]
        return [member for member, similarity in zip(others, jaccards(values, [member.packed for member in others]),
                                                     strict=True) if _copied(similarity, size, member.shingles)]

    def _similarities(self, terms: dict[str, float], members: list[_Member]) -> list[float]:
        """How alike each member's key terms are to these: the cosine of the terms weighed by their rarity."""
        if not members:
            return []
        # (for every article, ten candidates of 24 terms: one pass over all their terms at once, in C, by number;
        # each sum adds the same products in the same order as one term at a time would)
        counts = self._term_counts
        query = counts.numbers([*terms, _ARTICLES])
        held = np.concatenate([member.numbers for member in members])
        found = counts.counts(np.concatenate([query, held]), self._counts)
        rarity = np.log(1 + (found[len(terms)] + 1) / (1 + found))
        vector = np.fromiter(terms.values(), np.float64, len(terms)) * rarity[:len(terms)]
        norm = math.sqrt(sum(value * value for value in vector.tolist()))
        values = np.concatenate([member.weights for member in members]) * rarity[len(query):]
        scratch = counts.scratch  # the query's value of each of its terms, by number (0.0: a term not shared)
        scratch[query[:-1]] = vector
        shared = scratch[held]
        scratch[query[:-1]] = 0.0
        owner = np.repeat(np.arange(len(members)), [len(member.numbers) for member in members])
        dots = np.bincount(owner, values * shared, len(members))
        lengths = np.sqrt(np.bincount(owner, values * values, len(members)))
        return np.divide(dots, norm * lengths, out=np.zeros(len(members)), where=dots != 0).tolist()

    def _crediting(self, outlet: str, site_name: str, terms: dict[str, float], day: str,
                   copies: list[_Member]) -> list[_Member]:
        """Rewrites stored before this article that credit its outlet and are of its event (as alike as
        :data:`CREDITED_COPY_SIMILARITY`) but are nobody's copy yet: they copy this article (the outlets' pages
        seldom arrive in publication order)."""
        name = site_name.strip().casefold()
        if not name:
            return []
        parameters = {"name": name, "outlet": outlet, "first": _shift(day, -STORY_DAYS),
                      "last": _shift(day, STORY_DAYS), "limit": MAX_CANDIDATES}
        known = {copy.id for copy in copies}
        candidates = self._members([row[0] for row in self._sql.rows(_SQL["crediting"], parameters)
                                    if row[0] not in known])
        return [member for member, score in zip(candidates, self._similarities(terms, candidates),
                                                strict=True) if score >= CREDITED_COPY_SIMILARITY]

    def _frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many articles have each term (``_ARTICLES``: how many articles there are), pending ones included."""
        return dict(zip(terms, self._term_counts.counts(self._term_counts.numbers(terms), self._counts).tolist(),
                        strict=True))

    def _index_terms(self, member: _Member, new: bool) -> None:
        """Count and post a stored article's key terms (numbered already: see _Member.holding)."""
        self._postings.add(member.id, member.outlet, member.day, member.terms)
        counted, numbers = list(member.terms), member.numbers
        if new:
            counted.append(_ARTICLES)
            numbers = np.append(numbers, self._term_counts.numbers([_ARTICLES]))
        self._counts.update(counted)  # written by flush()
        self._term_counts.add(numbers, 1)

    # -- stories and groups

    def _merge_stories(self, stories: list[int]) -> int:
        """One story of several (the oldest id stays); their days and members move to it."""
        keep, others = stories[0], stories[1:]
        if others:
            first, last = self._sql.first(_SQL["story_days"], {"ids": stories})
            self._sql.run(_SQL["move_story"], {"keep": keep, "ids": others})
            self._sql.run(_SQL["set_days"], {"first": first, "last": last, "keep": keep})
            self._sql.run(_SQL["drop_stories"], {"ids": others})
        return keep

    def _merge_groups(self, groups: list[int]) -> int:
        keep, others = groups[0], groups[1:]
        if others:
            self._sql.run(_SQL["move_group"], {"keep": keep, "ids": others})
            self._sql.run(_SQL["drop_groups"], {"ids": others})
        return keep

    def _attribute(self, group: int, article_id: int) -> tuple[str, bool]:
        """The group's origin, and whether each member credits it; returns the article's (origin, credited)."""
        members = self._sql.rows(_SQL["group_members"], {"group": group})
        credited = {row[0]: self._credited_origin(row[3] or "", row[2] or "", row[1]) for row in members}
        named = Counter(origin for origin in credited.values() if origin)
        if named:
            origin = named.most_common(1)[0][0]
            kind = "agency" if agency(origin) == origin else "outlet"
        else:
            earliest = min(members, key=lambda row: (_when(row[4], row[5]), row[0]))
            origin, kind = earliest[1], "earliest"
        self._sql.run(_SQL["group_origin"], {"origin": origin, "kind": kind, "group": group})
        decided = {}
        for member_id, outlet, *_ in members:
            own = outlet == origin
            decided[member_id] = ("" if own else origin, not own and credited[member_id] == origin)
        self._sql.run(_SQL["member_origin"], [{"id": member_id, "origin": origin_of, "credited": is_credited}
                                                 for member_id, (origin_of, is_credited) in decided.items()])
        return decided[article_id]

    def _credited_origin(self, credit: str, site_name: str, outlet: str) -> str:
        """Who an article credits: a known agency, or an archived outlet (by the site name its articles carry);
        "" for its own work or a source the archive does not know."""
        credit = credit.strip()
        if not credit or credit.casefold() == site_name.casefold():
            return ""
        if wire := agency(credit):
            return wire
        found = self._sql.first(_SQL["credited_outlet"], {"name": credit.casefold(), "own": outlet})
        return found[0] if found is not None else ""

    # -- reading

    def membership(self) -> dict[str, Assignment]:
        """Where every article is now (by the record id of its latest version)."""
        return {row[0]: Assignment(row[1], row[2], row[3], bool(row[4])) for row in self._sql.rows(_SQL["membership"])}


_ARTICLE_COLUMNS = ("outlet", "url_key", "record_id", "url", "title", "published", "day", "site_name", "credit",
                    "shingles", "signature", "terms", "copy_group", "story_id", "origin", "credited")
_INSERT_ARTICLE = (f"INSERT INTO story_articles ({', '.join(_ARTICLE_COLUMNS)}) "
                   f"VALUES ({', '.join(':' + name for name in _ARTICLE_COLUMNS)}) RETURNING id")
_UPDATE_ARTICLE = (f"UPDATE story_articles SET {', '.join(f'{name} = :{name}' for name in _ARTICLE_COLUMNS)} "
                   "WHERE id = :id")


def _interned(terms: dict[str, float]) -> dict[str, float]:
    """The terms with one string object per term in this process: the same few thousand terms are looked up for
    every article (frequencies, rarity, cosines), and lookups of the one object stay in the CPU's cache
    (measured on bench/stories_speed.py's articles: the frequency look-ups 85 -> 60 µs an article)."""
    return {sys.intern(term): weight for term, weight in terms.items()}


def _day(article: StoryArticle) -> str:
    """The article's day: the one it states, else the one it was fetched; a date that is no real day or lies
    at the ends of the calendar ("2024-13-45", "9999-12-31": the window around it would overflow) is none."""
    for value in (article.published, article.fetched):
        if value and _DAY.match(value):
            try:
                day = date.fromisoformat(value[:10])
            except ValueError:
                continue
            if _FIRST_DAY <= day <= _LAST_DAY:
                return day.isoformat()
    return "1970-01-01"


def _saved_watermark(about: dict, name: str) -> _Watermark | None:
    """A watermark as a saved LSH index's header has it (None: not one)."""
    highest, holes = about.get(name), about.get(f"{name}_holes", [])
    if not isinstance(highest, int) or highest < 0 or not isinstance(holes, list) \
            or not all(isinstance(hole, int) and 0 < hole < highest for hole in holes):
        return None
    return _Watermark(highest, tuple(sorted(holes)))


@lru_cache(maxsize=4096)
def _shift(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def _when(published: str, day: str) -> datetime:
    """When an article came out, for "published first": its stated time in UTC, else its day."""
    return warc_datetime(published) or warc_datetime(day) or datetime.min.replace(tzinfo=UTC)


def _copied(similarity: float, size: int, other_size: int) -> bool:
    """Whether two texts of these shingle counts and Jaccard similarity are copies: alike, or one mostly
    holding the other (an excerpt, a trimmed copy)."""
    if similarity >= COPY_JACCARD:
        return True
    return containment(similarity, size, other_size) >= COPY_CONTAINMENT and min(size, other_size) >= MIN_CONTAINED
