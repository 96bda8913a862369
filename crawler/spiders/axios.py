"""Axios (US): an RSS feed, a Google News sitemap, a sitemap index and two front pages.

Real-world notes:

- verified (public crawler configs): the feed ``https://api.axios.com/feed/`` (on its own host), the
  Google News sitemap ``/sitemaps/news.xml``, the sitemap index ``/sitemap.xml``, the front page and the
  ``/politics-policy`` section;
- article URLs are dated: ``/YYYY/MM/DD/<slug>`` and, for Axios Local, ``/local/<city>/YYYY/MM/DD/<slug>``;
  section pages (``/politics-policy``, ``/local/denver``) and newsletters do not match;
- a story whose slug changes after an update answers 301 at its old URL: the crawl follows it (both
  URLs match ``article_pattern``) and archives the final URL; the child sitemaps' names are guessed.
"""

from crawler.outlet import OutletSpider


class AxiosSpider(OutletSpider):
    name = "axios"
    allowed_domains = ["axios.com"]
    feeds = ("https://api.axios.com/feed/",)
    sitemaps = ("https://www.axios.com/sitemaps/news.xml", "https://www.axios.com/sitemap.xml")
    front_pages = ("https://www.axios.com/", "https://www.axios.com/politics-policy")
    article_pattern = r"^https://www\.axios\.com/(?:local/[a-z0-9-]+/)?\d{4}/\d{2}/\d{2}/[a-z0-9-]+/?$"
    schedule = "*/15 * * * *"
    site_name = "Axios"
