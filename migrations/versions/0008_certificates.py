"""Issued certificates and their verification codes, with row-level security.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from townhall.db import UTCDateTime
from townhall.rls import disable_on, enable_on

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TENANT_OWNED = ("certificates",)


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("verification_code", sa.String(length=32), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["cases.tenant_id", "cases.id"],
            name=op.f("fk_certificates_tenant_id_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_certificates_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("tenant_id", "verification_code", name=op.f("uq_certificates_tenant_id_verification_code")),
    )
    enable_on(op.get_bind().dialect.name, op.execute, TENANT_OWNED)


def downgrade() -> None:
    disable_on(op.get_bind().dialect.name, op.execute, TENANT_OWNED)
    op.drop_table("certificates")
