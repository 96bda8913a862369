"""Al Mayadeen English (Lebanon): an RSS feed plus the front page and a section page.

Real-world notes:

- verified (public crawler configs): the RSS feed ``https://english.almayadeen.net/rss``, the front page,
  section pages such as ``/news/politics`` and article URLs ``/news/<section>/<slug>`` and
  ``/articles/<section>/<slug>``;
- not found: a sitemap, so ``robots_sitemaps`` only picks one up if robots.txt ever names it;
- the feed is known to be messy (byte-order mark, served as ``text/html``, relative item links): the
  discovery reader sniffs the bytes, so nothing outlet-specific is needed here;
- the site is strict with fast clients, hence the slow, one-at-a-time politeness settings.

Section index pages (``/news/politics``, ``/articles/opinion``) and videos (``/videos/...``) must not
match ``article_pattern``: an article has exactly one slug segment below its section.
"""

from crawler.outlet import OutletSpider


class AlmayadeenSpider(OutletSpider):
    name = "almayadeen"
    allowed_domains = ["english.almayadeen.net"]
    feeds = ("https://english.almayadeen.net/rss",)
    front_pages = ("https://english.almayadeen.net/", "https://english.almayadeen.net/news/politics")
    article_pattern = r"^https://english\.almayadeen\.net/(?:news|articles)/[a-z0-9-]+/[a-z0-9-]+/?$"
    schedule = "*/30 * * * *"
    site_name = "Al Mayadeen English"
    custom_settings = {
        "DOWNLOAD_DELAY": 2.0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 0.5,
    }
