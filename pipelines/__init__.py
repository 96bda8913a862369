"""newsarchive's library: extraction, output, the catalog, WARC reading and replay (no Scrapy in here)."""

__version__ = "0.1.0"
