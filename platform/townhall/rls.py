"""PostgreSQL row-level security for tenant-owned tables (used by migrations, checked by tests).

FORCE makes the table owner subject to the policy too. NULLIF turns the empty setting that a
finished transaction leaves behind into NULL, so no tenant in context matches no row (fails closed).
"""

from collections.abc import Callable, Iterable

POLICY = "tenant_isolation"
PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"


def enable_statements(table: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {POLICY} ON {table} USING ({PREDICATE}) WITH CHECK ({PREDICATE})",
    ]


def disable_statements(table: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS {POLICY} ON {table}",
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]


PERSON = "NULLIF(current_setting('app.person_id', true), '')::uuid"
PERSON_POLICIES: tuple[tuple[str, str, str], ...] = (
    # (policy, table, rows it lets a person read across municipalities, when `app.person_id` is set)
    ("person_own_cases", "cases", f"citizen_id = {PERSON}"),
    ("person_team_delegations", "delegations",
     f"team_id IN (SELECT team_id FROM team_members WHERE user_id = {PERSON})"),  # noqa: S608  (constants)
    ("person_delegated_cases", "cases",
     "EXISTS (SELECT 1 FROM delegations d JOIN team_members m ON m.team_id = d.team_id "  # noqa: S608
     f"WHERE m.user_id = {PERSON} AND d.tenant_id = cases.tenant_id AND d.service IN (cases.service, '*'))"),
)
"""Read-only policies beside the tenant's, for the platform-wide lists of one person: their own cases
and the cases delegated to their teams. Policies of a table are alternatives (PostgreSQL ORs
permissive policies); with no person in context they match nothing."""


def enable_person_policies(connection_dialect: str, execute: Callable[[str], object]) -> None:
    if connection_dialect == "postgresql":
        for name, table, predicate in PERSON_POLICIES:
            execute(f"CREATE POLICY {name} ON {table} FOR SELECT USING ({predicate})")


def disable_person_policies(connection_dialect: str, execute: Callable[[str], object]) -> None:
    if connection_dialect == "postgresql":
        for name, table, _ in reversed(PERSON_POLICIES):
            execute(f"DROP POLICY IF EXISTS {name} ON {table}")


APPEND_ONLY_TABLES = ("audit_entries", "audit_seals")


def grant_statements(role: str) -> list[str]:
    """What the application role may do: data only, no DDL, owning nothing."""
    quoted = '"' + role.replace('"', '""') + '"'
    return [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {quoted}",
        # The audit trail and its signed heads are append-only for the app (a trigger refuses it too):
        # once they exist.
        *(f"DO $$ BEGIN IF to_regclass('public.{table}') IS NOT NULL THEN "
          f"EXECUTE 'REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {quoted.replace(chr(39), chr(39) * 2)}'; "
          "END IF; END $$" for table in APPEND_ONLY_TABLES),
    ]


def enable_on(connection_dialect: str, execute: Callable[[str], object], tables: Iterable[str]) -> None:
    """Migrations: turn row-level security on for `tables` (PostgreSQL only; SQLite has none)."""
    if connection_dialect == "postgresql":
        for table in tables:
            for statement in enable_statements(table):
                execute(statement)


def disable_on(connection_dialect: str, execute: Callable[[str], object], tables: Iterable[str]) -> None:
    if connection_dialect == "postgresql":
        for table in tables:
            for statement in disable_statements(table):
                execute(statement)
