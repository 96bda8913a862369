"""Unchanged revisits are captures too: status 'unchanged', and the capture whose payload they repeat.

A revisit record (identical payload digest) is as much a capture of an article as a response: it says the
article was looked at again, then, and had not changed. With a row of its own the catalog lists every
article capture the WARCs hold, so replaying the WARCs into an empty catalog gives back the same rows.

Revision ID: 0004
Revises: 0003
"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD = "status IN ('extracted', 'rejected')"
NEW = "status IN ('extracted', 'rejected', 'unchanged')"


def upgrade() -> None:
    checks = {check["name"] for check in sa.inspect(op.get_bind()).get_check_constraints("captures")}
    # A catalog made before migrations has the old status check unnamed: the copy leaves it out, as it should.
    warnings.filterwarnings("ignore", "Unnamed CHECK constraint on reflected table 'captures'", UserWarning)
    with op.batch_alter_table("captures") as batch:  # SQLite: the table is copied with the new definition
        batch.add_column(sa.Column("revisit_of", sa.Text))  # the record id of the capture holding the payload
        if "captures_status" in checks:
            batch.drop_constraint("captures_status", type_="check")
        batch.create_check_constraint("captures_status", NEW)


def downgrade() -> None:
    op.execute("DELETE FROM captures WHERE status = 'unchanged'")
    with op.batch_alter_table("captures") as batch:
        batch.drop_constraint("captures_status", type_="check")
        batch.create_check_constraint("captures_status", OLD)
        batch.drop_column("revisit_of")
