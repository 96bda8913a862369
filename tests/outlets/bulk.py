"""A test-only outlet with as many articles as the generated site has (``tests/localweb/generate.py``)."""

from crawler.outlet import OutletSpider
from tests.localweb.generate import BULK_HOST


class BulkSpider(OutletSpider):
    name = "bulk"
    allowed_domains = ["bulk.test"]
    sitemaps = (f"https://{BULK_HOST}/sitemap.xml",)
    article_pattern = r"/news/story-\d+(?:[?#].*)?$"
