"""NDTV (India): feedburner RSS feeds, a Google News sitemap, the front page and World section.

Real-world notes:

- verified (public crawler configs): the feedburner feeds ``ndtvnews-top-stories`` and
  ``ndtvnews-world-news``, whose items link to ``feeds.feedburner.com/~r/...`` and carry the real URL in
  ``<feedburner:origLink>`` (the discovery reader prefers it); the Google News sitemap
  ``/sitemap/google-news-sitemap``; article URLs ``https://www.ndtv.com/<section>/<slug>-<6-8 digit id>``;
- videos (``/video/<slug>-<id>``), photo galleries and web stories end in an id too, so their first
  path segment is excluded from ``article_pattern``;
- NDTV throttles aggressive clients, hence the slow, one-at-a-time politeness settings.
"""

from crawler.outlet import OutletSpider


class NdtvSpider(OutletSpider):
    name = "ndtv"
    allowed_domains = ["ndtv.com", "feeds.feedburner.com"]
    feeds = (
        "https://feeds.feedburner.com/ndtvnews-top-stories",
        "https://feeds.feedburner.com/ndtvnews-world-news",
    )
    sitemaps = ("https://www.ndtv.com/sitemap/google-news-sitemap",)
    front_pages = ("https://www.ndtv.com/", "https://www.ndtv.com/world-news")
    article_pattern = (
        r"^https://www\.ndtv\.com/(?!(?:video|videos|photos|webstories|topic|page)/)"
        r"[a-z0-9-]+/[a-z0-9-]+-\d{6,8}/?$"
    )
    schedule = "*/20 * * * *"
    site_name = "NDTV"
    custom_settings = {
        "DOWNLOAD_DELAY": 2.0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 0.5,
    }
