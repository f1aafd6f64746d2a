"""Payments of case fees: online through the payment provider (its reference and checkout) or at
the counter, and their refunds.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from townhall.db import UTCDateTime
from townhall.rls import disable_on, enable_on

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("provider_ref", sa.String(length=64), nullable=True),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("paid_at", UTCDateTime(), nullable=True),
        sa.Column("refund_ref", sa.String(length=64), nullable=True),
        sa.Column("refunded_at", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "case_id"], ["cases.tenant_id", "cases.id"],
                                name=op.f("fk_payments_tenant_id_case_id_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_payments_tenant_id_tenants"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_payments")),
        sa.UniqueConstraint("tenant_id", "provider_ref", name=op.f("uq_payments_tenant_id_provider_ref")),
    )
    with op.batch_alter_table("payments") as batch:
        batch.create_index(batch.f("ix_payments_tenant_id_case_id_id"), ["tenant_id", "case_id", "id"])
        batch.create_index(batch.f("ix_payments_tenant_id_status_id"), ["tenant_id", "status", "id"])
    enable_on(op.get_bind().dialect.name, op.execute, ("payments",))


def downgrade() -> None:
    disable_on(op.get_bind().dialect.name, op.execute, ("payments",))
    op.drop_table("payments")
