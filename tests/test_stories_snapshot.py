"""The memory LSH index saved beside a SQLite catalog (``catalog.sqlite.lsh``, pipelines.stories.index's
SNAPSHOT_ARTICLES): a new process opens it instead of building it and assigns as a process that built it does;
the new versions recorded after it was saved come in from the catalog's log of them (story_versions), as they do
into a running process; it builds the index again when the file is not the catalog's (another catalog's, a newer
one's, a damaged file), and loses nothing. A PostgreSQL catalog's is saved in the folder given (the archive root).

The file's own round trip is tested against a dict of buckets in tests/test_stories_lsh.py.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipelines.catalog import Catalog
from pipelines.stories import index as story_index
from pipelines.stories.index import StoryIndex
from tests.test_stories import article, excerpt, prose

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
        copies = [index.add(excerpt("paper", f"p-{n}", text)) for n, text in enumerate(texts)]  # (the LSH finds them)
        assert all(copy.copy_group is not None for copy in copies)
        index.add(article("gazette", "g-1", prose(200)))
        membership[name] = index.membership()
        catalog.close()
    assert membership["saved"] == membership["built"]
    catalog, index, logged = opened(tmp_path / "saved.sqlite", caplog)  # saved again at close: 9 more articles
    assert f"up to id {2 * ORIGINALS + 1} opened from" in logged
    catalog.close()


def test_a_new_version_another_process_records_is_taken_in_at_once_and_by_every_process_after(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """story_versions: a process running takes in another's new version before its next transaction (the old
    text's bands out, the new one's in); one opening a file saved before the version takes it in from the log."""
    path = tmp_path / "catalog.sqlite"
    texts = store_originals(path)
    running, running_index, _ = opened(path, caplog)
    updating, updating_index, _ = opened(path, caplog)
    rewritten = prose(300)
    updating_index.add(article("wire", "w-0", rewritten, record="<wire-w-0-v2>"))
    updating.connection.close()  # and the process killed (nothing saved: one version is not enough to save)
    updating.engine.dispose()
    copy = running_index.add(excerpt("paper", "p-new", rewritten))
    assert copy.copy_group is not None and copy.copy_group == running_index.membership()["<wire-w-0-v2>"].copy_group
    assert running_index.add(excerpt("paper", "p-old", texts[0])).copy_group is None
    running.close()
    for saved in range(2):  # the file saved before the version (its log row taken in), then the one saved after
        catalog, index, logged = opened(path, caplog)
        assert f"up to id {(ORIGINALS, ORIGINALS + 7)[saved]} opened from" in logged
        copy_of_new = index.add(excerpt("gazette", f"new-{saved}", rewritten))
        copy_of_old = index.add(excerpt("gazette", f"old-{saved}", texts[0]))
        wire = index.membership()["<wire-w-0-v2>"].copy_group
        assert wire is not None and copy_of_new.copy_group == wire and copy_of_old.copy_group != wire
        for n in range(3):
            index.add(article("herald", f"h-{saved}-{n}", prose(500 + 10 * saved + n)))
        catalog.close()


def test_a_catalog_restored_from_before_the_file_was_saved_builds_the_index(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "catalog.sqlite"
    texts = store_originals(path)
    shutil.copy(path, tmp_path / "backup.sqlite")
    catalog, index, _ = opened(path, caplog)
    for n in range(6):
        index.add(article("gazette", f"g-{n}", prose(600 + n)))
    catalog.close()  # the file now holds 14 articles
    shutil.copy(tmp_path / "backup.sqlite", path)  # the catalog as it was at 8
    catalog, index, logged = opened(path, caplog)
    assert "is not this catalog's LSH index (another catalog's, or a newer one's)" in logged
    assert "LSH bands of 8 articles built in memory" in logged
    assert all(index.add(article("paper", f"p-{n}", text, source="Wire")).origin == "wire"
               for n, text in enumerate(texts))
    catalog.close()


def damage(path: Path, other: Path) -> dict[str, bytes]:
    data = path.read_bytes()
    return {
        "truncated": data[:len(data) // 2],
        "empty": b"",
        "not an index": b"SQLite format 3\x00" + data[16:],
        "header garbled": data[:30] + b"\xff{[" + data[33:],
        "header too long": data[:16] + (2**62).to_bytes(8, "little") + data[24:],
        "another catalog's": other.read_bytes(),
    }


@pytest.mark.parametrize("kind", ["truncated", "empty", "not an index", "header garbled", "header too long",
                                  "another catalog's"])
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


def test_a_catalog_migrated_below_the_log_of_versions_loses_its_file(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Migration 0009's downgrade drops story_versions, which the file counts on: it deletes the file too."""
    from alembic import command
    from alembic.config import Config

    from pipelines.catalog.store import MIGRATIONS

    path = tmp_path / "catalog.sqlite"
    texts = store_originals(path)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
    engine.dispose()
    assert not (tmp_path / "catalog.sqlite.lsh").exists()
    catalog, index, logged = opened(path, caplog)  # migrated up again
    assert f"LSH bands of {ORIGINALS} articles built in memory" in logged
    assert all(index.add(article("paper", f"p-{n}", text, source="Wire")).copy_group is not None
               for n, text in enumerate(texts))
    catalog.close()


def test_a_server_catalogs_index_is_saved_in_the_archive_folder_with_the_ids_it_skipped(
        database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Without Redis, a PostgreSQL catalog's LSH index is saved in the folder given (each machine's archive root),
    under the catalog's index id; it keeps the ids a transaction still running had taken when it was saved (on
    PostgreSQL ids appear when their transaction commits), and a new process looks for those again."""
    folder = tmp_path / "archive"
    folder.mkdir()
    slow, quick = Catalog(database), Catalog(database)
    slow_index, quick_index = StoryIndex.of(slow, "", folder), StoryIndex.of(quick, "", folder)
    late = prose(730)
    slow_index.add(article("wire", "late", late), commit=False)  # takes the first id, not yet committed
    server = slow.engine.dialect.name == "postgresql"
    if server:  # (SQLite: one writer at a time; it would wait)
        for n in range(ORIGINALS):
            quick_index.add(article("herald", f"h-{n}", prose(710 + n)))
    slow.commit()
    slow.close()
    quick.close()
    with quick.engine.connect() as connection:
        index_id = connection.execute(sa.text("SELECT value FROM story_settings WHERE name = 'index_id'")).scalar()
    saved = folder / f"stories-{index_id}.lsh" if server else tmp_path / "catalog.sqlite.lsh"
    assert saved.exists() == server and list(folder.iterdir()) == ([saved] if server else [])
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pipelines.stories"):
        catalog = Catalog(database)
        index = StoryIndex.of(catalog, "", folder)
    if server:
        assert f"up to id {ORIGINALS + 1} opened from {saved}" in caplog.text
    copy = index.add(excerpt("paper", "p-late", late))  # found through the LSH index alone
    assert copy.copy_group is not None and copy.origin == "wire"
    catalog.close()
