"""The memory LSH index saved beside a SQLite catalog (``catalog.sqlite.lsh``, pipelines.stories.index's
SNAPSHOT_ARTICLES): a new process opens it instead of building it and assigns as a process that built it does;
it builds the index again when the file is not the catalog's as it is now (a new version another process recorded,
another catalog's file, a damaged file), and loses nothing.

The file's own round trip is tested against a dict of buckets in tests/test_stories_lsh.py.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from pipelines.catalog import Catalog
from pipelines.stories import index as story_index
from pipelines.stories.index import StoryIndex
from tests.test_stories import article, prose

ORIGINALS = 8


@pytest.fixture(autouse=True)
def small_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(story_index, "SNAPSHOT_ARTICLES", 6)  # saved every 6 articles, not 10,000


def store_originals(path: Path) -> list[str]:
    """A catalog of ORIGINALS wire articles (its LSH index saved when the process closes it); their texts."""
    texts = [prose(100 + n) for n in range(ORIGINALS)]
    catalog = Catalog(path)
    index = StoryIndex.of(catalog)
    for n, text in enumerate(texts):
        index.add(article("wire", f"w-{n}", text))
    catalog.close()
    return texts


def opened(path: Path, caplog: pytest.LogCaptureFixture) -> tuple[Catalog, StoryIndex, str]:
    """A new process's catalog connection and story index, and what the story index logged as it started."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pipelines.stories"):
        catalog = Catalog(path)
        index = StoryIndex.of(catalog)
    return catalog, index, caplog.text


def test_a_new_process_opens_the_saved_index_and_assigns_as_if_it_built_it(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    texts = store_originals(tmp_path / "saved.sqlite")
    assert (tmp_path / "saved.sqlite.lsh").stat().st_size > 0
    shutil.copy(tmp_path / "saved.sqlite", tmp_path / "built.sqlite")  # the same catalog, no file beside it
    membership = {}
    for name in ("saved", "built"):
        catalog, index, logged = opened(tmp_path / f"{name}.sqlite", caplog)
        assert ("opened from" in logged, "built in memory" in logged) == (name == "saved", name == "built")
        copies = [index.add(article("paper", f"p-{n}", text, source="Wire")) for n, text in enumerate(texts)]
        assert all(copy.copy_group is not None and copy.origin == "wire" for copy in copies)
        index.add(article("gazette", "g-1", prose(200)))
        membership[name] = index.membership()
        catalog.close()
    assert membership["saved"] == membership["built"]
    catalog, index, logged = opened(tmp_path / "saved.sqlite", caplog)  # saved again at close: 9 more articles
    assert f"up to id {2 * ORIGINALS + 1} opened from" in logged
    catalog.close()


def test_a_new_version_is_looked_up_by_its_new_text_in_every_process_after(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The process recording a new version saves the file again; one that did not see it does not save its own."""
    path = tmp_path / "catalog.sqlite"
    texts = store_originals(path)
    unaware, _, _ = opened(path, caplog)
    unaware_index = StoryIndex.of(unaware)
    updating, updating_index, _ = opened(path, caplog)
    rewritten = prose(300)
    updating_index.add(article("wire", "w-0", rewritten, record="<wire-w-0-v2>"))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pipelines.stories"):
        updating.close()
        assert f"up to id {ORIGINALS} saved" in caplog.text
        for n in range(6):  # enough to save, but its index still holds w-0's old text
            unaware_index.add(article("gazette", f"g-{n}", prose(400 + n)))
        unaware.close()
        assert "not saved (another process recorded new versions meanwhile)" in caplog.text
    catalog, index, logged = opened(path, caplog)
    assert f"up to id {ORIGINALS} opened from" in logged  # and the unaware process's six caught up from the catalog
    assert index.add(article("paper", "p-new", rewritten, source="Wire")).origin == "wire"
    assert index.add(article("paper", "p-old", texts[0], source="Wire")).copy_group is None
    assert index.add(article("paper", "p-1", texts[1], source="Wire")).copy_group is not None
    catalog.close()


def test_a_file_left_behind_by_new_versions_is_built_again_and_replaced(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "catalog.sqlite"
    store_originals(path)
    killed, killed_index, _ = opened(path, caplog)
    rewritten = prose(300)
    killed_index.add(article("wire", "w-0", rewritten, record="<wire-w-0-v2>"))  # committed...
    killed.connection.close()  # ...and the process killed before it could save the file
    killed.engine.dispose()
    catalog, index, logged = opened(path, caplog)
    assert "is not this catalog's LSH index as it is now" in logged and "built in memory" in logged
    assert f"up to id {ORIGINALS} saved" in logged  # at once: the next process opens it
    assert index.add(article("paper", "p-new", rewritten, source="Wire")).origin == "wire"
    catalog.close()
    catalog, _, logged = opened(path, caplog)
    assert "opened from" in logged
    catalog.close()


def damage(path: Path, other: Path) -> dict[str, bytes]:
    data = path.read_bytes()
    return {
        "truncated": data[:len(data) // 2],
        "empty": b"",
        "not an index": b"SQLite format 3\x00" + data[16:],
        "header garbled": data[:30] + b"\xff{[" + data[33:],
        "another catalog's": other.read_bytes(),
    }


@pytest.mark.parametrize("kind", ["truncated", "empty", "not an index", "header garbled", "another catalog's"])
def test_a_damaged_or_foreign_file_is_built_again_and_loses_nothing(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, kind: str) -> None:
    path = tmp_path / "catalog.sqlite"
    texts = store_originals(path)
    store_originals(tmp_path / "other.sqlite")  # the same articles: another catalog (another index id)
    (tmp_path / "catalog.sqlite.lsh").write_bytes(damage(tmp_path / "catalog.sqlite.lsh",
                                                         tmp_path / "other.sqlite.lsh")[kind])
    catalog, index, logged = opened(path, caplog)
    assert "built in memory" in logged and "opened from" not in logged
    assert ("not used" in logged) != (kind == "another catalog's")  # a warning for a damaged file
    copies = [index.add(article("paper", f"p-{n}", text, source="Wire")) for n, text in enumerate(texts)]
    assert all(copy.origin == "wire" for copy in copies)
    catalog.close()
    catalog, index, logged = opened(path, caplog)
    assert f"up to id {2 * ORIGINALS} opened from" in logged  # replaced by a good one
    catalog.close()
