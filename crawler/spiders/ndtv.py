"""NDTV (India): feedburner RSS feeds and a Google News sitemap."""

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
    article_pattern = r"^https://www\.ndtv\.com/[a-z0-9-]+/[a-z0-9-]+-\d{6,8}/?$"
    schedule = "*/20 * * * *"
