"""The job function's address in job stores written before :mod:`crawler.schedule` existed.

APScheduler stores a job's function by reference and never rewrites it; a job whose function cannot be
imported is deleted when the store is read (its next run time and paused state with it). Jobs added by
earlier versions name ``scheduled_crawl`` in this module, so it stays importable from here.
"""

from crawler.schedule.service import scheduled_crawl

__all__ = ["scheduled_crawl"]
