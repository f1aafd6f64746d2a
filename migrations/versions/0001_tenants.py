"""Tenants (platform registry), their branding and configuration history, with row-level security.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from townhall.db import JsonDocument, UTCDateTime
from townhall.rls import disable_on, enable_on

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TENANT_OWNED = ("tenant_branding", "tenant_config_changes")


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("nis_code", sa.String(length=5), nullable=False),
        sa.Column("names", JsonDocument, nullable=False),
        sa.Column("status", sa.Enum("active", "suspended", name="status", native_enum=False,
                                    create_constraint=True, length=16), nullable=False),
        sa.Column("default_language", sa.String(length=2), nullable=False),
        sa.Column("languages", JsonDocument, nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("nis_code", name=op.f("uq_tenants_nis_code")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenants_slug")),
    )
    op.create_table(
        "tenant_branding",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("display_name", JsonDocument, nullable=False),
        sa.Column("logo_url", sa.String(length=2048), nullable=True),
        sa.Column("primary_colour", sa.String(length=7), nullable=False),
        sa.Column("accent_colour", sa.String(length=7), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("website", sa.String(length=2048), nullable=True),
        sa.Column("privacy_url", sa.String(length=2048), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_tenant_branding_tenant_id_tenants"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_branding")),
    )
    op.create_table(
        "tenant_config_changes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("changes", JsonDocument, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_tenant_config_changes_tenant_id_tenants"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_tenant_config_changes")),
    )
    op.create_index(op.f("ix_tenant_config_changes_tenant_id_at"), "tenant_config_changes", ["tenant_id", "at"])
    enable_on(op.get_bind().dialect.name, op.execute, TENANT_OWNED)


def downgrade() -> None:
    disable_on(op.get_bind().dialect.name, op.execute, TENANT_OWNED)
    op.drop_index(op.f("ix_tenant_config_changes_tenant_id_at"), table_name="tenant_config_changes")
    op.drop_table("tenant_config_changes")
    op.drop_table("tenant_branding")
    op.drop_table("tenants")
