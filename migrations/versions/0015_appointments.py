"""Offices, their services and regional reach, appointments and slot seats; row-level security, with
read-only policies for public office data and for the office"s municipality on appointments.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from townhall.db import JsonDocument, UTCDateTime
from townhall.rls import disable_on, enable_on

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TENANT_OWNED = ("offices", "office_services", "regional_services", "appointments")
PUBLIC = ("offices", "office_services", "regional_services")
OFFICE_READS = (
    "CREATE POLICY office_reads_its_appointments ON appointments FOR SELECT "
    "USING (office_tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)"
)


def upgrade() -> None:
    op.create_table(
        "slot_seats",
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("office_id", "starts_at", "seat", name=op.f("pk_slot_seats")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_slot_seats_appointment_id")),
    )
    op.create_table(
        "appointments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("office_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("service", sa.String(length=63), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("citizen_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["users.id"], name=op.f("fk_appointments_citizen_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["office_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_appointments_office_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_appointments_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_appointments")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointments_office_tenant_id_office_id_starts_at"),
            ["office_tenant_id", "office_id", "starts_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_appointments_tenant_id_citizen_id_starts_at"),
            ["tenant_id", "citizen_id", "starts_at"],
            unique=False,
        )

    op.create_table(
        "offices",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("long", sa.Double(), nullable=False),
        sa.Column("languages", JsonDocument, nullable=False),
        sa.Column("accessibility", sa.Text(), nullable=False),
        sa.Column("weekly_hours", JsonDocument, nullable=False),
        sa.Column("exceptions", JsonDocument, nullable=False),
        sa.Column("regional_holiday", sa.String(length=3), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_offices_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_offices")),
    )
    op.create_table(
        "office_services",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("service", sa.String(length=63), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("counters", sa.Integer(), nullable=False),
        sa.Column("lead_minutes", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "office_id"],
            ["offices.tenant_id", "offices.id"],
            name=op.f("fk_office_services_tenant_id_office_id_offices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_office_services_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "office_id", "service", name=op.f("pk_office_services")),
    )
    with op.batch_alter_table("office_services", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_office_services_service"), ["service"], unique=False)

    op.create_table(
        "regional_services",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("service", sa.String(length=63), nullable=False),
        sa.Column("served_tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["served_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_regional_services_served_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "office_id"],
            ["offices.tenant_id", "offices.id"],
            name=op.f("fk_regional_services_tenant_id_office_id_offices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_regional_services_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "office_id", "service", "served_tenant_id", name=op.f("pk_regional_services")
        ),
    )
    with op.batch_alter_table("regional_services", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_regional_services_served_tenant_id_service"), ["served_tenant_id", "service"], unique=False
        )
    dialect = op.get_bind().dialect.name
    enable_on(dialect, op.execute, TENANT_OWNED)
    if dialect == "postgresql":  # public reference data, and the counter"s view of its visitors
        for table in PUBLIC:
            op.execute(f"CREATE POLICY public_read ON {table} FOR SELECT USING (true)")
        op.execute(OFFICE_READS)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP POLICY IF EXISTS office_reads_its_appointments ON appointments")
        for table in PUBLIC:
            op.execute(f"DROP POLICY IF EXISTS public_read ON {table}")
    disable_on(dialect, op.execute, TENANT_OWNED)
    with op.batch_alter_table("regional_services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_regional_services_served_tenant_id_service"))

    op.drop_table("regional_services")
    with op.batch_alter_table("office_services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_office_services_service"))

    op.drop_table("office_services")
    op.drop_table("offices")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointments_tenant_id_citizen_id_starts_at"))
        batch_op.drop_index(batch_op.f("ix_appointments_office_tenant_id_office_id_starts_at"))

    op.drop_table("appointments")
    op.drop_table("slot_seats")
