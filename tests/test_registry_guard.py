"""The registry-wide test really guards the registry: an outlet without fixtures makes it fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

OUTLET = '''
from crawler.outlet import OutletSpider


class UnfixturedSpider(OutletSpider):
    name = "unfixtured"
    allowed_domains = ["unfixtured.example"]
    feeds = ("https://www.unfixtured.example/rss",)
    article_pattern = r"/news/"
'''


def test_an_outlet_without_fixtures_fails_the_registry_test(tmp_path: Path) -> None:
    (tmp_path / "unfixtured_outlets").mkdir()
    (tmp_path / "unfixtured_outlets" / "__init__.py").write_text("")
    (tmp_path / "unfixtured_outlets" / "unfixtured.py").write_text(OUTLET)
    (tmp_path / "settings_plus_unfixtured.py").write_text(
        "from settings import *  # noqa: F403\nSPIDER_MODULES = [*SPIDER_MODULES, 'unfixtured_outlets']\n"  # noqa: F405
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)]),
        "SCRAPY_SETTINGS_MODULE": "settings_plus_unfixtured",
    }
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_outlet_registry.py",
         "-k", "unfixtured and (fixtures or crawl)"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 1, run.stdout[-3000:]
    assert "outlet 'unfixtured' has no fixtures" in run.stdout
    assert "2 failed" in run.stdout
