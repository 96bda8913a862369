"""``scrapy evaluate``: score the article extractor on the shared corpora, next to trafilatura's default run.

Prints one table (a row per metric, a column per extractor) and writes the full result, page by page,
as JSON (``<ARCHIVE_ROOT>/evaluation.json`` unless ``--json`` says otherwise). The metrics are defined
in :mod:`pipelines.evaluate`. Progress goes to stderr: a full run takes minutes.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.utils.conf import closest_scrapy_cfg

from pipelines.evaluate import CORPORA, Extractor, evaluate, format_table, trafilatura_default

OURS = "pipelines.extract:extract_article"


def load_callable(spec: str) -> Extractor:
    """``module:function`` -> the function."""
    module, _, name = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), name or "extract_article")
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"cannot load the extractor {spec!r}: {type(exc).__name__}: {exc}") from exc


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[options]"

    def short_desc(self) -> str:
        return "Score the article extractor and trafilatura on the shared test corpora"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--corpus", action="append", choices=list(CORPORA), dest="corpora",
                            help="corpus to score (repeatable; all by default)")
        parser.add_argument("--limit", type=int, help="only the first N pages of each corpus")
        parser.add_argument("--json", dest="json_out",
                            help="JSON output file (default <ARCHIVE_ROOT>/evaluation.json)")
        parser.add_argument("--corpora-dir",
                            help="the shared corpora (default ../shared/corpora beside the project)")
        parser.add_argument("--jobs", type=int, help="worker processes (by default up to 2)")
        parser.add_argument("--ours", default=OURS,
                            help=f"our extractor as module:function (default {OURS}); "
                                 "'none' for trafilatura only")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if args:
            raise UsageError(f"unexpected arguments: {' '.join(args)}")
        if opts.limit is not None and opts.limit < 1:
            raise UsageError("--limit must be at least 1")
        corpora_dir = Path(opts.corpora_dir) if opts.corpora_dir else default_corpora_dir()
        if not corpora_dir.is_dir():
            raise UsageError(f"corpora directory not found: {corpora_dir} (give it with --corpora-dir)")
        extractors: dict[str, Extractor] = {}
        if opts.ours.lower() != "none":
            extractors["ours"] = load_callable(opts.ours)
        extractors["trafilatura"] = trafilatura_default
        corpora = list(dict.fromkeys(opts.corpora or CORPORA))

        result = evaluate(extractors, corpora, opts.limit, corpora_dir, opts.jobs)
        specs = {"ours": opts.ours} if "ours" in extractors else {}
        specs["trafilatura"] = f"trafilatura {version('trafilatura')} defaults"
        generated = datetime.now(timezone.utc).isoformat(timespec="seconds")
        result = {"generated": generated, "extractor_specs": specs, **result}
        out = Path(opts.json_out or Path(self.settings.get("ARCHIVE_ROOT", "archive")) / "evaluation.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1, ensure_ascii=False), "utf-8")
        print(format_table(result))
        print(f"JSON written to {out}", file=sys.stderr)


def default_corpora_dir() -> Path:
    """``../shared/corpora`` relative to the project root (the directory of scrapy.cfg)."""
    cfg = closest_scrapy_cfg()
    root = Path(cfg).parent if cfg else Path.cwd()
    return (root / ".." / "shared" / "corpora").resolve()
