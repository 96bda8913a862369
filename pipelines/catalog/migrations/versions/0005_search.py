"""The search index: the latest version of every article, its text searchable, on SQLite or PostgreSQL.

``articles`` holds one row per article (outlet and URL key): the fields a search filters and shows, and
its text. SQLite searches it through an FTS5 table (external content, kept in step by triggers);
PostgreSQL through a generated ``tsvector`` column and a GIN index. Both tokenize alike (FTS5's
``unicode61``, PostgreSQL's ``simple`` configuration: no stemming), so a query finds the same articles on
either. ``article_authors`` has each article's authors, one per row (the author facet and filter).

The capture path (:mod:`pipelines.process`) keeps it in step; replaying the WARCs rebuilds it.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: Title, standfirst and body weigh in that order in relevance.
TSVECTOR = ("setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('simple', coalesce(standfirst, '')), 'B') || "
            "setweight(to_tsvector('simple', coalesce(body, '')), 'C')")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),  # FTS5's rowid
        sa.Column("outlet", sa.Text, nullable=False),
        sa.Column("url_key", sa.Text, nullable=False),
        sa.Column("record_id", sa.Text, nullable=False),  # the capture of the version indexed
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("standfirst", sa.Text),
        sa.Column("body", sa.Text),
        sa.Column("byline", sa.Text),
        sa.Column("source", sa.Text),
        sa.Column("section", sa.Text),
        sa.Column("language", sa.Text),
        sa.Column("published", sa.Text),  # as the page states it (ISO 8601, its own offset)
        sa.Column("fetched", sa.Text),  # WARC-Date of the version indexed
        sa.Column("first_fetched", sa.Text),  # WARC-Date of version 1
        sa.Column("day", sa.Text, nullable=False),  # YYYY-MM-DD, UTC: published, else first fetched (the chart)
        sa.Column("word_count", sa.Integer),
        sa.UniqueConstraint("outlet", "url_key", name="articles_one_per_article"),
    )
    op.create_index("articles_by_day", "articles", ["day", "outlet"])
    op.create_index("articles_by_outlet_day", "articles", ["outlet", "day"])
    op.create_index("articles_by_published", "articles", ["published"])
    op.create_index("articles_by_fetched", "articles", ["fetched"])
    op.create_index("articles_by_source", "articles", ["source"])
    op.create_table(
        "article_authors",
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("folded", sa.Text, nullable=False),  # lower case: what the filter compares
        sa.Column("position", sa.Integer, nullable=False),  # as the byline names them
        sa.PrimaryKeyConstraint("article_id", "name"),
    )
    op.create_index("article_authors_by_name", "article_authors", ["folded", "article_id"])
    if postgres:
        op.execute(f"ALTER TABLE articles ADD COLUMN document tsvector GENERATED ALWAYS AS ({TSVECTOR}) STORED")
        op.execute("CREATE INDEX articles_document ON articles USING gin (document)")
        return
    op.execute("CREATE VIRTUAL TABLE articles_fts USING fts5(title, standfirst, body, content='articles', "
               "content_rowid='id', tokenize='unicode61')")
    op.execute("CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN "
               "INSERT INTO articles_fts(rowid, title, standfirst, body) "
               "VALUES (new.id, new.title, new.standfirst, new.body); END")
    op.execute("CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
               "INSERT INTO articles_fts(articles_fts, rowid, title, standfirst, body) "
               "VALUES ('delete', old.id, old.title, old.standfirst, old.body); END")
    op.execute("CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, standfirst, body ON articles BEGIN "
               "INSERT INTO articles_fts(articles_fts, rowid, title, standfirst, body) "
               "VALUES ('delete', old.id, old.title, old.standfirst, old.body); "
               "INSERT INTO articles_fts(rowid, title, standfirst, body) "
               "VALUES (new.id, new.title, new.standfirst, new.body); END")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE articles_fts")
    op.drop_table("article_authors")
    op.drop_table("articles")
