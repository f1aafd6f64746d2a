"""Clients of the platform itself (operator console, automation); not tenant-owned.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from townhall.db import JsonDocument, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_clients",
        sa.Column("client_id", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("confidential", "public", name="kind", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("secret_hash", sa.String(length=128), nullable=True),
        sa.Column("grant_types", JsonDocument, nullable=False),
        sa.Column("redirect_uris", JsonDocument, nullable=False),
        sa.Column("scopes", JsonDocument, nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "disabled", name="status", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("secret_rotated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_platform_clients")),
    )


def downgrade() -> None:
    op.drop_table("platform_clients")
