"""Identity and access: users, memberships, teams, delegations, OAuth clients, signing keys,
revoked tokens; row-level security on the tenant-owned ones.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from townhall.db import JsonDocument, UTCDateTime
from townhall.rls import disable_on, enable_on

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TENANT_OWNED = ("memberships", "delegations", "oauth_clients", "revoked_tokens")


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=10), nullable=False),
        sa.Column("private_jwk", JsonDocument, nullable=False),
        sa.Column(
            "status",
            sa.Enum("next", "active", "retired", name="status", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_keys")),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("slug", name=op.f("uq_teams_slug")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            sa.Enum("active", "disabled", name="status", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("is_platform_operator", sa.Boolean(), nullable=False),
        sa.Column("preferred_language", sa.String(length=2), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email_key", name=op.f("uq_users_email_key")),
    )
    op.create_table(
        "delegations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("service", sa.String(length=63), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_delegations_team_id_teams"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_delegations_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_delegations")),
        sa.UniqueConstraint("tenant_id", "team_id", "service", name=op.f("uq_delegations_tenant_id_team_id_service")),
    )
    op.create_index(op.f("ix_delegations_team_id"), "delegations", ["team_id"])

    op.create_table(
        "external_identities",
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_external_identities_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("provider", "subject", name=op.f("pk_external_identities")),
    )
    op.create_index(op.f("ix_external_identities_user_id"), "external_identities", ["user_id"])

    op.create_table(
        "memberships",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_memberships_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", "role", name=op.f("pk_memberships")),
    )
    op.create_index(op.f("ix_memberships_user_id"), "memberships", ["user_id"])

    op.create_table(
        "oauth_clients",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("confidential", "public", name="kind", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("secret_hash", sa.String(length=128), nullable=True),
        sa.Column("grant_types", JsonDocument, nullable=False),
        sa.Column("redirect_uris", JsonDocument, nullable=False),
        sa.Column("scopes", JsonDocument, nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "disabled", name="status", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("secret_rotated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_oauth_clients_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "client_id", name=op.f("pk_oauth_clients")),
    )
    op.create_table(
        "revoked_tokens",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("jti", sa.String(length=80), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_revoked_tokens_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "jti", name=op.f("pk_revoked_tokens")),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_members_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_team_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_team_members")),
    )
    op.create_index(op.f("ix_team_members_user_id"), "team_members", ["user_id"])
    enable_on(op.get_bind().dialect.name, op.execute, TENANT_OWNED)


def downgrade() -> None:
    disable_on(op.get_bind().dialect.name, op.execute, TENANT_OWNED)
    op.drop_index(op.f("ix_team_members_user_id"), table_name="team_members")

    op.drop_table("team_members")
    op.drop_table("revoked_tokens")
    op.drop_table("oauth_clients")
    op.drop_index(op.f("ix_memberships_user_id"), table_name="memberships")

    op.drop_table("memberships")
    op.drop_index(op.f("ix_external_identities_user_id"), table_name="external_identities")

    op.drop_table("external_identities")
    op.drop_index(op.f("ix_delegations_team_id"), table_name="delegations")

    op.drop_table("delegations")
    op.drop_table("users")
    op.drop_table("teams")
    op.drop_table("signing_keys")
