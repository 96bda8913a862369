"""NPR: RSS feeds on feeds.npr.org, the Google News sitemap on googlecrawl.npr.org, two front pages.

Real-world notes:

- verified (public crawler configs and a smoke test of the live site): the feeds
  ``https://feeds.npr.org/1001/rss.xml`` (news) and ``/1004/rss.xml`` (world); the news sitemap
  ``https://googlecrawl.npr.org/news/sitemap_news.xml``, on another host than the site, which
  ``https://www.npr.org/robots.txt`` names; article URLs
  ``/[sections/<s>/]<yyyy>/<mm>/<dd>/<id>/<slug>`` where the id is the old 6-12 digit story id or a newer
  ``nx-s1-<digits>`` / ``g-s1-<digits>`` id;
- NPR's news sitemap also lists member stations' stories on their own hosts: those are outside
  ``allowed_domains`` and do not match the pattern;
- not articles: ``/podcasts/``, ``/series/``, ``/transcripts/`` and section pages;
- a guess: that the real feeds stay RSS; the fixture serves one of them as Atom to check either works.
"""

from crawler.outlet import OutletSpider


class NprSpider(OutletSpider):
    name = "npr"
    allowed_domains = ["npr.org"]
    feeds = (
        "https://feeds.npr.org/1001/rss.xml",
        "https://feeds.npr.org/1004/rss.xml",
    )
    sitemaps = ("https://googlecrawl.npr.org/news/sitemap_news.xml",)
    front_pages = ("https://www.npr.org/", "https://www.npr.org/sections/world/")
    article_pattern = (
        r"^https://www\.npr\.org/(?:sections/[a-z0-9-]+/)?\d{4}/\d{2}/\d{2}/"
        r"(?:\d{6,12}|(?:nx|g)-s1-\d+)/[a-z0-9-]+/?$"
    )
    schedule = "every 30m"
    site_name = "NPR"
