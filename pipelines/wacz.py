"""Sharing the archive as WACZ: Webrecorder's package of WARCs, a CDXJ index, a page list and a datapackage,
which ReplayWeb.page opens in a browser and pywb imports (https://specs.webrecorder.net/wacz/1.1.1/).

:func:`choose` picks the captures to share from the catalog (outlets, a range of capture times): each
article's latest extracted capture in the range becomes one line of ``pages/pages.jsonl`` (url, ts, title, and
our byline, credited source, published date and article text), and the WARC files holding them go in whole,
byte for byte (the WARCs are the source of truth: no record is rewritten; a file may so hold a few captures
outside the range, listed as no page). :func:`package` checks those WARCs (a damaged one stays out and is
reported), then has py-wacz write the package — its CDXJ index, ``datapackage.json`` and digest — under a
temporary name in the output's folder, renamed only when whole: a stopped run, a full disk or a failure leaves
no half-made package (and a killed run's leftover is removed by the next run).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pipelines.catalog.schema import captures
from pipelines.warc_reader import Damage, read_archive

#: ReplayWeb.page (2.5) builds its text search from the first 1 MiB of a WACZ's ``pages/pages.jsonl`` alone, as
#: stored: a line crossing that mark is dropped, and no page after it can be found, not even by its headline.
#: So the whole page list is kept under it: every article's metadata in full, and the bytes left shared out among
#: the texts — short ones whole, long ones cut (at a word) to one common length, the opening kept.
SEARCH_LIMIT = 1024 * 1024
#: What a text's JSON takes beyond its UTF-8 bytes (escaped line ends and quotes), allowed for in advance.
_ESCAPES = 1.05
#: Seconds between progress lines on long work.
PROGRESS_EVERY = 2.0
#: The page list's header line (pages.jsonl, WACZ 1.1.1).
PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Articles", "hasText": True}
#: What :func:`package` calls the unfinished package beside the output (its process id inside).
_PARTIAL = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.partial$")
EXTRACTED = "extracted"
logger = logging.getLogger(__name__)


class PackageError(Exception):
    """Nothing to package, or a package that cannot be written (the message says why, for a person), and the
    WARCs that were left out, with why."""

    def __init__(self, message: str, left_out: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.left_out = left_out or {}


@dataclass
class Selection:
    """What a package will hold: its pages (pages.jsonl lines) and the WARC files holding them."""

    pages: list[dict[str, Any]] = field(default_factory=list)  # without their texts (read as they are written)
    texts: list[str] = field(default_factory=list)  # each page's article text file, relative to the archive root
    warcs: dict[Path, list[int]] = field(default_factory=dict)  # WARC file -> its pages (indexes into pages)
    missing: dict[str, list[int]] = field(default_factory=dict)  # WARC files named by the catalog, not on disk
    being_written: list[str] = field(default_factory=list)  # WARC files a crawl is still writing (not chosen)


@dataclass
class Report:
    """What :func:`package` wrote, and what it left out."""

    output: Path
    pages: int
    warcs: list[Path]
    warc_bytes: int
    package_bytes: int
    seconds: float
    damaged: dict[Path, list[Damage]]  # WARCs left out, with their damaged stretches
    missing: list[str]  # WARC files the catalog names that the archive lacks
    pages_left_out: int  # pages whose WARC is damaged or missing
    texts_missing: int  # pages whose article text file is gone (listed with their title only)
    texts_cut: int  # article texts cut to share ReplayWeb.page's 1 MiB
    text_bytes: int | None  # the length they were cut to (None: every text whole)
    searchable: int  # the articles ReplayWeb.page's search finds (all, unless their metadata alone is over 1 MiB)

    @property
    def complete(self) -> bool:
        """Everything chosen is in the package."""
        return not self.damaged and not self.missing


def day_range(since: str = "", until: str = "") -> tuple[str, str]:
    """Capture-time bounds for :func:`choose` from days (``YYYY-MM-DD``, ``until`` inclusive) or UTC times
    (``YYYY-MM-DDTHH:MM[:SS]``, ``until`` exclusive); ``ValueError`` for anything else or an empty range."""
    first = _bound(since, "--since", end=False) if since else ""
    last = _bound(until, "--until", end=True) if until else ""
    if first and last and first >= last:
        raise ValueError(f"the range is empty: --since {since} is not before --until {until}")
    return first, last


def _bound(text: str, option: str, end: bool) -> str:
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return (day + timedelta(days=1) if end else day).isoformat()
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{option} takes a day (2024-03-27) or a UTC time (2024-03-27T15:00), not {text!r}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat()


def choose(connection: sa.Connection, root: Path, outlets: Iterable[str] = (), since: str = "",
           until: str = "") -> Selection:
    """Each article's latest extracted capture fetched in [``since``, ``until``) (bounds from :func:`day_range`;
    empty: open), of ``outlets`` (none: every one), and where its WARC is under ``root``."""
    query = sa.select(captures.c.record_id, captures.c.outlet, captures.c.url_key, captures.c.url,
                      captures.c.fetched, captures.c.warc_file, captures.c.title, captures.c.byline,
                      captures.c.source, captures.c.published, captures.c.version,
                      captures.c.article_text_path).where(captures.c.status == EXTRACTED)
    if chosen := sorted(set(outlets)):
        query = query.where(captures.c.outlet.in_(chosen))
    if since:
        query = query.where(captures.c.fetched >= since)
    if until:
        query = query.where(captures.c.fetched < until)
    latest: dict[tuple[str, str], Any] = {}
    for row in connection.execute(query.order_by(captures.c.fetched, captures.c.record_id)):
        latest[(row.outlet, row.url_key or row.url)] = row  # the latest fetch of each article wins
    selection = Selection()
    finder = _WarcFinder(root)
    being_written = set()
    for row in sorted(latest.values(), key=lambda row: (row.fetched, row.record_id)):
        name = row.warc_file or ""
        if finder.being_written(row.outlet, name):  # the crawl still writes it: whole only when it is closed
            being_written.add(name)
            continue
        number = len(selection.pages)
        selection.pages.append({
            "id": _page_id(row.record_id), "url": row.url, "ts": _iso(row.fetched), "title": row.title or "",
            "outlet": row.outlet, "byline": row.byline or "", "source": row.source or "",
            "published": row.published or "", "version": row.version or 1, "record_id": row.record_id,
        })
        selection.texts.append(row.article_text_path or "")
        path = finder.find(row.outlet, name)
        if path is None:
            selection.missing.setdefault(name or "(no WARC recorded)", []).append(number)
        else:
            selection.warcs.setdefault(path, []).append(number)
    selection.being_written = sorted(being_written)
    return selection


def package(selection: Selection, root: Path, output: Path, force: bool = False, title: str = "",
            description: str = "", progress: Callable[[str], None] | None = None) -> Report:
    """Write ``selection`` (of the archive at ``root``) as a WACZ at ``output`` (refused when it exists, unless
    ``force``).

    Damaged WARCs (any stretch :func:`~pipelines.warc_reader.read_archive` cannot read whole) stay out, with
    their pages; :class:`PackageError` when nothing whole is left, the output exists, or writing fails.
    """
    say = progress or (lambda _message: None)
    started = time.monotonic()
    output = Path(output)
    if output.exists() and not force:
        raise PackageError(f"{output} exists: choose another name, or --force to replace it")
    if not output.parent.is_dir():
        raise PackageError(f"no folder {output.parent} to write {output.name} in")
    _remove_leftovers(output)
    damaged: dict[Path, list[Damage]] = {}
    whole: list[Path] = []
    sizes = {path: path.stat().st_size for path in selection.warcs}
    checked, said = 0, time.monotonic()
    for path in sorted(selection.warcs):
        damages = [item for item in read_archive(path) if isinstance(item, Damage)]
        checked += sizes[path]
        if time.monotonic() - said >= PROGRESS_EVERY:
            said = time.monotonic()
            say(f"checked {len(whole) + len(damaged) + 1:,}/{len(selection.warcs):,} WARC files "
                f"({checked / 2**20:,.0f} of {sum(sizes.values()) / 2**20:,.0f} MB)")
        if damages:
            damaged[path] = damages
            logger.warning("%s is damaged (%d stretch(es), first: %s at offset %d): left out of the package",
                           path, len(damages), damages[0].error, damages[0].offset)
        else:
            whole.append(path)
    kept = sorted(number for path in whole for number in selection.warcs[path])
    if not kept:
        left_out = {str(path): f"damaged at offset {damages[0].offset}: {damages[0].error}"
                    for path, damages in damaged.items()}
        left_out.update(dict.fromkeys(selection.missing, "named by the catalog, not in the archive"))
        raise PackageError("nothing to package: " + ("no article capture matches" if not selection.pages else
                                                     "every WARC holding the chosen captures is damaged or missing"),
                           left_out)
    partial = output.parent / f".{output.name}.{os.getpid()}.partial"
    _UNFINISHED.add(partial)
    try:
        with tempfile.TemporaryDirectory(prefix="wacz-pages-") as folder:
            _UNFINISHED.add(Path(folder))
            pages_file = Path(folder) / "pages.jsonl"
            written = _write_pages(pages_file, root, selection, kept)
            arguments = ["create", "-o", str(partial), "-p", str(pages_file), "--copy-pages",
                         *(["--title", title] if title else []), *(["--desc", description] if description else []),
                         *map(str, whole)]
            warc_bytes = sum(sizes[path] for path in whole)
            expected = warc_bytes + pages_file.stat().st_size
            with _Watch(partial, expected, say):
                _py_wacz(arguments)
        if force:
            os.replace(partial, output)
        else:
            try:
                os.link(partial, output)  # never replaces a file made meanwhile
            except FileExistsError:
                raise PackageError(f"{output} appeared while packaging: left as it was; --force replaces it") from None
            partial.unlink()
    except BaseException as error:
        partial.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise PackageError(f"could not write {output}: {error.strerror or error}") from error
        raise
    finally:
        _UNFINISHED.clear()
    missing = sorted(selection.missing)
    return Report(output, len(kept), whole, warc_bytes, output.stat().st_size,
                  time.monotonic() - started, damaged, missing,
                  sum(len(selection.warcs[path]) for path in damaged) + sum(map(len, selection.missing.values())),
                  written.missing, written.cut, written.text_bytes, written.searchable)


@dataclass
class _PageList:
    cut: int = 0
    missing: int = 0
    text_bytes: int | None = None
    searchable: int = 0


def _write_pages(target: Path, root: Path, selection: Selection, kept: list[int]) -> _PageList:
    """The page list (:data:`SEARCH_LIMIT`), each article's text read as its line is written (a package of a
    million articles never holds their texts at once)."""
    written = _PageList()
    header = json.dumps(PAGES_HEADER).encode() + b"\n"
    metadata = len(header) + sum(len(_page_line(selection.pages[number], "")) for number in kept)
    sizes = [_file_size(root, selection.texts[number]) for number in kept]
    written.text_bytes = _share(SEARCH_LIMIT - metadata, [int(size * _ESCAPES) for size in sizes])
    with open(target, "wb") as fh:
        fh.write(header)
        total = len(header)
        for number in kept:
            text, found = _article_text(root, selection.texts[number])
            written.missing += not found
            if written.text_bytes is not None and len(text.encode()) * _ESCAPES > written.text_bytes:
                text = _opening(text, int(written.text_bytes / _ESCAPES))
                written.cut += 1
            line = _page_line(selection.pages[number], text)
            fh.write(line)
            total += len(line)
            written.searchable += total <= SEARCH_LIMIT
    return written


def _page_line(page: dict[str, Any], text: str) -> bytes:
    return json.dumps({**page, "text": text}, ensure_ascii=False).encode() + b"\n"


def _share(budget: int, sizes: list[int]) -> int | None:
    """The length to cut texts of these sizes to so that together they take at most ``budget`` bytes, short
    ones whole (None: all fit whole; 0: nothing fits)."""
    if sum(sizes) <= budget:
        return None
    remaining, count = max(budget, 0), len(sizes)
    for done, size in enumerate(sorted(sizes)):
        if size * (count - done) > remaining:
            return remaining // (count - done)
        remaining -= size
    return None


def _opening(text: str, size: int) -> str:
    """The text's opening in at most ``size`` UTF-8 bytes, ended at a word."""
    cut = text.encode()[:size].decode("utf-8", "ignore")
    return cut[:cut.rfind(" ")] if " " in cut else cut


