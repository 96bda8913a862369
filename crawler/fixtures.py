"""Where outlets' fixtures live, and what an outlet's fixture folder holds.

``OUTLET_FIXTURES`` names folders of ``<outlet>/`` fixture folders (relative paths
are from the project folder, where ``scrapy.cfg`` is; by default ``fixtures/``);
the first one holding an outlet's folder is its. A fixture folder has
``expected.json`` and the outlet's site as WARCs (``*.warc.gz``): captured from
a site by ``scrapy capture``, or recorded from hand-made site files
(``web/<host>/<path>``, the editable source) by ``make fixtures``. ``scrapy
checkoutlet`` replays the WARCs (``ARCHIVE_SOURCE``); the tests' local outlet
web serves the files and the WARCs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.conf import closest_scrapy_cfg
from twisted.python.failure import Failure

from pipelines.catalog import Catalog

EXPECTED = "expected.json"
#: The fields of an article a person reviews in ``expected.json`` (besides its text).
FIELDS = ("title", "byline", "source", "published")


def fixture_roots(settings: Any) -> list[Path]:
    """The ``OUTLET_FIXTURES`` folders, absolute."""
    cfg = closest_scrapy_cfg()
    project = Path(cfg).parent if cfg else Path.cwd()
    return [(project / root).resolve() for root in settings.getlist("OUTLET_FIXTURES")]


def fixture_dir(settings: Any, outlet: str) -> Path | None:
    """The outlet's fixture folder, if it has one (with ``expected.json`` and a site)."""
    for root in fixture_roots(settings):
        folder = root / outlet
        if (folder / EXPECTED).is_file() and ((folder / "web").is_dir() or fixture_warcs(folder)):
            return folder
    return None


def fixture_warcs(folder: Path) -> list[Path]:
    """The WARCs an outlet's fixture site is (partly) made of."""
    return sorted(folder.glob("*.warc.gz"))


def read_expected(folder: Path) -> dict[str, Any]:
    return json.loads((folder / EXPECTED).read_text("utf-8"))


def trial_crawl(process: Any, settings: Any, spidercls: type, root: Path) -> Any:
    """Crawl once, in this process, into a scratch archive at ``root`` (its own WARCs and catalog).

    Nothing of the real archive is read or written: no seen-state, no run summary. Fetching goes
    through Scrapy as any crawl does, so ``LOCAL_WEB_PROXY`` and ``ARCHIVE_SOURCE`` apply. Returns the
    finished crawler.
    """
    for name, value in {"ARCHIVE_ROOT": str(root), "CATALOG_PATH": str(root / "catalog.sqlite"), "DATABASE_URL": None,
                        "INCREMENTAL": False, "RUN_SUMMARY_FILE": None}.items():
        settings.set(name, value, priority="cmdline")
    crawler = process.create_crawler(spidercls)
    process.crawl(crawler)
    process.start()
    return crawler


def extractions(root: Path, outlet: str) -> dict[str, dict[str, Any]]:
    """URL -> what extraction made of each article page of a trial crawl, in ``expected.json`` form.

    A page that gave no article maps to ``{"rejected": reason}``.
    """
    catalog = Catalog(root / "catalog.sqlite")
    try:
        rows = catalog.rows(outlet)
    finally:
        catalog.close()
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["status"] == "unchanged":  # a revisit: the version it repeats is listed already
            continue
        if row["status"] == "rejected":
            found[row["url"]] = {"rejected": f"{row['reason']} ({row['detail']})"}
            continue
        text = (root / row["article_text_path"]).read_text("utf-8")
        found[row["url"]] = {field: row[field] or "" for field in FIELDS} | {"text": text}
    return found


class ToolCommand(ScrapyCommand):
    """Base of the outlet tools (scaffold, capture, checkoutlet): their output is their report.

    So the log shows warnings only, unless the command line asks for more.
    """

    requires_project = True

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        if self.settings.getpriority("LOG_LEVEL") < SETTINGS_PRIORITIES["cmdline"]:
            self.settings.set("LOG_LEVEL", "WARNING", priority="cmdline")


def failure_reason(failure: Failure) -> str:
    """Why a fetch failed, in a few words (``HTTP 404``, a connection error)."""
    error = failure.value
    if isinstance(error, HttpError):
        return f"HTTP {error.response.status}"
    return failure.getErrorMessage() or type(error).__name__
