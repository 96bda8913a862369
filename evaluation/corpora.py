"""The shared test corpora (``../shared/corpora`` beside the project), read in place, never copied.

Each loader turns a corpus folder into its pages: where the (gzipped) HTML is, whether it is decoded as
UTF-8 or passed as raw bytes, and the ground truth the corpus's metric reads (defined, corpus by corpus,
in :mod:`evaluation.metrics`).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: CLI name -> folder under the corpora directory
CORPORA = {
    "aeb": "article-extraction-benchmark",
    "fundus": "fundus-test-data",
    "trafilatura": "trafilatura-eval",
}
#: ``../shared/corpora`` beside the project (this package's parent directory)
DEFAULT_CORPORA_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"


@dataclass
class Page:
    """One corpus page: where its HTML is, how to read it, and its ground truth."""

    id: str
    url: str
    path: Path
    as_text: bool  # decode as UTF-8 (the corpus says so) or pass the raw bytes
    truth: dict[str, Any] = field(default_factory=dict)

    def html(self) -> str | bytes:
        data = gzip.decompress(self.path.read_bytes())
        return data.decode("utf-8") if self.as_text else data


def load_aeb(root: Path) -> list[Page]:
    """article-extraction-benchmark pages, sorted by id."""
    truth = json.loads((root / "ground-truth.json").read_text("utf-8"))
    return [
        Page(key, item.get("url", ""), root / "html" / f"{key}.html.gz", True,
             {"body": item.get("articleBody") or ""})
        for key, item in sorted(truth.items())
    ]


def fundus_body(body: dict[str, Any]) -> str:
    """Summary paragraphs, then each section's headlines and paragraphs, one per line."""
    lines = list(body.get("summary", []))
    for section in body.get("sections", []):
        lines += section.get("headline", []) + section.get("paragraphs", [])
    return "\n".join(lines)


def load_fundus(root: Path) -> list[Page]:
    """English fundus pages, in manifest order."""
    pages = []
    for row in json.loads((root / "manifest.json").read_text("utf-8")):
        if not row.get("english"):
            continue
        expected = json.loads((root / row["expected"]).read_text("utf-8"))[row["version_key"]]
        truth = {
            "body": fundus_body(expected.get("body", {})),
            "title": expected.get("title", ""),
            "authors": expected.get("authors", []),
            "published": expected.get("publishing_date", ""),
        }
        pages.append(Page(row["html"], row.get("url", ""), root / row["html"], True, truth))
    return pages


def load_trafilatura_eval(root: Path) -> list[Page]:
    """Annotated trafilatura-eval pages, in evaldata.json order."""
    evaldata = json.loads((root / "evaldata.json").read_text("utf-8"))
    locations = json.loads((root / "file_locations.json").read_text("utf-8"))
    return [
        Page(item["file"], url, root / locations[item["file"]], False,
             {"with": item.get("with", []), "without": item.get("without", [])})
        for url, item in evaldata.items()
    ]


LOADERS: dict[str, Callable[[Path], list[Page]]] = {
    "aeb": load_aeb, "fundus": load_fundus, "trafilatura": load_trafilatura_eval,
}
