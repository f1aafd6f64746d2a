"""Cases, their timeline, reference counters and the outbox, with row-level security.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from townhall.db import JsonDocument, UTCDateTime
from townhall.rls import disable_on, enable_on

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TENANT_OWNED = ("cases", "case_steps", "case_reference_counters", "outbox_events")


def upgrade() -> None:
    op.create_table(
        "case_reference_counters",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_case_reference_counters_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "year", name=op.f("pk_case_reference_counters")),
    )
    op.create_table(
        "cases",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("service", sa.String(length=63), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("form", JsonDocument, nullable=False),
        sa.Column("citizen_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("fee_cents", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["users.id"], name=op.f("fk_cases_citizen_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_cases_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_cases")),
        sa.UniqueConstraint("tenant_id", "reference", name=op.f("uq_cases_tenant_id_reference")),
    )
    op.create_index(op.f("ix_cases_tenant_id_citizen_id_id"), "cases", ["tenant_id", "citizen_id", "id"])
    op.create_index(op.f("ix_cases_tenant_id_service_status_id"), "cases", ["tenant_id", "service", "status", "id"])

    op.create_table(
        "outbox_events",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=80), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("time", UTCDateTime(), nullable=False),
        sa.Column("data", JsonDocument, nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_outbox_events_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_outbox_events")),
    )
    op.create_index(op.f("ix_outbox_events_delivered_at_time"), "outbox_events", ["delivered_at", "time"])

    op.create_table(
        "case_steps",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("from_status", sa.String(length=40), nullable=True),
        sa.Column("to_status", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("visible_to_citizen", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["cases.tenant_id", "cases.id"],
            name=op.f("fk_case_steps_tenant_id_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_case_steps_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_case_steps")),
    )
    op.create_index(op.f("ix_case_steps_tenant_id_case_id_at"), "case_steps", ["tenant_id", "case_id", "at"])

    enable_on(op.get_bind().dialect.name, op.execute, TENANT_OWNED)


def downgrade() -> None:
    disable_on(op.get_bind().dialect.name, op.execute, TENANT_OWNED)
    op.drop_index(op.f("ix_case_steps_tenant_id_case_id_at"), table_name="case_steps")

    op.drop_table("case_steps")
    op.drop_index(op.f("ix_outbox_events_delivered_at_time"), table_name="outbox_events")

    op.drop_table("outbox_events")
    op.drop_index(op.f("ix_cases_tenant_id_service_status_id"), table_name="cases")
    op.drop_index(op.f("ix_cases_tenant_id_citizen_id_id"), table_name="cases")

    op.drop_table("cases")
    op.drop_table("case_reference_counters")
