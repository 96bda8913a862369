"""MinHash signatures of shingle sets, and the LSH index that finds candidate copies among them.

Signatures are rensa's ``RMinHash`` (measured here: 8 µs for a 500-word article, against 506 µs for
datasketch's ``MinHash``; both deterministic across processes). The index cuts the first
``BANDS * ROWS`` values of a signature into bands: two articles whose texts share a Jaccard similarity
``J`` meet in some band with probability ``1 - (1 - J**ROWS)**BANDS`` (32 bands of 2: 0.87 at J = 0.25,
an excerpt of a quarter of a text; 0.27 at J = 0.05), and every candidate is then checked on its whole
signature. A band bucket holds at most :data:`BUCKET_CAP` articles: a text that many pages repeat (an
outlet's boilerplate) stops finding candidates through it, so it never drags thousands into one group.

The index lives in the catalog (table ``story_bands``) or, with ``REDIS_URL``, in Redis, so that every crawl
worker on every machine assigns to the same copy groups.
"""

from __future__ import annotations

import operator
from array import array
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from rensa import RMinHash

from pipelines.stories.sql import Driver

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


def jaccard(one: list[int], other: list[int]) -> float:
    """The Jaccard similarity of two shingle sets, as their signatures estimate it."""
    return sum(map(operator.eq, one, other)) / len(one)


def containment(similarity: float, size: int, other_size: int) -> float:
    """How much of the smaller set the larger holds, from their Jaccard similarity and sizes."""
    smaller = min(size, other_size)
    if not smaller:
        return 0.0
    return min(1.0, similarity * (size + other_size) / ((1 + similarity) * smaller))


class BandStore(Protocol):
    """Where the LSH index lives."""

    def buckets(self, keys: list[int]) -> dict[int, list[int]]: ...  # key -> the article ids in its bucket
    def add(self, entries: list[tuple[int, list[int]]]) -> None: ...  # (article id, its keys whose buckets have room)
    def remove(self, article_id: int, keys: Iterable[int]) -> None: ...
    def clear(self) -> None: ...


_BUCKETS = "SELECT key, article_id FROM story_bands WHERE key IN :keys"
_ADD_BAND = ("INSERT INTO story_bands (key, article_id) VALUES (:key, :article_id) "
             "ON CONFLICT (key, article_id) DO NOTHING")
_REMOVE_BANDS = "DELETE FROM story_bands WHERE key IN :keys AND article_id = :article_id"
_CLEAR = "DELETE FROM story_bands"


class SqlBands:
    """The index in the catalog's ``story_bands`` table."""

    def __init__(self, sql: Driver) -> None:
        self.sql = sql

    def buckets(self, keys: list[int]) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        for key, article_id in self.sql.rows(_BUCKETS, {"keys": keys}):
            found.setdefault(key, []).append(article_id)
        return found

    def add(self, entries: list[tuple[int, list[int]]]) -> None:
        rows = [(key, article_id) for article_id, keys in entries for key in keys]
        rows.sort()  # in the B-tree's order: each page written once
        self.sql.run(_ADD_BAND, rows)

    def remove(self, article_id: int, keys: Iterable[int]) -> None:
        self.sql.run(_REMOVE_BANDS, {"keys": list(keys), "article_id": article_id})

    def clear(self) -> None:
        self.sql.run(_CLEAR)


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

    def add(self, entries: list[tuple[int, list[int]]]) -> None:
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
