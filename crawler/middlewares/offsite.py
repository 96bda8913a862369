"""Off-domain means off-limits, for retried requests too.

Scrapy's OffsiteMiddleware lets every ``dont_filter`` request through, and
Scrapy marks each retry ``dont_filter`` and passes that on to the retry's
redirects: a page that fails once and then redirects off the site would be
followed wherever it points. Here only an explicit ``allow_offsite`` meta key
opens the way; ``dont_filter`` keeps its one job, the duplicate filter.
"""

from __future__ import annotations

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware


class StrictOffsiteMiddleware(OffsiteMiddleware):
    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.dont_filter and not request.meta.get("allow_offsite"):
            request = request.replace(dont_filter=False)
        super().process_request(request)
