"""Outlets that exist only for tests (crawled with ``-s SPIDER_MODULES=tests.outlets``)."""
