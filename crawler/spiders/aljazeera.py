"""Al Jazeera English: the all-stories RSS feed, the daily article sitemaps, and the news front page.

Real-world notes:

- verified (public crawler configs): the feed ``https://www.aljazeera.com/xml/rss/all.xml``; the sitemap
  index ``/sitemaps/article-new.xml`` whose children are daily sitemaps ``/sitemaps/article-new/DD-MM-YYYY.xml``
  (there is also a monthly ``/sitemaps/article-archive.xml`` for backfill, not declared here); article URLs
  ``/<section>/<yyyy>/<m>/<d>/<slug>`` with month and day not zero-padded;
- robots.txt disallows AI crawlers (GPTBot and the like) and allows everyone else;
- not articles: videos (``/video/<programme>/<date>/...``), live blogs (``/news/liveblog/<date>/...``),
  galleries (``/gallery/<date>/...``) and programme pages (``/program/...``);
- a guess: relative ``<link>`` values in feed items (the fixture uses them to check they are resolved).
"""

from crawler.outlet import OutletSpider


class AljazeeraSpider(OutletSpider):
    name = "aljazeera"
    allowed_domains = ["aljazeera.com"]
    feeds = ("https://www.aljazeera.com/xml/rss/all.xml",)
    sitemaps = ("https://www.aljazeera.com/sitemaps/article-new.xml",)
    front_pages = ("https://www.aljazeera.com/news/",)
    article_pattern = (
        r"^https://www\.aljazeera\.com/(?!video/|gallery/|program/|podcasts?/|liveblog/)"
        r"[a-z0-9-]+/\d{4}/\d{1,2}/\d{1,2}/[a-z0-9-]+/?$"
    )
    schedule = "*/30 * * * *"
    site_name = "Al Jazeera"
