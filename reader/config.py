"""What the reading room is given: where the archive and its catalog are, and how to reach pywb."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Host names a browser on this machine uses for a server bound to loopback (checked against ``Host``: a page
#: elsewhere cannot reach the reading room through DNS rebinding).
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine (an address of 127.0.0.0/8 or ::1, localhost)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ReaderConfig:
    """Everything the app needs, as plain data.

    ``catalog``: the catalog's database URL or SQLite file (:func:`pipelines.catalog.catalog_url`).
    ``token``: required on every request when set (``scrapy serve`` refuses to bind beyond loopback without).
    ``allowed_hosts``: the ``Host`` names accepted (``None``: any, for a server bound beyond loopback).
    ``schedule``: returns each outlet's schedule row (``outlet``, ``schedule``, ``state``, ``paused``,
    ``next_run``, ``run_requested``): the crawler side's knowledge, passed in by ``scrapy serve``.
    """

    archive_root: Path
    catalog: str
    pywb_url: str = "http://127.0.0.1:8080"
    token: str | None = None
    allowed_hosts: tuple[str, ...] | None = LOOPBACK_NAMES
    schedule: Callable[[], list[dict[str, Any]]] | None = field(default=None, compare=False)
