"""Scrapy's HTTP/1.1 download handler, keeping the status line's reason phrase.

Scrapy drops the reason phrase ("OK", "Moved Permanently", or whatever the
server said) while an archive must record the status line as received. This
handler leaves it in ``request.meta["http_reason"]`` for the WARC archiver;
everything else is Scrapy's own downloader (``download_request`` mirrors
Scrapy 2.19's, which is pinned; a test checks a custom phrase reaches the WARC).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler, _ScrapyAgent
from scrapy.exceptions import ResponseDataLossError
from scrapy.http import Response
from scrapy.utils._download_handlers import get_dataloss_msg, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future

logger = logging.getLogger(__name__)


class _ReasonKeepingAgent(_ScrapyAgent):
    def _cb_bodyready(self, txresponse: Any, request: Request) -> Any:
        request.meta["http_reason"] = txresponse.phrase.decode("latin-1")
        return super()._cb_bodyready(txresponse, request)


class ArchivingHTTPDownloadHandler(HTTP11DownloadHandler):
    async def download_request(self, request: Request) -> Response:
        agent = _ReasonKeepingAgent(
            contextFactory=self._contextFactory,
            bindAddress=self._bind_address,
            pool=self._pool,
            maxsize=self._default_maxsize,
            warnsize=self._default_warnsize,
            fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler,
            tls_verbose_logging=self._tls_verbose_logging,
        )
        try:
            with wrap_twisted_exceptions():
                return await maybe_deferred_to_future(agent.download_request(request))
        except ResponseDataLossError:
            if not self._fail_on_dataloss_warned:
                logger.warning(get_dataloss_msg(request.url))
                self._fail_on_dataloss_warned = True
            raise
