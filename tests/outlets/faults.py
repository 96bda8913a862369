"""A test-only outlet whose server misbehaves in every way (site written by ``tests/localweb/faults.py``)."""

from crawler.outlet import OutletSpider
from tests.localweb.faults import FEEDS, HOST, SITEMAPS


class FaultsSpider(OutletSpider):
    name = "faults"
    allowed_domains = ["faults.test", "norobots.test"]
    front_pages = (f"https://{HOST}/",)
    feeds = tuple(f"https://{HOST}/feeds/{name}.xml" for name in FEEDS)
    sitemaps = tuple(f"https://{HOST}/sitemaps/{name}.xml" for name in SITEMAPS)
    article_pattern = r"/news/[a-z0-9-]+$"
