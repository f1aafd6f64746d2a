"""Each municipality's plan (the traffic it may have), `standard` for those already there.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("plan", sa.String(length=32), nullable=False, server_default="standard"))


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("plan")
