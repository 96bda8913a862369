"""The reading room: a read-only web application over the archive (``scrapy serve``).

Server-rendered pages (Jinja2, autoescaped; no script at all) and their JSON twins under ``/api/``, on FastAPI
and uvicorn, over the catalog (opened read-only at the database level) and the text files of ``ARCHIVE_ROOT``:

- ``config``: :class:`ReaderConfig`, everything the app is given (the crawler side passes the schedule in as
  a callable: this package never imports ``crawler``, Scrapy or Twisted);
- ``catalog``: the read-only engine and every query the pages make besides search (:mod:`pipelines.search`);
- ``views``: the data of each page, one dict that the page renders and its JSON twin returns;
- ``diff``, ``charts``, ``feed``, ``export``: version diffs, inline SVG charts, the Atom feed of changes,
  streamed exports (JSONL, CSV, Parquet);
- ``app``: the routes, the safety layer (token, allowed hosts, security headers), errors as 4xx messages;
- ``server``: uvicorn on a socket the caller bound.
"""

from reader.config import ReaderConfig

__all__ = ["ReaderConfig", "create_app"]


def create_app(config: ReaderConfig):  # the FastAPI app; FastAPI loads only when one is made
    from reader.app import create_app as create

    return create(config)
