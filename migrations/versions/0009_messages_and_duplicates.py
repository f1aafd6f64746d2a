"""Messages on cases (with row-level security) and the possible-duplicate flag of reports.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from townhall.db import UTCDateTime
from townhall.rls import disable_on, enable_on

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TENANT_OWNED = ("case_messages",)


def upgrade() -> None:
    op.create_table(
        "case_messages",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("from_citizen", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["cases.tenant_id", "cases.id"],
            name=op.f("fk_case_messages_tenant_id_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_case_messages_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_case_messages")),
    )
    op.create_index(op.f("ix_case_messages_tenant_id_case_id_at"), "case_messages", ["tenant_id", "case_id", "at"])

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("possible_duplicate_of", sa.String(length=40), nullable=True))

    enable_on(op.get_bind().dialect.name, op.execute, TENANT_OWNED)


def downgrade() -> None:
    disable_on(op.get_bind().dialect.name, op.execute, TENANT_OWNED)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("possible_duplicate_of")

    op.drop_index(op.f("ix_case_messages_tenant_id_case_id_at"), table_name="case_messages")

    op.drop_table("case_messages")
