"""A test-only outlet whose article pages are all broken in some way (the site is written by the test)."""

from crawler.outlet import OutletSpider

HOST = "www.broken.test"


class BrokenSpider(OutletSpider):
    name = "broken"
    allowed_domains = ["broken.test"]
    front_pages = (f"https://{HOST}/",)
    article_pattern = r"/news/[a-z0-9-]+$"
    site_name = "Broken Test"
