"""The catalog: captures, seen, validators; one capture per article version (unique).

Catalogs made before migrations (``CREATE TABLE IF NOT EXISTS`` by the old SQLite-only code) already have
the tables: they are kept, and only the unique index is added.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "captures" not in existing:
        op.create_table(
            "captures",
            sa.Column("record_id", sa.Text, primary_key=True),  # WARC-Record-ID of the response record
            sa.Column("outlet", sa.Text, nullable=False),
            sa.Column("url", sa.Text, nullable=False),
            sa.Column("canonical_url", sa.Text),
            sa.Column("fetched", sa.Text),  # WARC-Date
            sa.Column("warc_file", sa.Text),
            sa.Column("warc_offset", sa.BigInteger),
            sa.Column("warc_length", sa.BigInteger),
            sa.Column("payload_digest", sa.Text),
            sa.Column("status", sa.Text, nullable=False),
            sa.Column("reason", sa.Text),  # why nothing was extracted (status 'rejected')
            sa.Column("detail", sa.Text),
            sa.Column("title", sa.Text),
            sa.Column("byline", sa.Text),
            sa.Column("source", sa.Text),
            sa.Column("published", sa.Text),
            sa.Column("language", sa.Text),
            sa.Column("word_count", sa.Integer),
            sa.Column("page_text_path", sa.Text),
            sa.Column("article_text_path", sa.Text),
            sa.Column("metadata_path", sa.Text),
            sa.Column("extractor_version", sa.Text),
            sa.Column("extracted_at", sa.Text, nullable=False),
            sa.Column("url_key", sa.Text),  # pipelines.urls.url_key(url)
            sa.Column("version", sa.Integer),  # 1, 2, ...: each changed capture of an article is a new version
            sa.Column("previous_record_id", sa.Text),  # the capture of the version before
            sa.CheckConstraint("status IN ('extracted', 'rejected')", name="captures_status"),
        )
        op.create_index("captures_by_outlet_url", "captures", ["outlet", "url"])
        op.create_index("captures_by_status", "captures", ["outlet", "status", "reason"])
    # concurrent workers never record one version of an article twice
    op.create_index("captures_one_per_version", "captures", ["outlet", "url_key", "version"], unique=True)
    if "seen" not in existing:
        op.create_table(
            "seen",  # every article URL fetched, under its normalised key
            sa.Column("outlet", sa.Text, primary_key=True),
            sa.Column("url_key", sa.Text, primary_key=True),
            sa.Column("url", sa.Text, nullable=False),
            sa.Column("first_fetched", sa.Text, nullable=False),
            sa.Column("last_fetched", sa.Text, nullable=False),
            sa.Column("record_id", sa.Text),  # the latest capture with a payload (what a revisit refers to)
            sa.Column("payload_digest", sa.Text),
            sa.Column("warc_date", sa.Text),
            sa.Column("warc_file", sa.Text),
            sa.Column("fetches", sa.Integer, nullable=False),
            sa.Column("next_revisit", sa.Text),  # when to look again for an update (NULL: never)
        )
    if "validators" not in existing:
        op.create_table(
            "validators",  # HTTP validators of discovery documents, for conditional requests
            sa.Column("url", sa.Text, primary_key=True),
            sa.Column("etag", sa.Text),
            sa.Column("last_modified", sa.Text),
            sa.Column("updated", sa.Text, nullable=False),
        )


def downgrade() -> None:
    for table in ("validators", "seen", "captures"):
        op.drop_table(table)
