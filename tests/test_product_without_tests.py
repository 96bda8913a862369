"""The product does not need ``tests/``: ``scrapy checkoutlet`` runs offline from what the Docker image holds.

``crawler/``, ``pipelines/``, ``settings.py``, ``scrapy.cfg`` and ``fixtures/`` (what the Dockerfile copies,
``tests/`` not among them) go to a temporary folder, and ``python -m scrapy checkoutlet`` runs there as a real
subprocess: it replays the outlet's fixture WARCs through ``ARCHIVE_SOURCE``, with no local web and no network.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

#: What the product is made of (and the Docker image copies): no tests/.
PRODUCT = ("crawler", "pipelines", "settings.py", "scrapy.cfg", "fixtures")
OUTLET = "ndtv"


def copy_product(target: Path) -> Path:
    target.mkdir()
    for name in PRODUCT:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target / name)
    return target


def run(app: Path, *args: str) -> subprocess.CompletedProcess:
    """``python ARGS`` in ``app``, which is its working folder and its only PYTHONPATH entry."""
    env = {name: value for name, value in os.environ.items()
           if name not in {"PYTHONPATH", "SCRAPY_SETTINGS_MODULE", "http_proxy", "https_proxy"}}
    env["PYTHONPATH"] = str(app)
    return subprocess.run([sys.executable, *args], cwd=app, env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture()
def app(tmp_path: Path) -> Path:
    app = copy_product(tmp_path / "app")
    assert not (app / "tests").exists()
    # the code that runs is the copy's, and tests/ cannot be imported at all (the venv's editable install of the
    # project exposes crawler, pipelines and settings only)
    where = run(app, "-c", "import importlib.util as u, crawler, settings; "
                           "print(crawler.__file__, settings.__file__, u.find_spec('tests'))")
    assert where.returncode == 0, where.stderr
    assert where.stdout.split() == [str(app / "crawler" / "__init__.py"), str(app / "settings.py"), "None"]
    return app


def test_the_image_copies_the_product() -> None:
    copied = set()
    for line in (REPO / "Dockerfile").read_text("utf-8").splitlines():
        if line.startswith("COPY "):
            copied.update(source.rstrip("/") for source in shlex.split(line)[1:-1])
    assert set(PRODUCT) <= copied, f"the Dockerfile does not copy {sorted(set(PRODUCT) - copied)}"
    assert "tests" not in copied


def test_checkoutlet_replays_the_fixture_warcs_without_tests(app: Path) -> None:
    expected = json.loads((app / "fixtures" / OUTLET / "expected.json").read_text("utf-8"))["articles"]
    assert list((app / "fixtures" / OUTLET).glob("*.warc.gz")), "no fixture WARC: run `make fixtures`"
    check = run(app, "-m", "scrapy", "checkoutlet", OUTLET)
    output = check.stdout + check.stderr
    assert check.returncode == 0, output
    assert "Traceback" not in output and "ModuleNotFoundError" not in output, output
    pages = len(expected)
    assert f"{OUTLET} (fixtures): {pages} article pages" in check.stdout, output
    for field in ("title", "byline", "published", "body"):
        assert f"  {field:<11} {pages}/{pages}\n" in check.stdout, output
    assert "  confidence  " in check.stdout, output
    # every expected article was extracted, and nothing else: none missing, none unexpected
    assert "MISSING" not in check.stdout and "UNEXPECTED" not in check.stdout, output
    # no new archive next to the product: the trial crawl went to a scratch folder, and replaying wrote no WARC
    assert not (app / "archive").exists()


def test_checkoutlet_without_a_fixture_warc_says_how_to_make_one(app: Path) -> None:
    for warc in (app / "fixtures" / OUTLET).glob("*.warc.gz"):
        warc.unlink()
    assert (app / "fixtures" / OUTLET / "web").is_dir()  # site files, not yet recorded
    check = run(app, "-m", "scrapy", "checkoutlet", OUTLET)
    assert check.returncode != 0, check.stdout + check.stderr
    assert "Traceback" not in check.stdout + check.stderr, check.stderr
    assert f"{OUTLET} has no fixture WARC" in check.stderr, check.stderr
    assert f"run `make fixtures` or `scrapy capture {OUTLET}`" in check.stderr, check.stderr
    assert "article pages" not in check.stdout
