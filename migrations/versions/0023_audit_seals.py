"""The audit chains' signed heads: a JWS of each chain's head, made now and then by the worker,
kept append-only as the entries are (row-level security; on PostgreSQL the same trigger as
audit_entries, and the app role is not granted UPDATE, DELETE or TRUNCATE).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from townhall.db import UTCDateTime
from townhall.rls import disable_on, enable_on

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# The function of migration 0022 names audit_entries' owner; the seals have the same owner.


def upgrade() -> None:
    op.create_table(
        "audit_seals",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", UTCDateTime(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("jws", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_audit_seals_tenant_id_tenants"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("tenant_id", "seq", name=op.f("pk_audit_seals")),
    )
    dialect = op.get_bind().dialect.name
    enable_on(dialect, op.execute, ("audit_seals",))
    if dialect == "postgresql":
        op.execute("CREATE TRIGGER audit_seals_no_change BEFORE UPDATE OR DELETE ON audit_seals "
                   "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()")
        op.execute("CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_seals_no_truncate ON audit_seals")
        op.execute("DROP TRIGGER IF EXISTS audit_seals_no_change ON audit_seals")
    disable_on(dialect, op.execute, ("audit_seals",))
    op.drop_table("audit_seals")
