"""Run history (pipelines.catalog.runs): one row per crawl run, in the catalog's database.

Catalogs made before migrations may already hold the table (``CREATE TABLE IF NOT EXISTS`` by the old
SQLite-only code): it is kept as it is.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATUSES = ("running", "ok", "failed", "timeout", "stopped", "interrupted")


def upgrade() -> None:
    if "runs" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("outlet", sa.Text, nullable=False),
        sa.Column("trigger", sa.Text, nullable=False),  # schedule, run-now, crawlall, enqueue
        sa.Column("started", sa.Text, nullable=False),  # ISO 8601, UTC
        sa.Column("ended", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("exit_code", sa.Integer),  # the crawl process's; negative: killed by that signal
        sa.Column("requests", sa.Integer),
        sa.Column("responses", sa.Integer),
        sa.Column("new_articles", sa.Integer),  # stat extraction/extracted
        sa.Column("revisits", sa.Integer),  # stat revisit/unchanged
        sa.Column("errors", sa.Integer),  # stats downloader/exception_count + log_count/ERROR
        sa.Column("bytes", sa.BigInteger),  # stat warc/bytes
        sa.Column("finish_reason", sa.Text),  # Scrapy's, when the crawl got to report it
        sa.Column("problem", sa.Text),  # what went wrong, in words
        sa.Column("log", sa.Text),
        sa.Column("pid", sa.Integer),
        sa.Column("summary_file", sa.Text),  # RUN_SUMMARY_FILE of the crawl
        sa.Column("stats", sa.Text),  # every stat, JSON
        sa.CheckConstraint(f"status IN ({', '.join(repr(s) for s in STATUSES)})", name="runs_status"),
    )
    op.create_index("runs_by_outlet", "runs", ["outlet", "started"])
    op.create_index("runs_by_status", "runs", ["status"])


def downgrade() -> None:
    op.drop_table("runs")
