"""A test-only outlet whose site (written by the test) exercises every kind of HTTP exchange."""

from crawler.outlet import OutletSpider

HOST = "www.conformance.test"


class ConformanceSpider(OutletSpider):
    name = "conformance"
    allowed_domains = ["conformance.test"]
    feeds = (f"https://{HOST}/feed.rss",)
    sitemaps = (f"https://{HOST}/news-sitemap.xml",)
    front_pages = (f"https://{HOST}/",)
    article_pattern = r"/(?:news|private)/[a-z0-9-]+$"
