"""``python -m tests.localweb.record [--force] [OUTLET ...]`` (``make fixtures``): record fixture sites as WARCs.

An outlet whose fixtures are hand-made site files (``fixtures/<outlet>/web/<host>/...`` and ``web.json``) keeps
them as the editable source of its tests; beside them lies a WARC of that site as the outlet's own crawl archives
it, which ``scrapy checkoutlet`` replays through ``ARCHIVE_SOURCE`` (no local web, nothing of ``tests/``). This
tool makes that WARC, for the outlets named (by default every outlet whose fixtures have a ``web/`` folder):

- the local outlet web serves the site files alone (not the fixture WARCs, which would still answer a URL whose
  file is gone);
- the real ``scrapy crawl OUTLET`` runs into a scratch archive, as the registry test runs it
  (``LOCAL_CRAWL_SETTINGS``, ``LOCAL_WEB_PROXY``), with ``INCREMENTAL=False``;
- the crawl must exit 0 without a traceback, archive exactly the articles ``expected.json`` lists, leave WARCs
  that ``warcio check`` passes and that hold every declared feed, sitemap and front page and every expected
  article;
- its WARC(s) replace the outlet's previous recording(s) in ``fixtures/<outlet>/``, under the archiver's own names
  (``<outlet>-<timestamp>-00000-<host>.warc.gz``).

A previous recording that holds the same responses (URL, status and decoded body, as
:func:`recorded_responses` reads them) is kept, so re-running the tool changes only the outlets whose files
changed; ``--force`` records every named outlet anew. ``tests/test_outlet_registry.py`` fails while a recording
differs from what the files serve.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings

from crawler.fixtures import fixture_dir, fixture_roots, fixture_warcs, read_expected
from pipelines.warc_reader import Damage, read_archive
from tests.conftest import REPO, run_crawl
from tests.localweb.server import LocalWeb
from tests.warc_reading import warcio_check

#: The crawl's settings besides the local web's: a first crawl, fetching everything it finds.
RECORD_SETTINGS = {"INCREMENTAL": "False"}


def site_files(folder: Path) -> bool:
    """Whether an outlet's fixtures are site files (``web/``), which a recorded WARC is made from."""
    return (folder / "web").is_dir()


def recorded_responses(warcs: list[Path]) -> list[tuple[str, int, bytes]]:
    """Every response of the WARCs, in file order: URL, status and the body decoded (``Content-Encoding`` undone).

    Raises ``ValueError`` for a damaged stretch or a payload that cannot be decoded.
    """
    responses = []
    for warc in warcs:
        for capture in read_archive(warc):
            if isinstance(capture, Damage):
                raise ValueError(f"{warc.name}: damaged at offset {capture.offset}: {capture.error}")
            if capture.is_revisit:
                raise ValueError(f"{warc.name}: a revisit record of {capture.url} (a recording is one full crawl)")
            responses.append((capture.url, capture.status, capture.body()))
    return responses


def required_urls(spidercls: Any, expected: dict[str, Any]) -> list[str]:
    """What a recording must hold: every declared feed, sitemap and front page, every expected article."""
    return [*spidercls.feeds, *spidercls.sitemaps, *spidercls.front_pages, *expected["articles"]]


def _fingerprint(responses: list[tuple[str, int, bytes]]) -> Counter[tuple[str, int, str]]:
    return Counter((url, status, hashlib.sha256(body).hexdigest()) for url, status, body in responses)


def record(outlet: str, spidercls: Any, folder: Path, roots: list[Path], force: bool = False) -> str:
    """Record ``outlet``'s site files into ``folder``; returns what was done. Raises ``RecordingFailed``."""
    expected = read_expected(folder)
    with tempfile.TemporaryDirectory(prefix=f"record-{outlet}-") as scratch:
        archive = Path(scratch)
        with LocalWeb(roots, warcs=False) as web:
            crawl = run_crawl(outlet, archive, web, settings=RECORD_SETTINGS, timeout=300)
        if crawl.returncode != 0 or "Traceback" in crawl.log:
            raise RecordingFailed(f"the crawl failed (exit {crawl.returncode}):\n{crawl.log[-3000:]}")
        archived = sorted(item["url"] for item in crawl.items)
        if archived != sorted(expected["articles"]):
            raise RecordingFailed(
                f"the crawl archived {archived}, expected.json lists {sorted(expected['articles'])}: "
                "make the site files and expected.json agree first")
        warcs = crawl.warcs(outlet)
        if not warcs or list((archive / outlet / "warc").glob("*.open")):
            raise RecordingFailed("the crawl left no closed WARC file")
        checked = warcio_check(*warcs)
        if checked.returncode != 0:
            raise RecordingFailed(f"warcio check failed:\n{checked.stdout}{checked.stderr}")
        responses = recorded_responses(warcs)
        missing = sorted(set(required_urls(spidercls, expected)) - {url for url, _, _ in responses})
        if missing:
            raise RecordingFailed(f"the crawl did not archive {', '.join(missing)}")
        previous = fixture_warcs(folder)
        if previous and not force:
            try:
                same = _fingerprint(recorded_responses(previous)) == _fingerprint(responses)
            except ValueError:
                same = False
            if same:
                return f"unchanged, kept {', '.join(p.name for p in previous)}"
        for path in previous:
            path.unlink()
        for warc in warcs:
            shutil.copy2(warc, folder / warc.name)
    size = sum((folder / warc.name).stat().st_size for warc in warcs)
    replaced = f", replacing {', '.join(p.name for p in previous)}" if previous else ""
    return (f"recorded {', '.join(w.name for w in warcs)} ({len(responses)} responses, "
            f"{size / 1024:.0f} KiB){replaced}")


class RecordingFailed(Exception):
    """The crawl of an outlet's site files did not give a usable recording; nothing was replaced."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.localweb.record", description=__doc__.splitlines()[0])
    parser.add_argument("outlets", nargs="*", metavar="OUTLET",
                        help="outlets to record (by default every outlet whose fixtures are site files)")
    parser.add_argument("--force", action="store_true", help="record anew even where the recording is unchanged")
    args = parser.parse_args(argv)
    os.chdir(REPO)  # the project's scrapy.cfg, settings and OUTLET_FIXTURES
    settings = get_project_settings()
    loader = SpiderLoader.from_settings(settings)
    roots = fixture_roots(settings)
    known = sorted(loader.list())
    errors = 0
    for outlet in args.outlets or known:
        if outlet not in known:
            print(f"{outlet}: unknown outlet (known: {', '.join(known)})", file=sys.stderr)
            errors += 1
            continue
        folder = fixture_dir(settings, outlet)
        if folder is None or not site_files(folder):
            if args.outlets:  # named: say why nothing happens
                what = "no fixtures" if folder is None else "no site files (web/): its WARC is a capture"
                print(f"{outlet}: {what}; `scrapy capture {outlet} --force` captures it anew", file=sys.stderr)
                errors += 1
            continue
        print(f"{outlet}: crawling {folder.relative_to(REPO) if folder.is_relative_to(REPO) else folder} ...",
              flush=True)
        try:
            print(f"{outlet}: {record(outlet, loader.load(outlet), folder, roots, args.force)}", flush=True)
        except RecordingFailed as error:
            print(f"{outlet}: nothing replaced: {error}", file=sys.stderr)
            errors += 1
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
