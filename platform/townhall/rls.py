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


def grant_statements(role: str) -> list[str]:
    """What the application role may do: data only, no DDL, owning nothing."""
    quoted = '"' + role.replace('"', '""') + '"'
    return [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {quoted}",
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
