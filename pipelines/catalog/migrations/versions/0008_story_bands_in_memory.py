"""Stories: indexes that cost fewer pages written per commit.

- ``story_bands`` dropped: each assigning process builds the LSH index in memory from the signatures
  ``story_articles`` keeps, and catches up with those other processes store (with ``REDIS_URL`` it lives in
  Redis as before). Writing it cost 32 rows an article at random places of a B-tree, and each commit wrote
  back nearly every page of it they touched;
- ``story_terms`` keyed by day first: an article's 24 key-term rows go next to those of its day's other
  articles (the days being written are few) instead of all over the table.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("story_bands")
    _rekey_terms(("day", "term", "article_id"))
    # an index kept in the catalog until now is built in memory from here on
    op.execute(sa.text("UPDATE story_settings SET value = 'memory' WHERE name = 'bands' AND value = 'catalog'"))


def downgrade() -> None:
    _rekey_terms(("term", "day", "article_id"))
    op.create_table(
        "story_bands",
        sa.Column("key", sa.BigInteger, nullable=False),
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("key", "article_id"),
        sqlite_with_rowid=False,
    )
    # not where the index is said to be: the next StoryIndex.of rebuilds it from the signatures, as when it moves
    op.execute(sa.text("DELETE FROM story_settings WHERE name = 'bands'"))
    op.execute(sa.text("INSERT INTO story_settings (name, value) VALUES ('bands', 'memory')"))


def _rekey_terms(key: tuple[str, ...]) -> None:
    op.create_table(
        "story_terms_rekeyed",
        sa.Column("term", sa.Text, nullable=False),
        sa.Column("day", sa.Text, nullable=False),
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint(*key, name=f"story_terms_by_{key[0]}"),
        sqlite_with_rowid=False,
    )
    op.execute(sa.text("INSERT INTO story_terms_rekeyed (term, day, article_id) "
                       "SELECT term, day, article_id FROM story_terms"))
    op.drop_table("story_terms")
    op.rename_table("story_terms_rekeyed", "story_terms")
