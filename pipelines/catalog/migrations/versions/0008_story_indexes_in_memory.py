"""Stories: the indexes that find candidates leave the catalog, for each assigning process's memory.

- ``story_bands`` dropped: the LSH index is built from the signatures ``story_articles`` keeps (with
  ``REDIS_URL`` it lives in Redis as before);
- ``story_terms`` dropped: the key-term postings of the days assignment looks at are read from the terms
  ``story_articles`` keeps, by day (new index ``story_articles_by_day``).

Each cost an article rows at random places of a B-tree (32 and 24), and each commit wrote back nearly every
page they touched: at 200,000 articles, more time than the rest of assignment together.

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
    op.drop_table("story_terms")
    op.create_index("story_articles_by_day", "story_articles", ["day"])
    # an LSH index kept in the catalog until now is built in memory from here on
    op.execute(sa.text("UPDATE story_settings SET value = 'memory' WHERE name = 'bands' AND value = 'catalog'"))


def downgrade() -> None:
    op.drop_index("story_articles_by_day", "story_articles")
    op.create_table(
        "story_bands",
        sa.Column("key", sa.BigInteger, nullable=False),
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("key", "article_id"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "story_terms",
        sa.Column("term", sa.Text, nullable=False),
        sa.Column("day", sa.Text, nullable=False),
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("term", "day", "article_id"),
        sqlite_with_rowid=False,
    )
    keys = ("SELECT k, a.day, a.id FROM story_articles a, json_object_keys(a.terms::json) k"
            if op.get_bind().dialect.name == "postgresql" else
            "SELECT k.key, a.day, a.id FROM story_articles a, json_each(a.terms) k")
    op.execute(sa.text(f"INSERT INTO story_terms (term, day, article_id) {keys}"))
    # not where the LSH index is said to be: the next StoryIndex.of rebuilds it from the signatures, as when it moves
    op.execute(sa.text("DELETE FROM story_settings WHERE name = 'bands'"))
    op.execute(sa.text("INSERT INTO story_settings (name, value) VALUES ('bands', 'memory')"))
