"""Where extraction results go: seed-form file names in a browsable layout, written atomically.

Layout under the output root::

    <outlet>/text/<YYYY-MM-DD>/<HHMMSS>-<serial>/NNN_<16 hex>.txt (+ .json beside the article text)

The day, time and serial are those of the WARC file holding the capture (so one
folder per crawl run; a frontier worker's process id follows, as it is one of
several writers); for the k-th response record of that file, the page text is
``2k`` and the article text ``2k+1``; the identifier is a hash of the
capture's WARC-Record-ID and the kind of text. Re-extracting the same WARCs
therefore gives the same names, and nothing taken from a page is ever part of
a path. Files are written to a temporary name and renamed, so a reader never
sees a partial file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.capture import WarcLocation

_OUTLET = re.compile(r"^[a-z][a-z0-9_]*$")
_WARC_NAME = re.compile(
    r"^[a-z][a-z0-9_]*-(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\d{3}-(\d{5})-(?:(\d+)~)?[A-Za-z0-9._]+\.warc\.gz$"
)


@dataclass(frozen=True)
class CaptureNames:
    """The three files of one extracted capture, relative to the output root."""

    page_text: Path
    article_text: Path
    metadata: Path


def capture_names(outlet: str, warc_file: str, ordinal: int, record_id: str, date: str = "") -> CaptureNames:
    """Names for the capture at response ``ordinal`` of ``warc_file`` (see the module docstring).

    A WARC file named otherwise (another crawler's) gets a folder named after the capture's
    ``date`` (its WARC-Date) and a hash of the file name.
    """
    if not _OUTLET.match(outlet):
        raise ValueError(f"not an outlet identifier: {outlet!r}")
    if ordinal < 0:
        raise ValueError(f"negative record ordinal {ordinal}")
    match = _WARC_NAME.match(warc_file)
    if match:
        year, month, day, hour, minute, second, serial, pid = match.groups()
        writer = f"-{pid}" if pid else ""  # one of several workers writing at once
        folder = Path(outlet) / "text" / f"{year}-{month}-{day}" / f"{hour}{minute}{second}-{serial}{writer}"
    elif day := re.match(r"(\d{4}-\d{2}-\d{2})", date):
        folder = Path(outlet) / "text" / day[1] / hashlib.sha256(warc_file.encode()).hexdigest()[:12]
    else:
        raise ValueError(f"neither a WARC file of this archive nor a dated capture: {warc_file!r}")
    page = folder / f"{2 * ordinal:03d}_{_identifier(record_id, 'page')}.txt"
    article = folder / f"{2 * ordinal + 1:03d}_{_identifier(record_id, 'article')}.txt"
    return CaptureNames(page, article, article.with_suffix(".json"))


def _identifier(record_id: str, kind: str) -> str:
    return hashlib.sha256(f"{record_id}\0{kind}".encode()).hexdigest()[:16]


def write_atomically(root: Path, relative: Path, data: str | bytes) -> Path:
    """Write ``data`` to ``root/relative`` through a temporary file and a rename."""
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ValueError(f"{relative} is outside the output root")
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as fh:
            fh.write(payload)
        os.replace(temporary, target)  # no fsync: a killed process never leaves a partial file, and it is cheap
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def remove_stale_partials(directory: Path, older_than: float = 60.0) -> int:
    """Delete the hidden ``.*.part`` files a killed writer left in ``directory`` (never at a final name, but
    clutter); ones younger than ``older_than`` seconds may belong to a writer still running and stay."""
    removed = 0
    cutoff = time.time() - older_than
    for partial in directory.rglob(".*.part"):
        try:
            if partial.stat().st_mtime < cutoff:
                partial.unlink()
                removed += 1
        except FileNotFoundError:  # its writer finished and renamed it meanwhile
            continue
    return removed


def sidecar_json(metadata: dict[str, Any]) -> str:
    """The metadata sidecar as stable, readable JSON (sorted keys, UTF-8, final newline)."""
    return json.dumps(metadata, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_outputs(root: Path, names: CaptureNames, article: Any, outlet: str, location: WarcLocation) -> dict[str, Any]:
    """Write an extracted article's three files; return the catalog columns that describe them.

    The crawl and replay both write through here (:mod:`pipelines.process`), so their outputs are the same bytes.
    """
    metadata = {
        **article.metadata(),
        "outlet": outlet,
        "fetched": location.date,
        "provenance": {
            "warc_file": location.file,
            "warc_offset": location.offset,
            "warc_length": location.length,
            "record_id": location.record_id,
            "payload_digest": location.payload_digest,
        },
        "files": {"page_text": names.page_text.name, "article_text": names.article_text.name},
    }
    write_atomically(root, names.page_text, article.page_text)
    write_atomically(root, names.article_text, article.text)
    write_atomically(root, names.metadata, sidecar_json(metadata))
    return {
        "canonical_url": article.canonical_url,
        "status": "extracted",
        "title": article.title,
        "byline": article.byline,
        "source": article.source,
        "published": article.published,
        "language": article.language,
        "word_count": article.word_count,
        "page_text_path": str(names.page_text),
        "article_text_path": str(names.article_text),
        "metadata_path": str(names.metadata),
        "extractor_version": article.extractor_version,
    }
