"""The Guardian: section RSS feeds, the Google News sitemap, and two front pages.

Real-world notes:

- verified (public crawler configs and a smoke test of the live site): the feeds
  ``https://www.theguardian.com/world/rss`` and ``/uk/rss``; the Google News sitemap ``/sitemaps/news.xml``
  (named in robots.txt); front pages ``/international`` and ``/world``; article URLs
  ``/<section>/<yyyy>/<mon>/<dd>/<slug>`` with a three-letter lowercase month;
- excluded: live blogs (``/world/live/...``), galleries, videos, audio and picture pages, which share the
  dated URL shape with an extra path segment;
- a guess: the optional second section segment (``/<section>/<sub>/<yyyy>/...``) and the AI-crawler
  ``Disallow`` lines of the fixture robots.txt (recalled, not checked).
"""

from crawler.outlet import OutletSpider


class GuardianSpider(OutletSpider):
    name = "guardian"
    allowed_domains = ["theguardian.com"]
    feeds = (
        "https://www.theguardian.com/world/rss",
        "https://www.theguardian.com/uk/rss",
    )
    sitemaps = ("https://www.theguardian.com/sitemaps/news.xml",)
    front_pages = ("https://www.theguardian.com/international", "https://www.theguardian.com/world")
    article_pattern = (
        r"^https://www\.theguardian\.com/"
        r"(?!(?:[a-z0-9-]+/)?(?:live|gallery|video|audio|picture|ng-interactive)/)"
        r"[a-z0-9-]+(?:/[a-z0-9-]+)?/\d{4}/(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/\d{2}/"
        r"[a-z0-9-]+/?$"
    )
    schedule = "*/20 * * * *"
    site_name = "The Guardian"
