"""A test-only outlet whose pages link to the machine's own network (the site is written by the test)."""

from crawler.outlet import OutletSpider

HOST = "www.hostile.test"


class HostileSpider(OutletSpider):
    name = "hostile"
    # deliberately lax: the offsite filter lets these through, so the safety layer must stop them
    allowed_domains = ["hostile.test", "localhost", "127.0.0.1", "169.254.169.254", "10.0.0.1", "::1", "2130706433",
                       "0x7f000001", "127.1"]
    front_pages = (f"https://{HOST}/",)
    article_pattern = r"/news/[a-z-]+$"
