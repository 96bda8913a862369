"""Extraction health: the field coverage of each crawl, per outlet (pipelines.health).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coverage",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("outlet", sa.Text, nullable=False),
        sa.Column("finished", sa.Text, nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),  # article pages extraction was tried on
        sa.Column("title", sa.Float),  # shares of those pages, 0..1 ...
        sa.Column("byline", sa.Float),
        sa.Column("published", sa.Float),
        sa.Column("body", sa.Float),  # ... with a body of at least HEALTH_BODY_MIN_WORDS words
        sa.Column("confidence", sa.Float),  # the extractor's mean confidence (0 for a page it gave up on)
        sa.Column("baseline", sa.Text),  # JSON: median shares of the outlet's runs before (NULL: too few)
        sa.Column("degraded", sa.Text),  # what fell clearly below the baseline, in words (NULL: nothing)
    )
    op.create_index("coverage_by_outlet", "coverage", ["outlet", "id"])


def downgrade() -> None:
    op.drop_table("coverage")
