"""newsarchive: the crawl side (outlet spiders and the components that archive their fetches)."""

__version__ = "0.1.0"
