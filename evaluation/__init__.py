"""The evaluation harness: how well article extractors do on the shared test corpora, side by side.

A developer's tool, not part of the product (it is not in the wheel): it may import ``pipelines``, never
``crawler`` or ``tests``. Run it with ``python -m evaluation`` (``make evaluate``).

- :mod:`evaluation.corpora`: the corpora (``../shared/corpora``) and their loaders;
- :mod:`evaluation.metrics`: each corpus's metric, page by page and over the corpus;
- :mod:`evaluation.fields`: field comparisons against string-valued truth (bylines, titles with a site name,
  dates, excerpts, first words) for the Readability and Postlight corpora;
- :mod:`evaluation.run`: the extractors run on the pages, scored (:func:`evaluate`), and the table;
- :mod:`evaluation.__main__`: the command line.
"""

from __future__ import annotations

from evaluation.corpora import CORPORA, DEFAULT_CORPORA_DIR
from evaluation.run import Extractor, Prediction, evaluate, format_table, trafilatura_default

__all__ = [
    "CORPORA", "DEFAULT_CORPORA_DIR", "Extractor", "Prediction", "evaluate", "format_table",
    "trafilatura_default",
]
