"""The local outlet web (see :mod:`tests.localweb.server`)."""

from tests.localweb.server import FIXTURES, LOCAL_CRAWL_SETTINGS, LocalWeb, Served

__all__ = ["FIXTURES", "LOCAL_CRAWL_SETTINGS", "LocalWeb", "Served"]
