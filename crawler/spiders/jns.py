"""JNS, Jewish News Syndicate (US/Israel): a WordPress site with an RSS feed and Yoast-style sitemaps.

Real-world notes:

- verified (public crawler configs): the WordPress feed ``https://www.jns.org/feed/`` and the front page;
- guessed from the WordPress/Yoast conventions the site follows: the sitemap index
  ``/sitemap_index.xml`` (children such as ``/post-sitemap.xml``) and the Google News sitemap
  ``/news-sitemap.xml``;
- article URLs are ``https://www.jns.org/<slug>/`` (current) or ``/news/<section>/<slug>`` (older);
  ``/feed/``, ``/tag/``, ``/category/``, ``/author/`` and ``/page/`` are never articles, and a root slug
  must have at least four words so WordPress pages (``/about/``, ``/contact-us/``) do not match.
"""

from crawler.outlet import OutletSpider


class JnsSpider(OutletSpider):
    name = "jns"
    allowed_domains = ["www.jns.org"]
    feeds = ("https://www.jns.org/feed/",)
    sitemaps = ("https://www.jns.org/sitemap_index.xml", "https://www.jns.org/news-sitemap.xml")
    front_pages = ("https://www.jns.org/",)
    article_pattern = (
        r"^https://www\.jns\.org/(?!(?:feed|tag|category|author|page|wp-[a-z]+)(?:/|$))"
        r"(?:news/[a-z0-9-]+/)?[a-z0-9]+(?:-[a-z0-9]+){3,}/?$"
    )
    schedule = "every 30m"
    site_name = "JNS"
