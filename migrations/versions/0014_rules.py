"""Tenant rules (templates, rules, versions, decisions on cases) and proactive service (resident
register, life events, actions, preferences), with row-level security.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from townhall.db import JsonDocument, UTCDateTime
from townhall.rls import disable_on, enable_on

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TENANT_OWNED = (
    "rules",
    "rule_versions",
    "case_decisions",
    "residents",
    "life_events",
    "proactive_actions",
    "proactive_preferences",
)


def upgrade() -> None:
    op.create_table(
        "rule_templates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("service", sa.String(length=63), nullable=False),
        sa.Column("trigger", sa.String(length=63), nullable=False),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column("examples", JsonDocument, nullable=False),
        sa.Column("reason", JsonDocument, nullable=False),
        sa.Column("action", JsonDocument, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_templates")),
        sa.UniqueConstraint("slug", "number", name=op.f("uq_rule_templates_slug_number")),
    )
    op.create_table(
        "life_events",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=80), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("person_ref", sa.String(length=64), nullable=False),
        sa.Column("data", JsonDocument, nullable=False),
        sa.Column("outcome", JsonDocument, nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_life_events_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "event_id", name=op.f("pk_life_events")),
    )
    op.create_table(
        "proactive_actions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("person_ref", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("trigger_key", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("service", sa.String(length=63), nullable=True),
        sa.Column("form", JsonDocument, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_proactive_actions_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_proactive_actions_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_proactive_actions")),
        sa.UniqueConstraint(
            "tenant_id",
            "rule_id",
            "person_ref",
            "trigger_key",
            name=op.f("uq_proactive_actions_tenant_id_rule_id_person_ref_trigger_key"),
        ),
    )
    with op.batch_alter_table("proactive_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proactive_actions_tenant_id_user_id_id"), ["tenant_id", "user_id", "id"], unique=False
        )

    op.create_table(
        "proactive_preferences",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("opted_out", JsonDocument, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_proactive_preferences_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_proactive_preferences_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", name=op.f("pk_proactive_preferences")),
    )
    op.create_table(
        "residents",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("person_ref", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("address", JsonDocument, nullable=False),
        sa.Column("resident", sa.Boolean(), nullable=False),
        sa.Column("eid_expires_on", sa.Date(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_residents_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_residents_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "person_ref", name=op.f("pk_residents")),
    )
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_residents_tenant_id_birth_date"), ["tenant_id", "birth_date"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_residents_tenant_id_eid_expires_on"), ["tenant_id", "eid_expires_on"], unique=False
        )

    op.create_table(
        "rules",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("service", sa.String(length=63), nullable=False),
        sa.Column("trigger", sa.String(length=63), nullable=False),
        sa.Column("active_version", sa.Integer(), nullable=True),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_rules_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rules")),
        sa.UniqueConstraint(
            "tenant_id", "kind", "service", "trigger", name=op.f("uq_rules_tenant_id_kind_service_trigger")
        ),
    )
    op.create_table(
        "case_decisions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=True),
        sa.Column("rule_version", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("result", JsonDocument, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "case_id"],
            ["cases.tenant_id", "cases.id"],
            name=op.f("fk_case_decisions_tenant_id_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_case_decisions_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_case_decisions")),
    )
    with op.batch_alter_table("case_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_decisions_tenant_id_case_id"), ["tenant_id", "case_id"], unique=False)

    op.create_table(
        "rule_versions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=True),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column("examples", JsonDocument, nullable=False),
        sa.Column("reason", JsonDocument, nullable=False),
        sa.Column("action", JsonDocument, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["rule_templates.id"],
            name=op.f("fk_rule_versions_template_id_rule_templates"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "rule_id"],
            ["rules.tenant_id", "rules.id"],
            name=op.f("fk_rule_versions_tenant_id_rule_id_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_rule_versions_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "rule_id", "number", name=op.f("pk_rule_versions")),
    )
    enable_on(op.get_bind().dialect.name, op.execute, TENANT_OWNED)


def downgrade() -> None:
    disable_on(op.get_bind().dialect.name, op.execute, TENANT_OWNED)
    op.drop_table("rule_versions")
    with op.batch_alter_table("case_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_decisions_tenant_id_case_id"))

    op.drop_table("case_decisions")
    op.drop_table("rules")
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_residents_tenant_id_eid_expires_on"))
        batch_op.drop_index(batch_op.f("ix_residents_tenant_id_birth_date"))

    op.drop_table("residents")
    op.drop_table("proactive_preferences")
    with op.batch_alter_table("proactive_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proactive_actions_tenant_id_user_id_id"))

    op.drop_table("proactive_actions")
    op.drop_table("life_events")
    op.drop_table("rule_templates")