#: What the package being written has on disk so far (its partial file, its page list's folder).
_UNFINISHED: set[Path] = set()


def abandon() -> None:
    """Remove what the package being written has on disk so far: for a signal handler that ends the process at
    once (py-wacz's indexer catches every exception around some of its steps, so an exception raised from a
    handler may not stop it)."""
    for path in list(_UNFINISHED):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _py_wacz(arguments: list[str]) -> None:
    """py-wacz's ``wacz create``, in this process; what it prints goes to the log."""
    from wacz.main import main as wacz_main

    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        try:
            status = wacz_main(arguments)
        except SystemExit as exit_:  # its argument parser's way of failing
            status = exit_.code
        except (RuntimeError, ValueError, zipfile.LargeZipFile) as error:  # a page list over 2 GiB (zipfile), ...
            raise PackageError(f"py-wacz could not write the package: {error}") from error
    for line in said.getvalue().splitlines():
        logger.debug("py-wacz: %s", line)
    if status:
        raise PackageError(f"py-wacz failed (status {status}): {said.getvalue().strip()[-500:]}")


class _Watch:
    """Says every few seconds how far the package being written has got (py-wacz itself says nothing)."""

    def __init__(self, path: Path, expected: int, say: Callable[[str], None], every: float = PROGRESS_EVERY) -> None:
        self.path, self.expected, self.say, self.every = path, expected, say, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wacz-progress", daemon=True)

    def __enter__(self) -> _Watch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            with contextlib.suppress(OSError):
                written = self.path.stat().st_size
                self.say(f"packaging: {written / 2**20:,.0f} of about {self.expected / 2**20:,.0f} MB written")


