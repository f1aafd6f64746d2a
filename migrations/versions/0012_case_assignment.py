"""Cases are assigned to a case worker and/or a team.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("assignee_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("team_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(op.f("fk_cases_assignee_id_users"), "users", ["assignee_id"], ["id"],
                                 ondelete="RESTRICT")
        batch.create_foreign_key(op.f("fk_cases_team_id_teams"), "teams", ["team_id"], ["id"], ondelete="RESTRICT")
        batch.create_index(op.f("ix_cases_tenant_id_assignee_id_id"), ["tenant_id", "assignee_id", "id"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index(op.f("ix_cases_tenant_id_assignee_id_id"))
        batch.drop_constraint(op.f("fk_cases_team_id_teams"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_cases_assignee_id_users"), type_="foreignkey")
        batch.drop_column("team_id")
        batch.drop_column("assignee_id")
