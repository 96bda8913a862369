"""The LSH index held in memory (pipelines.stories.lsh.MemoryBands) against a plain dict of buckets: the same
articles found through the same keys however its entries are spread over its dict and sorted runs, and however
often it is saved to a file and opened again (damaged files: tests/test_stories_snapshot.py)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipelines.stories import lsh
from pipelines.stories.lsh import BUCKET_CAP, MemoryBands, band_key_matrix, band_keys, signature, signature_matrix


def test_band_keys_of_many_signatures_at_once_are_those_of_each() -> None:
    signatures = [signature({f"word{n} word{n + 1} word{n + 2}" for n in range(start, start + 60)})
                  for start in range(0, 500, 7)]
    matrix = band_key_matrix(signature_matrix([lsh.pack(values) for values in signatures]))
    assert matrix.tolist() == [band_keys(values) for values in signatures]


@pytest.mark.parametrize("seed", range(3))
def test_memory_bands_answer_as_a_dict_of_buckets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seed: int) -> None:
    """...also when saved to a file and opened from it now and then (its arrays mapped from the file, changed by
    later additions and removals in this process alone)."""
    monkeypatch.setattr(lsh, "RECENT_ENTRIES", 50)  # merged into the small run every few articles...
    monkeypatch.setattr(lsh, "SMALL_RUN_ENTRIES", 400)  # ...and the small run into the large one
    monkeypatch.setattr(lsh, "_FILTER_MIN_BITS", 64)  # a key filter that many absent keys pass, built anew often
    rng = random.Random(seed)
    keys = [rng.getrandbits(62) for _ in range(300)]  # few keys: buckets of many articles
    bands, expected = MemoryBands(), dict[int, list[int]]()
    for article_id in range(1, 2_000):
        chosen = rng.sample(keys, 8)
        bands.add([(article_id, chosen)])
        for key in chosen:
            expected.setdefault(key, []).append(article_id)
        if rng.random() < 0.05:  # a new version's old text taken out
            gone = rng.randrange(1, article_id + 1)
            bands.remove(gone, keys)
            expected = {key: [held for held in ids if held != gone] for key, ids in expected.items()}
        if article_id % 331 == 0:
            bands.save(tmp_path / "index.lsh", {"saved": article_id})
            bands, about = MemoryBands.open(tmp_path / "index.lsh")
            assert about == {"saved": article_id}
        if article_id % 97 == 0:
            asked = rng.sample(keys, 40)
            found = bands.buckets(asked)
            assert {key: sorted(ids) for key, ids in found.items()} == \
                   {key: sorted(expected[key]) for key in asked if expected.get(key)}
    assert bands.entries >= sum(map(len, expected.values())) and bands.nbytes > 0


def test_loading_many_keeps_the_first_articles_of_each_bucket() -> None:
    """A bulk load caps each bucket at BUCKET_CAP, in id order, counting what the index held before."""
    values = signature({f"the same text {n}" for n in range(40)})
    bands = MemoryBands()
    bands.add([(1, band_keys(values))])
    ids = np.arange(2, 2 + 2 * BUCKET_CAP)
    bands.load(ids, band_key_matrix(signature_matrix([lsh.pack(values)] * len(ids))))
    found = bands.buckets(band_keys(values))
    assert all(held == list(range(1, 1 + BUCKET_CAP)) for held in map(sorted, found.values()))


def test_saving_deletes_the_partial_files_of_killed_saves_only(tmp_path: Path) -> None:
    ended = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                               text=True, check=True).stdout)
    killed = tmp_path / f"index.lsh.{ended}.partial"  # a process killed while saving
    saving = tmp_path / f"index.lsh.{os.getppid()}.partial"  # one still saving
    unrelated = tmp_path / f"other.lsh.{ended}.partial"
    for partial in (killed, saving, unrelated):
        partial.write_bytes(b"\0" * 4096)
    bands = MemoryBands()
    bands.add([(1, [5, 6, 7])])
    bands.save(tmp_path / "index.lsh", {})
    assert (killed.exists(), saving.exists(), unrelated.exists()) == (False, True, True)
    assert MemoryBands.open(tmp_path / "index.lsh")[0].buckets([5, 8]) == {5: [1]}
