"""MinHash signatures of shingle sets, and the LSH index that finds candidate copies among them.

Signatures are rensa's ``RMinHash`` (measured here: 8 µs for a 500-word article, against 506 µs for
datasketch's ``MinHash``; both deterministic across processes). The index cuts the first
``BANDS * ROWS`` values of a signature into bands: two articles whose texts share a Jaccard similarity
``J`` meet in some band with probability ``1 - (1 - J**ROWS)**BANDS`` (32 bands of 2: 0.87 at J = 0.25,
an excerpt of a quarter of a text; 0.27 at J = 0.05), and every candidate is then checked on its whole
signature. A band bucket holds at most :data:`BUCKET_CAP` articles: a text that many pages repeat (an
outlet's boilerplate) stops finding candidates through it, so it never drags thousands into one group.

The index lives in each assigning process's memory, built from the signatures the catalog keeps and caught up
with those other processes store, or, with ``REDIS_URL``, in Redis, so that every crawl worker on every machine
shares one index.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from rensa import RMinHash

logger = logging.getLogger(__name__)
PERMUTATIONS = 128
SEED = 20240327
BANDS, ROWS = 32, 2
BUCKET_CAP = 64
_PRIME = (1 << 56) - 5


def signature(shingles: set[str]) -> list[int]:
    """The MinHash signature of a shingle set (``PERMUTATIONS`` 32-bit values)."""
    sketch = RMinHash(num_perm=PERMUTATIONS, seed=SEED)
    sketch.update(list(shingles))  # in any order: a minimum is the same whichever comes first
    return list(sketch.digest())


def pack(values: list[int]) -> bytes:
    return array("I", values).tobytes()


def unpack(data: bytes) -> list[int]:
    values = array("I")
    values.frombytes(data)
    return values.tolist()


def band_keys(values: list[int]) -> list[int]:
    """One key per band: the band's number in the top bits, its values hashed below (fits a signed BIGINT)."""
    keys = []
    for band in range(BANDS):
        first, second = values[band * ROWS], values[band * ROWS + 1]
        keys.append((band << 56) | (((first << 32) | second) % _PRIME))
    return keys


def jaccards(values: np.ndarray, packed: list[bytes]) -> list[float]:
    """The Jaccard similarity of a shingle set with each of many, as their signatures estimate it: one an array,
    the others packed (:func:`pack`), compared at once in C (0.8 µs a pair, against 4 µs for two lists)."""
    if not packed:
        return []
    return (np.count_nonzero(signature_matrix(packed) == values, axis=1) / len(values)).tolist()


def containment(similarity: float, size: int, other_size: int) -> float:
    """How much of the smaller set the larger holds, from their Jaccard similarity and sizes."""
    smaller = min(size, other_size)
    if not smaller:
        return 0.0
    return min(1.0, similarity * (size + other_size) / ((1 + similarity) * smaller))


class BandStore(Protocol):
    """Where the LSH index lives."""

    def buckets(self, keys: list[int]) -> dict[int, list[int]]: ...  # key -> the article ids in its bucket
    def add(self, entries: list[tuple[int, Sequence[int]]]) -> None: ...  # (article id, its keys with room)
    def remove(self, article_id: int, keys: Iterable[int]) -> None: ...
    def clear(self) -> None: ...


#: Entries the memory index takes in a dict before merging them into its sorted arrays...
RECENT_ENTRIES = 1 << 16
#: ...unless they come this many at once.
BATCH_ENTRIES = 1 << 10
#: Entries of the smaller sorted run before it is merged into the larger (each merge copies the larger once; each
#: batch copies the smaller: at 32 million entries, a million between merges copies the fewest, about the square
#: root of twice the larger's size times a batch's).
SMALL_RUN_ENTRIES = 1 << 20
#: Every FENCE-th key of a sorted run is kept apart, to search first.
FENCE = 16
_WINDOW = np.arange(FENCE + 1)
#: An article id in the arrays that stands for an entry removed (article ids start at 1).
_REMOVED = 0
#: Bits of the key filter per entry of the sorted runs, when it is built (it is built again, twice as large, when
#: they hold more than a quarter of its bits): a key in no run passes it with a chance of 6 to 22%.
FILTER_BITS = 8
#: The key filter's size at least (bits).
_FILTER_MIN_BITS = 1 << 16
#: The start of an LSH index file (:meth:`MemoryBands.save`), its layout's version, and what its arrays depend on.
_SNAPSHOT_MAGIC = b"NEWSARCHIVE-LSH\n"
_SNAPSHOT_FORMAT = 1
_PARAMETERS = [PERMUTATIONS, SEED, BANDS, ROWS, BUCKET_CAP, _PRIME, FENCE, _REMOVED]


