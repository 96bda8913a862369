"""inkl (Australia/UK): a news aggregator republishing partner titles (Axios, AFP, ...) under its own URLs.

Real-world notes:

- verified: the front page ``https://www.inkl.com/`` and article URLs ``https://www.inkl.com/news/<slug>``;
- not found in public material: a feed or sitemap; ``/sitemap.xml.gz`` (a gzip file, as many large sites
  serve) is a guess, also named in robots.txt, so it is both declared and followed from robots.txt;
- republished copies credit the original publisher on the page (and in the fixture's JSON-LD); they can
  lag or differ from the original when it is updated;
- sitemap entries can outlive the article (404): those are simply not archived as articles.
"""

from crawler.outlet import OutletSpider


class InklSpider(OutletSpider):
    name = "inkl"
    allowed_domains = ["www.inkl.com"]
    sitemaps = ("https://www.inkl.com/sitemap.xml.gz",)
    front_pages = ("https://www.inkl.com/",)
    article_pattern = r"^https://www\.inkl\.com/news/[a-z0-9-]+/?$"
    schedule = "every 1h"
    site_name = "inkl"
