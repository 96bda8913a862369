"""newsarchive: the crawl side (outlet spiders and the components that archive their fetches)."""

from pipelines import __version__

__all__ = ["__version__"]
