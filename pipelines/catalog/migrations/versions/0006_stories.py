"""Stories (pipelines.stories): every article's copy group and story, and the indexes that find them.

- ``story_articles``: one row per article (outlet and URL key; its latest version): what assignment compares
  (shingle count, MinHash signature, key terms) and what it decided (copy group, story, origin, credited);
- ``stories`` and ``copy_groups``: one row each (a story's first and last day; a group's origin);
- ``story_bands``: the MinHash LSH index, one row per band of a signature (with ``REDIS_URL`` it lives in Redis);
- ``story_terms`` and ``story_df``: key terms by day (candidate write-ups of one event), and how many articles
  have each term (their weights);
- ``story_settings``: ``index_id``, naming this catalog's LSH index in Redis (a rebuilt catalog gets a new one).

Revision ID: 0006
Revises: 0005
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("first_day", sa.Text, nullable=False),
        sa.Column("last_day", sa.Text, nullable=False),
    )
    op.create_table(
        "copy_groups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("origin", sa.Text, nullable=False),  # an outlet, an agency (AFP...), or the earliest member's outlet
        sa.Column("origin_kind", sa.Text, nullable=False),  # outlet, agency or earliest
    )
    op.create_table(
        "story_articles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("outlet", sa.Text, nullable=False),
        sa.Column("url_key", sa.Text, nullable=False),
        sa.Column("record_id", sa.Text, nullable=False),  # its latest version
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("published", sa.Text),
        sa.Column("day", sa.Text, nullable=False),  # published, else fetched: YYYY-MM-DD
        sa.Column("site_name", sa.Text),  # how its outlet credits itself
        sa.Column("credit", sa.Text),  # the source it credits (as extracted, case-folded)
        sa.Column("shingles", sa.Integer, nullable=False),  # 0: too short to compare as a copy
        sa.Column("signature", sa.LargeBinary),  # MinHash, 128 x uint32 little-endian
        sa.Column("terms", sa.Text, nullable=False),  # JSON: key term -> weight
        sa.Column("copy_group", sa.Integer, sa.ForeignKey("copy_groups.id")),
        sa.Column("story_id", sa.Integer, sa.ForeignKey("stories.id"), nullable=False),
        sa.Column("origin", sa.Text, nullable=False),  # "" when it is its own
        sa.Column("credited", sa.Boolean, nullable=False),
        sa.UniqueConstraint("outlet", "url_key", name="story_articles_one_per_article"),
    )
    op.create_index("story_articles_by_story", "story_articles", ["story_id"])
    op.create_index("story_articles_by_group", "story_articles", ["copy_group"])
    op.create_index("story_articles_by_record", "story_articles", ["record_id"])
    op.create_index("story_articles_by_site_name", "story_articles", ["site_name"])
    # rewrites waiting for the write-up they credit (pipelines.stories.index: StoryIndex._crediting)
    ungrouped = sa.text("copy_group IS NULL")
    op.create_index("story_articles_ungrouped_by_credit", "story_articles", ["credit", "day"],
                    sqlite_where=ungrouped, postgresql_where=ungrouped)
    op.create_table(
        "story_bands",
        sa.Column("key", sa.BigInteger, nullable=False),  # band number and the band's values, hashed
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("key", "article_id"),
        sqlite_with_rowid=False,  # the key is the row: one B-tree to write, not a table and its index
    )
    op.create_table(
        "story_terms",
        sa.Column("term", sa.Text, nullable=False),
        sa.Column("day", sa.Text, nullable=False),
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("term", "day", "article_id"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "story_df",
        sa.Column("term", sa.Text, primary_key=True),
        sa.Column("articles", sa.Integer, nullable=False),
    )
    settings = op.create_table(
        "story_settings",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.bulk_insert(settings, [{"name": "index_id", "value": uuid.uuid4().hex}])


def downgrade() -> None:
    tables = ("story_settings", "story_df", "story_terms", "story_bands", "story_articles", "copy_groups", "stories")
    for table in tables:
        op.drop_table(table)
