"""Retention and erasure: each catalogue entry's retention period (the service's default, within
the platform's bounds), when a case was pseudonymised, and when a person asked to be erased.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from townhall.db import UTCDateTime
from townhall.services.registry import SERVICE_TYPES

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_entries") as batch:
        batch.add_column(sa.Column("retention_days", sa.Integer(), nullable=True))
    for code, service in SERVICE_TYPES.items():
        op.execute(sa.text("UPDATE catalog_entries SET retention_days = :days WHERE service = :code")
                   .bindparams(days=service.retention.days, code=code))
    op.execute("UPDATE catalog_entries SET retention_days = 730 WHERE retention_days IS NULL")
    with op.batch_alter_table("catalog_entries") as batch:
        batch.alter_column("retention_days", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("pseudonymised_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("erasure_requested_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("erasure_requested_at")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("pseudonymised_at")
    with op.batch_alter_table("catalog_entries") as batch:
        batch.drop_column("retention_days")
