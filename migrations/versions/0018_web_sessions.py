"""Server-side browser sessions of the consoles, with row-level security.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from townhall.db import UTCDateTime
from townhall.rls import disable_on, enable_on

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("grant_id", sa.Uuid(), nullable=True),
        sa.Column("state", sa.String(length=64), nullable=True),
        sa.Column("verifier", sa.String(length=128), nullable=True),
        sa.Column("return_to", sa.String(length=500), nullable=True),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_web_sessions_tenant_id_tenants"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id_hash", name=op.f("pk_web_sessions")),
    )
    enable_on(op.get_bind().dialect.name, op.execute, ("web_sessions",))


def downgrade() -> None:
    disable_on(op.get_bind().dialect.name, op.execute, ("web_sessions",))
    op.drop_table("web_sessions")
