"""A municipality's own words for the e-mail each event sends, with row-level security.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from townhall.db import JsonDocument, UTCDateTime
from townhall.rls import disable_on, enable_on

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_templates",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("texts", JsonDocument, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_email_templates_tenant_id_tenants"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("tenant_id", "event_type", name=op.f("pk_email_templates")),
    )
    enable_on(op.get_bind().dialect.name, op.execute, ("email_templates",))


def downgrade() -> None:
    disable_on(op.get_bind().dialect.name, op.execute, ("email_templates",))
    op.drop_table("email_templates")
