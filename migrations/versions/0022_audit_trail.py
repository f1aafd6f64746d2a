"""The audit trail: each municipality's hash-chained entries and the head of its chain, with
row-level security; on PostgreSQL the entries cannot be changed or removed except by their owner
(a trigger; the app role is also not granted UPDATE, DELETE or TRUNCATE, see townhall.rls).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from townhall.audit.chain import GENESIS
from townhall.db import JsonDocument, UTCDateTime
from townhall.rls import disable_on, enable_on

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

APPEND_ONLY = """
CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_user <> (SELECT tableowner FROM pg_tables WHERE schemaname = 'public'
                        AND tablename = 'audit_entries') THEN
        RAISE EXCEPTION 'audit entries are append-only' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;  -- the owner's own change goes ahead (and `townhall audit verify` will see it)
    END IF;
    RETURN NEW;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("time", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=200), nullable=False),
        sa.Column("object", sa.String(length=300), nullable=False),
        sa.Column("summary", JsonDocument, nullable=False),
        sa.Column("previous", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_audit_entries_tenant_id_tenants"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("tenant_id", "seq", name=op.f("pk_audit_entries")),
    )
    op.create_index(op.f("ix_audit_entries_tenant_id_time"), "audit_entries", ["tenant_id", "time"])
    op.create_table(
        "audit_chains",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_audit_chains_tenant_id_tenants"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_audit_chains")),
    )
    op.execute(sa.text("INSERT INTO audit_chains (tenant_id, seq, hash) SELECT id, 0, :genesis FROM tenants")
               .bindparams(genesis=GENESIS))
    dialect = op.get_bind().dialect.name
    enable_on(dialect, op.execute, ("audit_entries", "audit_chains"))
    if dialect == "postgresql":
        op.execute(APPEND_ONLY)
        op.execute("CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries "
                   "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()")
        op.execute("CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_change ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
    disable_on(dialect, op.execute, ("audit_chains", "audit_entries"))
    op.drop_table("audit_chains")
    op.drop_index(op.f("ix_audit_entries_tenant_id_time"), table_name="audit_entries")
    op.drop_table("audit_entries")
