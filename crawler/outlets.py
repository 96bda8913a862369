"""The outlet registry: from a request, a spider or a URL to its outlet, one lookup for every component.

A crawl serves one outlet (the outlet's own spider) or, as a frontier worker, every
outlet at once (:class:`~crawler.frontier.worker.FrontierWorker`, ``spider.outlets``).
The archiver, the item pipeline, the offsite and politeness middlewares and the
seen-state all ask here which outlet a request belongs to; replay and the offline
re-crawl ask :func:`registry` (a :class:`~pipelines.outlets.Outlets`), which knows the
outlets by their declarations alone.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request, Spider
from scrapy.spiderloader import get_spider_loader

from pipelines.outlets import OutletProfile, Outlets


def profile(outlet: Any) -> OutletProfile:
    """What the library needs of an outlet declaration (a spider class or instance)."""
    return OutletProfile(outlet.name, getattr(outlet, "site_name", ""), outlet.extraction_hints,
                         tuple(getattr(outlet, "allowed_domains", None) or ()))


def registry(settings: Any) -> Outlets:
    """Every outlet the project declares (``SPIDER_MODULES``)."""
    loader = get_spider_loader(settings)
    return Outlets(profile(loader.load(name)) for name in loader.list())


def served(spider: Spider | None) -> dict[str, Spider]:
    """The outlet spiders a crawl serves, by name: a frontier worker's every outlet, or the one crawled."""
    if spider is None:
        return {}
    outlets = getattr(spider, "outlets", None)
    if outlets is not None:
        return outlets
    return {spider.name: spider} if hasattr(spider, "extraction_hints") else {}


def serves_many(spider: Spider | None) -> bool:
    """Whether the crawl is a frontier worker (one of many writers, serving every outlet, with no runs)."""
    return getattr(spider, "outlets", None) is not None


def outlet_for(request: Request, spider: Spider | None) -> Spider | None:
    """The outlet spider a request belongs to: the one its meta names, the one crawled, or (a frontier
    worker's robots.txt) the one whose ``allowed_domains`` cover its host."""
    outlets = served(spider)
    if name := request.meta.get("outlet"):
        return outlets.get(name)
    if len(outlets) == 1:
        return next(iter(outlets.values()))
    found = Outlets(profile(outlet) for outlet in outlets.values()).for_host(request.url)
    return outlets.get(found.name) if found is not None else None
