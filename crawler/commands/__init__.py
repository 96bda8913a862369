"""Project commands for the ``scrapy`` command line (``COMMANDS_MODULE``)."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader


def outlet_names(settings: Any, names: list[str]) -> list[str]:
    """``names`` (default: every outlet), once each is known to be an outlet; else a usage error naming them."""
    known = sorted(get_spider_loader(settings).list())
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise UsageError(f"unknown outlet {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    return names or known
