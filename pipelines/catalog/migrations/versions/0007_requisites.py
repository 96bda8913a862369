"""Page requisites archived: one row per outlet and stylesheet, image, font or script URL (each outlet's archive
holds what its pages need, a CDN's file shared by two outlets too), so that the pages sharing it
fetch it once per ``REQUISITE_REFRESH`` (crawler.requisites); a refetch asks with its validators and, when
it is unchanged, is archived as a revisit of the capture holding its payload. A stylesheet's row also lists the
URLs it uses, which are checked again when it is unchanged (a 304 has no stylesheet to read them from).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "requisites",
        sa.Column("outlet", sa.Text, primary_key=True),
        sa.Column("url", sa.Text, primary_key=True),
        sa.Column("checked", sa.Text),  # ISO 8601, UTC: when it was last fetched
        sa.Column("record_id", sa.Text),  # the WARC record holding its payload
        sa.Column("payload_digest", sa.Text),
        sa.Column("warc_date", sa.Text),
        sa.Column("etag", sa.Text),  # validators of the last fetch, for a conditional request
        sa.Column("last_modified", sa.Text),
        sa.Column("uses", sa.Text),  # a stylesheet's requisites, one URL a line
    )


def downgrade() -> None:
    op.drop_table("requisites")
