"""The catalog's schema, every table in one place (the migrations in ``migrations/`` make and change it).

- ``captures``: one row per archived article capture: extracted, rejected (with the reason) or unchanged (a
  revisit of a version already archived);
- ``seen``: the seen-state of incremental crawls: every article URL key fetched, and when to look again;
- ``validators``: HTTP validators of discovery documents, for conditional requests;
- ``requisites``: page requisites (stylesheets, images, fonts) archived, so pages sharing one fetch it once;
- ``coverage``: extraction health, the field coverage of each crawl run;
- ``runs``: the run history of the scheduling service;
- ``articles`` and ``article_authors``: the search index, the latest version of every article
  (:mod:`pipelines.search`; its full-text part is the engine's own: see migration 0005).
"""

from __future__ import annotations

import sqlalchemy as sa

STATUSES = ("running", "ok", "failed", "timeout", "stopped", "interrupted")  # of a run

metadata = sa.MetaData()
captures = sa.Table(
    "captures", metadata,
    sa.Column("record_id", sa.Text, primary_key=True),
    *(sa.Column(name, sa.Text) for name in ("outlet", "url", "canonical_url", "fetched", "warc_file")),
    sa.Column("warc_offset", sa.BigInteger),
    sa.Column("warc_length", sa.BigInteger),
    *(sa.Column(name, sa.Text) for name in ("payload_digest", "status", "reason", "detail", "title", "byline",
                                             "source", "published", "language")),
    sa.Column("word_count", sa.Integer),
    *(sa.Column(name, sa.Text) for name in ("page_text_path", "article_text_path", "metadata_path",
                                             "extractor_version", "extracted_at", "url_key")),
    sa.Column("version", sa.Integer),
    sa.Column("previous_record_id", sa.Text),
    sa.Column("revisit_of", sa.Text),
)
seen_table = sa.Table(
    "seen", metadata,
    sa.Column("outlet", sa.Text, primary_key=True),
    sa.Column("url_key", sa.Text, primary_key=True),
    *(sa.Column(name, sa.Text) for name in ("url", "first_fetched", "last_fetched", "record_id", "payload_digest",
                                             "warc_date", "warc_file")),
    sa.Column("fetches", sa.Integer),
    sa.Column("next_revisit", sa.Text),
)
validators_table = sa.Table(
    "validators", metadata,
    sa.Column("url", sa.Text, primary_key=True),
    *(sa.Column(name, sa.Text) for name in ("etag", "last_modified", "updated")),
)
requisites_table = sa.Table(  # page requisites archived (crawler.requisites): shared, not refetched for a while
    "requisites", metadata,
    sa.Column("outlet", sa.Text, primary_key=True),
    sa.Column("url", sa.Text, primary_key=True),
    # checked: when last fetched; record_id, payload_digest, warc_date: the capture holding its payload (what a
    # revisit refers to); etag, last_modified: its validators; uses: a stylesheet's requisites, one URL a line
    *(sa.Column(name, sa.Text) for name in ("checked", "record_id", "payload_digest", "warc_date", "etag",
                                             "last_modified", "uses")),
)
coverage_table = sa.Table(  # extraction health: field coverage of each crawl (pipelines.health)
    "coverage", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("outlet", sa.Text, nullable=False),
    sa.Column("finished", sa.Text, nullable=False),
    sa.Column("pages", sa.Integer, nullable=False),  # article pages extraction was tried on
    *(sa.Column(name, sa.Float) for name in ("title", "byline", "published", "body", "confidence")),  # shares 0..1
    sa.Column("baseline", sa.Text),  # JSON: median shares of the outlet's runs before (NULL: too few)
    sa.Column("degraded", sa.Text),  # what fell clearly below the baseline, in words (NULL: nothing)
)
runs_table = sa.Table(  # the run history (pipelines.catalog.runs)
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    *(sa.Column(name, sa.Text) for name in ("outlet", "trigger", "started", "ended", "status")),
    *(sa.Column(name, sa.Integer) for name in ("exit_code", "requests", "responses", "new_articles", "revisits",
                                                "errors")),
    sa.Column("bytes", sa.BigInteger),
    *(sa.Column(name, sa.Text) for name in ("finish_reason", "problem", "log")),
    sa.Column("pid", sa.Integer),
    *(sa.Column(name, sa.Text) for name in ("summary_file", "stats")),
)
articles_table = sa.Table(  # the search index: one row per article, its latest version (pipelines.search)
    "articles", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    *(sa.Column(name, sa.Text) for name in ("outlet", "url_key", "record_id")),
    sa.Column("version", sa.Integer),
    *(sa.Column(name, sa.Text) for name in ("url", "title", "standfirst", "body", "byline", "source", "section",
                                             "language", "published", "fetched", "first_fetched", "day")),
    sa.Column("word_count", sa.Integer),
)
authors_table = sa.Table(
    "article_authors", metadata,
    sa.Column("article_id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("folded", sa.Text),
    sa.Column("position", sa.Integer),
)