class _Run:
    """Band keys sorted, with the article id of each, and every :data:`FENCE`-th key: a binary search of all the
    keys reads a cache line per step, each waiting for the last (an article's 32 keys: 52 µs at 32 million
    entries, measured); one of the fences, a 16th of the size, then one gather of the lines the keys' first
    entries can be in: 26 µs."""

    __slots__ = ("keys", "ids", "fences")

    def __init__(self, keys: np.ndarray, ids: np.ndarray, fences: np.ndarray | None = None) -> None:
        self.keys, self.ids = keys, ids
        # (not the first key: what is below the second is in block 0)
        self.fences = keys[FENCE::FENCE].copy() if fences is None else fences

    @classmethod
    def empty(cls) -> _Run:
        return cls(np.empty(0, np.int64), np.empty(0, np.uint32))

    def __len__(self) -> int:
        return len(self.keys)

    def spans(self, wanted: np.ndarray) -> list[tuple[int, int, int]]:
        """(index in ``wanted``, start, end) of each wanted key found: where its entries are."""
        if not len(self.keys):
            return []
        # a key's first entry is in the block of the last fence below it, or is the next fence
        window = np.searchsorted(self.fences, wanted)[:, None] * FENCE + _WINDOW
        np.minimum(window, len(self.keys) - 1, out=window)
        found = []
        for place in np.flatnonzero(self.keys[window] == wanted[:, None]).tolist():  # few: most keys are in no run
            index, offset = divmod(place, FENCE + 1)
            if not found or found[-1][0] != index:  # the key's first entry in its window
                start = int(window[index, offset])
                found.append((index, start, int(np.searchsorted(self.keys, wanted[index], "right"))))
        return found

    def merged(self, keys: np.ndarray, ids: np.ndarray) -> _Run:
        """This run with more sorted entries (after its equal ones: they came later)."""
        places = np.searchsorted(self.keys, keys, "right")
        return _Run(np.insert(self.keys, places, keys), np.insert(self.ids, places, ids))


