"""The Times of Israel: WordPress RSS feed, a sitemap, and the front page.

Real-world notes:

- verified (public crawler configs and link lists): the feed ``/feed/``; articles live at
  ``https://www.timesofisrael.com/<long-slug>/`` and live-blog entries at ``/liveblog_entry/<slug>/``;
  each day's live blog has an index page ``/liveblog-<month>-<d>-<yyyy>/`` (e.g. ``/liveblog-july-22-2026/``),
  which is a rolling list, not an article, and is excluded;
- a guess: ``/sitemap.xml`` (it appears only in generic "try /sitemap.xml" lists, not checked), and the
  robots.txt contents of the fixture;
- ``/topic/``, ``/writers/``, ``/feed`` and the reader blogs on ``blogs.timesofisrael.com`` are not news
  articles; the pattern only takes single-segment slugs of four or more words on ``www``, which section
  pages share: ``/israel-and-the-region/`` (in the site menu) is excluded by name, and another long-named
  section or static page would slip through.
"""

from crawler.outlet import OutletSpider


class TimesOfIsraelSpider(OutletSpider):
    name = "timesofisrael"
    allowed_domains = ["timesofisrael.com"]
    feeds = ("https://www.timesofisrael.com/feed/",)
    sitemaps = ("https://www.timesofisrael.com/sitemap.xml",)
    front_pages = ("https://www.timesofisrael.com/",)
    article_pattern = (
        r"^https://www\.timesofisrael\.com/"
        r"(?:liveblog_entry/)?(?!liveblog-|topic/|writers/|feed/?$|israel-and-the-region/)"
        r"[a-z0-9]+(?:-[a-z0-9]+){3,}/?$"
    )
    schedule = "every 15m"
    site_name = "The Times of Israel"
