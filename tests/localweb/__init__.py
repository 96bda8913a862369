"""The local outlet web (see :mod:`tests.localweb.server`)."""

from tests.localweb.server import FIXTURES, LocalWeb, Served

__all__ = ["FIXTURES", "LocalWeb", "Served"]
