"""Where outlets' fixtures live, and what an outlet's fixture folder holds.

``OUTLET_FIXTURES`` names folders of ``<outlet>/`` fixture folders (relative paths
are from the project folder, where ``scrapy.cfg`` is); the first one holding an
outlet's folder is its. A fixture folder has ``expected.json`` and the outlet's
site, as files (``web/<host>/<path>``) or as WARCs (``*.warc.gz``, written by
``scrapy capture``); the local outlet web (``tests/localweb``) serves both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scrapy.utils.conf import closest_scrapy_cfg

EXPECTED = "expected.json"


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
