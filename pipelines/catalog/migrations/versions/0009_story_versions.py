"""Stories: a log of the new versions of articles, for the LSH indexes kept in memory.

- ``story_versions``: one row per new version of an article stored (its id and its old text's signature), in the
  order they were recorded. A process holding an LSH index in memory reads the rows other processes added since
  it last looked, and takes the old text's bands out and the new text's in; so does a process starting from the
  index saved beside a SQLite catalog (``catalog.sqlite.lsh``), for the versions recorded after it was saved.

Revision ID: 0009
Revises: 0008
"""

from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "story_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.Column("signature", sa.LargeBinary, nullable=True),  # the old text's (None: too short to compare)
    )


def downgrade() -> None:
    op.drop_table("story_versions")
    # the LSH index saved beside a SQLite catalog counts on the log: the next process builds it from the catalog
    url = op.get_bind().engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(f"{url.database}.lsh").unlink(missing_ok=True)
