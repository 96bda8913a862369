"""``python -m evaluation``: score the article extractor on the shared corpora, beside trafilatura's
default run (and newspaper4k's, when it is installed: it is not a project dependency, its column is
skipped with a note otherwise, or on ``--no-newspaper4k``).

Prints one table (a row per metric, a column per extractor) and writes the full result, page by page,
as JSON (``archive/evaluation.json`` under the current directory unless ``--json`` says otherwise). The
metrics are defined in :mod:`evaluation.metrics`. Progress goes to stderr: a full run takes minutes.
Bad arguments end the command before any work with a message and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from evaluation.corpora import CORPORA, DEFAULT_CORPORA_DIR
from evaluation.rules import MODULES, ablate, format_report
from evaluation.run import (
    Extractor,
    evaluate,
    format_table,
    newspaper4k_available,
    newspaper4k_default,
    trafilatura_default,
)

OURS = "pipelines.extract:extract_article"
DEFAULT_JSON = Path("archive") / "evaluation.json"


def load_callable(spec: str) -> Extractor:
    """``module:function`` -> the function (``module`` alone: its ``extract_article``)."""
    module, _, name = spec.partition(":")
    name = name or "extract_article"
    try:
        function = getattr(importlib.import_module(module), name)
    except Exception as exc:  # ImportError, AttributeError, or whatever importing the module raised
        raise ValueError(f"cannot load the extractor {spec!r}: {type(exc).__name__}: {exc}") from exc
    if not callable(function):
        raise ValueError(f"cannot load the extractor {spec!r}: {module}.{name} is not callable")
    return function


def at_least_one(text: str) -> int:
    """An argparse type: an integer of 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation",
        description="Score the article extractor and trafilatura on the shared test corpora.",
    )
    parser.add_argument("--corpus", action="append", choices=list(CORPORA), dest="corpora",
                        help="corpus to score (repeatable; all by default)")
    parser.add_argument("--limit", type=at_least_one, help="only the first N pages of each corpus")
    parser.add_argument("--json", dest="json_out",
                        help=f"JSON output file (by default {DEFAULT_JSON} under the current directory)")
    parser.add_argument("--corpora-dir",
                        help=f"the shared corpora (by default ../shared/corpora beside the project: "
                             f"{DEFAULT_CORPORA_DIR})")
    parser.add_argument("--jobs", type=at_least_one, help="worker processes (by default up to 2)")
    parser.add_argument("--ours", default=OURS,
                        help=f"our extractor as module:function (by default {OURS}); "
                             "'none' for trafilatura only")
    parser.add_argument("--rules", choices=list(MODULES),
                        help="instead of the table: what each rule of our authors or headline module does, "
                             "publisher by publisher, on the fundus, readability and postlight pages (each rule "
                             "switched off in turn; a few minutes)")
    parser.add_argument("--no-newspaper4k", action="store_true",
                        help="leave newspaper4k out even when it is installed")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    opts = parser.parse_args(argv)
    corpora_dir = Path(opts.corpora_dir) if opts.corpora_dir else DEFAULT_CORPORA_DIR
    if not corpora_dir.is_dir():
        parser.error(f"corpora directory not found: {corpora_dir} (give it with --corpora-dir)")
    corpora = list(dict.fromkeys(opts.corpora or CORPORA))
    absent = [c for c in corpora if not (corpora_dir / CORPORA[c]).is_dir()]
    if absent:
        parser.error("corpus not found: " + ", ".join(f"{c} ({corpora_dir / CORPORA[c]})" for c in absent))
    if opts.rules:
        report = ablate(opts.rules, corpora_dir, opts.jobs, lambda line: print(line, file=sys.stderr, flush=True))
        print(format_report(report))
        return 0
    out = Path(opts.json_out) if opts.json_out else DEFAULT_JSON
    if out.is_dir():
        parser.error(f"--json {out} is a directory; give a file name")
    extractors: dict[str, Extractor] = {}
    if opts.ours.lower() != "none":
        try:
            extractors["ours"] = load_callable(opts.ours)
        except ValueError as exc:
            parser.error(str(exc))
    extractors["trafilatura"] = trafilatura_default
    if opts.no_newspaper4k:
        pass
    elif newspaper4k_available():
        extractors["newspaper4k"] = newspaper4k_default
    else:
        print("newspaper4k is not installed: its column is skipped (pip install newspaper4k to add it)",
              file=sys.stderr)

    result = evaluate(extractors, corpora, opts.limit, corpora_dir, opts.jobs)
    specs = {"ours": opts.ours} if "ours" in extractors else {}
    specs["trafilatura"] = f"trafilatura {version('trafilatura')} defaults"
    if "newspaper4k" in extractors:
        specs["newspaper4k"] = f"newspaper4k {version('newspaper4k')} defaults, images not fetched"
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    result = {"generated": generated, "extractor_specs": specs, **result}
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1, ensure_ascii=False), "utf-8")
    except OSError as exc:
        print(format_table(result))
        print(f"cannot write the JSON to {out}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(format_table(result))
    print(f"JSON written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
