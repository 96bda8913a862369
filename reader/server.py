"""uvicorn serving the reading room on a socket the caller bound (so a port in use is said plainly first)."""

from __future__ import annotations

import logging
import re
import socket

import uvicorn

from reader.app import create_app
from reader.config import ReaderConfig

_TOKEN = re.compile(r"(?<=[?&]token=)[^&\s]*")


class _HideTokens(logging.Filter):
    """Access log lines never show a ``?token=`` value."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN.sub("***", arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on ``host:port`` (OSError, e.g. EADDRINUSE, if it cannot be had)."""
    address = host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve(config: ReaderConfig, sock: socket.socket, log_level: str = "info") -> None:
    """Serve until SIGINT or SIGTERM."""
    app = create_app(config)
    settings = uvicorn.Config(app, log_level=log_level.lower(), server_header=False, proxy_headers=False,
                              timeout_graceful_shutdown=5)
    server = uvicorn.Server(settings)
    logging.getLogger("uvicorn.access").addFilter(_HideTokens())
    try:
        server.run(sockets=[sock])
    finally:
        app.state.catalog.close()
