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
    "readability": "readability-test-pages",
    "postlight": "postlight-parser-fixtures",
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
            "publisher": row.get("publisher", ""),
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


def load_readability(root: Path) -> list[Page]:
    """Mozilla Readability's test pages (one folder each, sorted by name): ``source.html.gz`` decoded as
    UTF-8, truth from ``expected-metadata.json`` (``title``, ``byline``, ``excerpt``, ``publishedTime``,
    ``siteName``; ``None`` where Readability found nothing). The suite records no URLs: ``url`` is ""."""
    pages = []
    for folder in sorted(p for p in root.iterdir() if (p / "expected-metadata.json").is_file()):
        meta = json.loads((folder / "expected-metadata.json").read_text("utf-8"))
        truth = {
            "title": meta.get("title"), "byline": meta.get("byline"), "excerpt": meta.get("excerpt"),
            "published": meta.get("publishedTime"), "site_name": meta.get("siteName"),
        }
        pages.append(Page(folder.name, "", folder / "source.html.gz", True, truth))
    return pages


#: expected.json key -> truth key, for the Postlight fixtures
POSTLIGHT_FIELDS = {"title": "title", "author": "author", "date_published": "published", "dek": "dek",
                    "content_first_words": "first_words"}


def load_postlight(root: Path) -> list[Page]:
    """Postlight (Mercury) parser fixtures, in ``expected.json`` order, decoded as UTF-8.

    The truth holds only the fields the fixture's test asserted: a missing key is not scored, a ``None``
    value means "the page has none" (e.g. ``author: null``). ``first_words`` is the first entry of
    ``content_first_words``. Records asserting none of these fields are left out; a fixture file named
    twice gets ``#2``... after its id.
    """
    pages: list[Page] = []
    seen: dict[str, int] = {}
    for record in json.loads((root / "expected.json").read_text("utf-8")):
        expected = record.get("expected") or {}
        truth = {ours: expected[theirs] for theirs, ours in POSTLIGHT_FIELDS.items() if theirs in expected}
        if "first_words" in truth:
            words = truth["first_words"] or []
            truth["first_words"] = words[0] if words else None
        if not truth:
            continue
        name = Path(record["fixture"]).name
        seen[name] = seen.get(name, 0) + 1
        page_id = name if seen[name] == 1 else f"{name}#{seen[name]}"
        pages.append(Page(page_id, record.get("url", ""), root / record["fixture_file"], True, truth))
    return pages


LOADERS: dict[str, Callable[[Path], list[Page]]] = {
    "aeb": load_aeb, "fundus": load_fundus, "trafilatura": load_trafilatura_eval,
    "readability": load_readability, "postlight": load_postlight,
}
