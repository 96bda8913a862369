"""Exactly once across workers: a worker claims an article's URL key (or a page requisite's URL) in Redis
before fetching it.

Two spellings of one article (``?utm_source=feed``, a trailing slash, an AMP variant: one
:func:`pipelines.urls.url_key`) are two requests to the round's duplicate filter, and two workers may take them
in the same moment, when the catalog's seen-state knows neither yet. The first to claim the key in the round
fetches; any other copy is dropped (``frontier/dropped_claimed``). A claim holds for its round only (the next
round's revisit of the article is the seen-state's to decide) and expires after ``FRONTIER_CLAIM_TTL`` seconds,
so a claim of a worker that died leaves nothing behind.
"""

from __future__ import annotations

from typing import Any

from crawler.frontier import CLAIMS_KEY
from pipelines.urls import url_key

#: Seconds a claim lasts: longer than a round's requests wait in the queue.
CLAIM_TTL = 2 * 3600


class Claims:
    """One worker's claims on article URL keys, in the shared Redis."""

    def __init__(self, server: Any, worker: str, ttl: int = CLAIM_TTL) -> None:
        self.server = server
        self.worker = worker
        self.ttl = ttl

    def claim(self, round_: str, outlet: str, url: str) -> bool:
        """Whether this worker may fetch ``url`` of ``outlet`` in ``round_``: nobody (this worker included,
        under another spelling) has claimed its URL key in the round."""
        return self._claim(f"{CLAIMS_KEY}:{round_}:{outlet}:{url_key(url)}")

    def claim_requisite(self, round_: str, outlet: str, url: str) -> bool:
        """Whether this worker may fetch the page requisite at ``url`` for ``outlet`` in ``round_`` (pages taken
        by several workers share it: one fetches it). The URL as it is: ``?v=2`` of a stylesheet is another file."""
        return self._claim(f"{CLAIMS_KEY}:{round_}:{outlet}:requisite:{url}")

    def _claim(self, key: str) -> bool:
        return bool(self.server.set(key, self.worker, nx=True, ex=self.ttl))
