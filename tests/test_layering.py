"""The package layering holds, and the tool that holds it would notice a break (``lint-imports``).

``pipelines`` is a library (no Scrapy, no Twisted, no crawler, no tests); the crawler never needs ``tests``;
the evaluation harness scores the library alone; the reading room (``reader``) reads the library's archive and
is started by the crawler's ``scrapy serve`` alone. The contracts are in ``pyproject.toml``; ``make test`` runs
``lint-imports`` before the suite, and this test runs it too, once on the project and once on a copy with a
forbidden import slipped in.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("pipelines", "crawler", "evaluation", "reader", "tests")


def lint_imports(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=folder, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(folder), "PATH": "/usr/bin:/bin"})


def test_the_contracts_are_kept() -> None:
    done = lint_imports(REPO)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "5 kept, 0 broken" in done.stdout


def test_a_forbidden_import_breaks_the_build(tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "fixtures"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    library = tmp_path / "pipelines" / "urls.py"
    library.write_text(library.read_text("utf-8") + "\nfrom crawler.outlets import registry  # a library reaching up\n")
    product = tmp_path / "crawler" / "fixtures.py"
    product.write_text(product.read_text("utf-8") + "\nimport tests.localweb  # the product needing tests/\n")
    # the library and the product broken, and through the library the reading room and the evaluation harness
    done = lint_imports(tmp_path)
    assert done.returncode == 1 and "1 kept, 4 broken" in done.stdout, done.stdout[-3000:]
    assert "pipelines.urls -> crawler.outlets" in done.stdout and "crawler.fixtures -> tests.localweb" in done.stdout