def _remove_leftovers(output: Path) -> None:
    """Remove unfinished packages of ``output`` whose process is gone (a run killed before it could)."""
    for candidate in output.parent.glob(f".{output.name}.*.partial"):
        match = _PARTIAL.match(candidate.name)
        if match and match["name"] == output.name and not _alive(int(match["pid"])):
            candidate.unlink(missing_ok=True)
            logger.info("removed %s, left by a packaging run that was stopped", candidate)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        pass
    return True


class _WarcFinder:
    """Where a WARC named by the catalog is: ``<root>/<outlet>/warc/<name>``, else anywhere under the root (a
    catalog rebuilt from WARCs kept elsewhere)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._elsewhere: dict[str, Path] | None = None

    def being_written(self, outlet: str, name: str) -> bool:
        """Whether a crawl is still writing the WARC (``NAME.open``: renamed when closed)."""
        return bool(name) and "/" not in name and (self.root / outlet / "warc" / f"{name}.open").is_file()

    def find(self, outlet: str, name: str) -> Path | None:
        if not name or "/" in name or name.startswith("."):
            return None
        usual = self.root / outlet / "warc" / name
        if usual.is_file():
            return usual
        if self._elsewhere is None:
            self._elsewhere = {}
            for path in sorted(self.root.rglob("*.warc.gz")):
                self._elsewhere.setdefault(path.name, path)
        return self._elsewhere.get(name)


def _text_file(root: Path, relative: str | None) -> Path | None:
    """The article text file at ``relative``, only under ``root``."""
    if not relative:
        return None
    path = (root / relative).resolve()
    return path if path.is_relative_to(root.resolve()) and path.is_file() else None


def _file_size(root: Path, relative: str | None) -> int:
    path = _text_file(root, relative)
    return path.stat().st_size if path is not None else 0


def _article_text(root: Path, relative: str | None) -> tuple[str, bool]:
    """The article text at ``relative``, and whether it is there."""
    path = _text_file(root, relative)
    return (path.read_text("utf-8", "replace"), True) if path is not None else ("", False)


def _page_id(record_id: str) -> str:
    """A page id from the capture's WARC-Record-ID (``<urn:uuid:…>``): its uuid."""
    return record_id.strip("<>").rsplit(":", 1)[-1]


def _iso(fetched: str) -> str:
    """The capture time as ReplayWeb.page reads a page's ``ts``: ISO 8601 in UTC."""
    return fetched if fetched.endswith("Z") or "+" in fetched[10:] else f"{fetched}Z"
