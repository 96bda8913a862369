"""BBC News: RSS feeds on feeds.bbci.co.uk, the news sitemap index, and two front pages.

Real-world notes:

- verified (public crawler configs and scraper tests): the feeds ``https://feeds.bbci.co.uk/news/rss.xml``
  and ``/news/world/rss.xml``; the news sitemap index ``https://www.bbc.com/sitemaps/https-index-com-news.xml``
  whose children are Google News sitemaps ``/sitemaps/https-sitemap-com-news-<N>.xml``; ``robots.txt`` of
  www.bbc.com names that index; article URLs ``/news/articles/c<id>`` (ids seen have 11-12 characters) and the
  older ``/news/<section>-<7-9 digits>`` (e.g. ``world-europe-68412375``);
- feed links carry ``?at_medium=RSS&at_campaign=rss`` tracking parameters; the crawler keeps query strings, so
  an article reached from the feed is archived under that URL (the pattern accepts an optional query);
- not articles: ``/news/live/``, ``/news/videos/``, section pages such as ``/news/world``;
- a guess: article pages are also served on www.bbc.co.uk (accepted by the pattern), not seen in the fixture.
"""

from crawler.outlet import OutletSpider


class BbcSpider(OutletSpider):
    name = "bbc"
    allowed_domains = ["bbc.com", "bbc.co.uk", "bbci.co.uk"]
    feeds = (
        "https://feeds.bbci.co.uk/news/rss.xml",
        "https://feeds.bbci.co.uk/news/world/rss.xml",
    )
    sitemaps = ("https://www.bbc.com/sitemaps/https-index-com-news.xml",)
    front_pages = ("https://www.bbc.com/news", "https://www.bbc.com/news/world")
    article_pattern = (
        r"^https://www\.bbc\.(?:com|co\.uk)/news/"
        r"(?:articles/c[a-z0-9]{9,14}|[a-z]+(?:-[a-z]+)*-\d{7,9})"
        r"(?:\?[^#]*)?$"
    )
    schedule = "*/15 * * * *"
    site_name = "BBC News"
