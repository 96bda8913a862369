"""Scheduled crawling, one concern per module:

- :mod:`~crawler.schedule.triggers`: outlets' ``schedule`` declarations (and their overrides) as triggers;
- :mod:`~crawler.schedule.crawl_process`: one crawl as a ``scrapy crawl`` subprocess, its time limit, files
  and run record (also what ``scrapy crawlall`` runs);
- :mod:`~crawler.schedule.jobstore`: the persistent job store and the scheduler on it;
- :mod:`~crawler.schedule.service`: the service loop of ``scrapy schedule``.
"""