class _KeyFilter:
    """A bit for each key in the sorted runs (the key's low bits: they are a hash): most of an article's 32 keys
    are in no run, and one gather of their bits spares the binary searches of those, which read a cache line per
    step, each waiting for the last (measured at 1,000,000 articles: a look-up of 32 keys 69 -> 43 µs, for 34
    bytes an article)."""

    __slots__ = ("bits", "mask")

    def __init__(self, size: int, bits: np.ndarray | None = None) -> None:
        self.bits = np.zeros(size // 8, np.uint8) if bits is None else bits
        self.mask = np.int64(size - 1)

    @classmethod
    def of(cls, runs: Iterable[_Run]) -> _KeyFilter:
        runs = list(runs)
        built = cls(max(_FILTER_MIN_BITS, 1 << (sum(map(len, runs)) * FILTER_BITS - 1).bit_length()))
        for run in runs:
            built.add(run.keys)
        return built

    def add(self, keys: np.ndarray) -> None:
        slots = keys & self.mask
        np.bitwise_or.at(self.bits, slots >> 3, np.left_shift(1, slots & 7).astype(np.uint8))

    def holds(self, keys: np.ndarray) -> np.ndarray:
        """Which keys may be in a run (a bool each): none of the others is."""
        slots = keys & self.mask
        return (self.bits[slots >> 3] >> (slots & 7).astype(np.uint8)) & 1 == 1


class MemoryBands:
    """The index in this process's memory: sorted arrays of (band key, article id), two runs of them (a large
    one and a small one) and the entries added last in a dict (12 bytes an entry in the arrays).

    The catalog keeps every article's signature, and the bands are computed from them (:meth:`load`), so the
    index costs the catalog no writes: 32 rows an article inserted at random places in a B-tree, each commit
    writing back nearly every page they touched (measured at 200,000 articles: more time than the rest of
    assignment together)."""

    def __init__(self) -> None:
        self._large, self._small = _Run.empty(), _Run.empty()
        self._filter = _KeyFilter.of(())
        self._recent: dict[int, list[int]] = {}
        self._recent_entries = 0

    @property
    def entries(self) -> int:
        return len(self._large) + len(self._small) + self._recent_entries

    @property
    def nbytes(self) -> int:
        """The arrays' size in bytes (the dict of recent entries aside: it holds at most RECENT_ENTRIES)."""
        return sum(run.keys.nbytes + run.ids.nbytes + run.fences.nbytes for run in (self._large, self._small)) \
            + self._filter.bits.nbytes

    def buckets(self, keys: list[int]) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        wanted = np.array(keys, np.int64)
        places = np.flatnonzero(self._filter.holds(wanted))  # (the keys that may be in a run)
        for run in (self._large, self._small) if len(places) else ():
            for index, start, end in run.spans(wanted[places]):
                ids = [article_id for article_id in run.ids[start:end].tolist() if article_id != _REMOVED]
                if ids:
                    found.setdefault(keys[places[index]], []).extend(ids)
        recent = self._recent
        for key in recent.keys() & keys if recent else ():
            found.setdefault(key, []).extend(recent[key])
        return found

    def add(self, entries: list[tuple[int, Sequence[int]]]) -> None:
        count = sum(len(keys) for _, keys in entries)
        if count >= BATCH_ENTRIES:  # a batch (replay commits every few hundred articles): sorted, merged at once
            keys = np.fromiter(itertools.chain.from_iterable(keys for _, keys in entries), np.int64, count)
            ids = np.repeat(np.array([article_id for article_id, _ in entries], np.uint32),
                            [len(keys) for _, keys in entries])
            self._merge(keys, ids)
            return
        recent = self._recent  # a few (a crawl commits each article): looked up in a dict until merged
        for article_id, keys in entries:
            for key in keys:
                if key in recent:
                    recent[key].append(article_id)
                else:
                    recent[key] = [article_id]
        self._recent_entries += count
        if self._recent_entries >= RECENT_ENTRIES:
            self._merge(*self._recent_arrays())

    def load(self, ids: np.ndarray, bands: np.ndarray) -> None:
        """Add many articles at once (ids ascending, after every id already here; their band keys a row each:
        :func:`band_key_matrix`), each bucket taking the first :data:`BUCKET_CAP` articles that have it, as
        :meth:`add` one at a time would."""
        keys = bands.ravel()
        owners = np.repeat(ids.astype(np.uint32), BANDS)
        order = np.argsort(keys, kind="stable")  # equal keys stay in id order
        keys, owners = keys[order], owners[order]
        del order
        if self.entries:  # (catching up with other processes' articles: a few at a time)
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            lengths = np.diff(np.r_[starts, len(keys)])
            held = self.buckets(keys[starts].tolist())
            room = BUCKET_CAP - np.array([len(held.get(key, ())) for key in keys[starts].tolist()], np.int64)
            keep = np.arange(len(keys)) - np.repeat(starts, lengths) < np.repeat(room, lengths)
            self._merge(keys[keep], owners[keep])  # (into the small run: the large one is copied seldom)
            return
        # (starting: an entry past a bucket's first BUCKET_CAP has its key BUCKET_CAP places before it, as sorted)
        keep = np.ones(len(keys), bool)
        keep[BUCKET_CAP:] = keys[BUCKET_CAP:] != keys[:-BUCKET_CAP]
        self._large = _Run(keys[keep], owners[keep])
        self._filter = _KeyFilter.of((self._large, self._small))

    def remove(self, article_id: int, keys: Iterable[int]) -> None:
        keys = list(keys)
        for key in keys:
            if article_id in self._recent.get(key, ()):
                self._recent[key].remove(article_id)
                self._recent_entries -= 1
        wanted = np.array(keys, np.int64)
        for run in (self._large, self._small):
            for _, start, end in run.spans(wanted):
                span = run.ids[start:end]
                span[span == article_id] = _REMOVED  # (a new version's old text: rare, left in place)

    def clear(self) -> None:
        self.__init__()

    def save(self, path: Path, about: dict[str, Any]) -> None:
        """Write the index to ``path`` with ``about`` (what it holds: the caller's to check when opening it), as a
        whole or not at all: a new file written beside, synced, then renamed over the old one (a process that
        opened the old one keeps reading it)."""
        if self._recent:  # (into the sorted runs: the file holds arrays only)
            self._merge(*self._recent_arrays())
        arrays = {"large_keys": self._large.keys, "large_ids": self._large.ids, "large_fences": self._large.fences,
                  "small_keys": self._small.keys, "small_ids": self._small.ids, "small_fences": self._small.fences,
                  "filter": self._filter.bits}
        layout, offset = {}, 0
        for name, values in arrays.items():
            layout[name] = [values.dtype.str, len(values), offset]
            offset += _aligned(values.nbytes)
        header = json.dumps({"format": _SNAPSHOT_FORMAT, "parameters": _PARAMETERS, "arrays": layout,
                             "about": about}).encode()
        start = _aligned(len(_SNAPSHOT_MAGIC) + 8 + len(header))
        _remove_abandoned(path)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        try:
            with partial.open("wb") as file:
                file.write(_SNAPSHOT_MAGIC + len(header).to_bytes(8, "little") + header)
                for name, values in arrays.items():
                    file.seek(start + layout[name][2])
                    file.write(memoryview(np.ascontiguousarray(values)).cast("B"))
                file.truncate(start + offset)
                file.flush()
                os.fsync(file.fileno())
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

    @classmethod
    def open(cls, path: Path) -> tuple[MemoryBands, dict[str, Any]] | None:
        """The index saved at ``path`` and what it holds (``about``), its arrays mapped from the file (pages shared
        with every process that opened it; what this one changes is its own); None, with a warning, when the file
        is missing, damaged or of other LSH parameters (the caller builds the index again)."""
        try:
            with path.open("rb") as file:
                size = os.fstat(file.fileno()).st_size
                if file.read(len(_SNAPSHOT_MAGIC)) != _SNAPSHOT_MAGIC:
                    raise ValueError("not an LSH index file")
                length = int.from_bytes(file.read(8), "little")
                if length > size:
                    raise ValueError(f"truncated ({size:,} bytes)")
                header = json.loads(file.read(length))
                start = _aligned(file.tell())
            if header.get("format") != _SNAPSHOT_FORMAT or header.get("parameters") != _PARAMETERS:
                raise ValueError("written with other LSH parameters")
            arrays = {}
            for name, (dtype, length, offset) in header["arrays"].items():
                if start + offset + length * np.dtype(dtype).itemsize > size:
                    raise ValueError(f"truncated ({size:,} bytes)")
                # (plain arrays over the mapping: a memmap's indexing runs Python code on every look-up)
                arrays[name] = np.memmap(path, dtype, "c", start + offset, (length,)).view(np.ndarray) if length \
                    else np.empty(0, dtype)
            for run in ("large", "small"):
                keys, ids, fences = (arrays[f"{run}_{part}"] for part in ("keys", "ids", "fences"))
                if len(ids) != len(keys) or len(fences) != len(keys[FENCE::FENCE]):
                    raise ValueError(f"its {run} run's arrays disagree")
            filter_bits = len(arrays["filter"]) * 8
            if filter_bits < _FILTER_MIN_BITS or filter_bits & (filter_bits - 1):
                raise ValueError("its key filter is damaged")
            about = dict(header["about"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            logger.warning("LSH index file %s not used (%s): the index is built from the catalog", path, error)
            return None
        opened = cls()
        opened._large = _Run(arrays["large_keys"], arrays["large_ids"], arrays["large_fences"])
        opened._small = _Run(arrays["small_keys"], arrays["small_ids"], arrays["small_fences"])
        opened._filter = _KeyFilter(filter_bits, arrays["filter"])
        return opened, about

    def _recent_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        recent, count = self._recent, self._recent_entries
        keys = np.fromiter((key for key, ids in recent.items() for _ in ids), np.int64, count)
        ids = np.fromiter((article_id for owners in recent.values() for article_id in owners), np.uint32, count)
        self._recent, self._recent_entries = {}, 0
        return keys, ids

    def _merge(self, keys: np.ndarray, ids: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        self._small = self._small.merged(keys[order], ids[order])
        if len(self._small) >= SMALL_RUN_ENTRIES:
            self._large = self._large.merged(self._small.keys, self._small.ids)
            self._small = _Run.empty()
        if (len(self._large) + len(self._small)) * 4 > len(self._filter.bits) * 8:
            self._filter = _KeyFilter.of((self._large, self._small))
        else:
            self._filter.add(keys)


def _remove_abandoned(path: Path) -> None:
    """Delete the partial files of index files that processes killed while saving ``path`` left behind (each as
    large as the index); another process's, still saving, is left alone."""
    for partial in path.parent.glob(f"{path.name}.*.partial"):
        pid = partial.name[len(path.name) + 1:-len(".partial")]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            partial.unlink(missing_ok=True)
        except PermissionError:  # a process of another user's: alive
            continue


def _aligned(size: int) -> int:
    """``size`` rounded up to a cache line: every array of an index file starts at one."""
    return -(-size // 64) * 64


def band_key_matrix(signatures: np.ndarray) -> np.ndarray:
    """:func:`band_keys` of many signatures at once (a row each): a row of band keys each."""
    values = signatures[:, :BANDS * ROWS].astype(np.uint64)
    hashed = ((values[:, 0::ROWS] << np.uint64(32)) | values[:, 1::ROWS]) % np.uint64(_PRIME)
    return ((np.arange(BANDS, dtype=np.uint64) << np.uint64(56)) | hashed).astype(np.int64)


def signature_matrix(packed: list[bytes]) -> np.ndarray:
    """Packed signatures (:func:`pack`) as a matrix, one row each."""
    return np.frombuffer(b"".join(packed), dtype="<u4").reshape(len(packed), PERMUTATIONS)


#: Add to a bucket unless it is full (atomic in Redis).
_CAPPED_ADD = """
if redis.call('SCARD', KEYS[1]) < tonumber(ARGV[2]) then return redis.call('SADD', KEYS[1], ARGV[1]) end
return 0
"""


class RedisBands:
    """The index in Redis (``REDIS_URL``): one set of article ids per band bucket, shared by every worker."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.capped_add = client.register_script(_CAPPED_ADD)

    @classmethod
    def connect(cls, url: str, prefix: str) -> RedisBands:
        """The index at ``url`` (``redis://host:6379/0``) under ``prefix``; ``ValueError`` on a malformed URL.

        redis is imported here, not with the module: every crawl and command imports the stories, few use Redis."""
        import redis

        return cls(redis.Redis.from_url(url), prefix)

    @property
    def location(self) -> str:
        """Which server and database hold the index (no credentials): ``redis://host:port/db``."""
        options = self.client.connection_pool.connection_kwargs
        where = options.get("path") or f"{options.get('host', 'localhost')}:{options.get('port', 6379)}"
        return f"redis://{where}/{options.get('db', 0)}"

    def _key(self, key: int) -> str:
        return f"{self.prefix}:{key}"

    def buckets(self, keys: list[int]) -> dict[int, list[int]]:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.smembers(self._key(key))
        return {key: [int(member) for member in members] for key, members in zip(keys, pipe.execute(), strict=True)
                if members}

    def add(self, entries: list[tuple[int, Sequence[int]]]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for article_id, keys in entries:
            for key in keys:  # capped here too: another worker may have filled the bucket meanwhile
                self.capped_add(keys=[self._key(key)], args=[article_id, BUCKET_CAP], client=pipe)
        pipe.execute()

    def remove(self, article_id: int, keys: Iterable[int]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.srem(self._key(key), article_id)
        pipe.execute()

    def clear(self) -> None:
        for keys in _chunks(self.client.scan_iter(match=f"{self.prefix}:*", count=1000), 1000):
            self.client.delete(*keys)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
