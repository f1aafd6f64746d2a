"""When an appointment last changed for the citizen, and how often: the calendar file's DTSTAMP and
SEQUENCE follow these instead of the download time and the row's version.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from townhall.db import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changed_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=True))
    # Existing visits: the creation time, and the SEQUENCE already handed out (version - 1), so that
    # no calendar sees a copy older than the one it holds. FORCE row-level security would hide every
    # row from the owner here (no tenant in context), so it is lifted for this one statement.
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("ALTER TABLE appointments NO FORCE ROW LEVEL SECURITY")
    op.execute("UPDATE appointments SET changed_at = created_at, sequence = version - 1")
    if postgresql:
        op.execute("ALTER TABLE appointments FORCE ROW LEVEL SECURITY")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.alter_column("changed_at", existing_type=UTCDateTime(), nullable=False)
        batch_op.alter_column("sequence", existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_column("sequence")
        batch_op.drop_column("changed_at")
