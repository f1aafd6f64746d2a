"""A person's view across municipalities: platform authorization codes and read-only RLS policies
for their own cases and the cases delegated to their teams.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from townhall.db import UTCDateTime
from townhall.rls import disable_person_policies, enable_person_policies

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_authorization_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("grant_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=120), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2048), nullable=False),
        sa.Column("scope", sa.String(length=1000), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("code_challenge_method", sa.String(length=10), nullable=False),
        sa.Column("auth_time", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_platform_authorization_codes_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_platform_authorization_codes")),
    )
    enable_person_policies(op.get_bind().dialect.name, op.execute)


def downgrade() -> None:
    disable_person_policies(op.get_bind().dialect.name, op.execute)
    op.drop_table("platform_authorization_codes")
