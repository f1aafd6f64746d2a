"""Provision throw-away PostgreSQL databases for the suite: an owner role that migrates and an app
role that owns nothing and cannot bypass row-level security, like production."""

import os
import uuid

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

ADMIN_URL = os.environ.get("TOWNHALL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
OWNER_ROLE = "townhall_test_owner"
APP_ROLE = "townhall_test_app"


def _admin_conninfo() -> str:
    url = make_url(ADMIN_URL).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def reachable() -> bool:
    try:
        with psycopg.connect(_admin_conninfo(), connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def _ensure_role(cursor: psycopg.Cursor[tuple[object, ...]], role: str) -> None:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    if cursor.fetchone() is None:
        cursor.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
                       .format(sql.Identifier(role)))


def create_database(prefix: str = "townhall_test") -> tuple[str, URL, URL]:
    """A fresh database owned by the owner role; returns its name, the owner URL and the app URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_admin_conninfo(), autocommit=True) as connection, connection.cursor() as cursor:
        _ensure_role(cursor, OWNER_ROLE)
        _ensure_role(cursor, APP_ROLE)
        cursor.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(OWNER_ROLE)))
    base = make_url(ADMIN_URL).set(database=name, password=None)
    return name, base.set(username=OWNER_ROLE), base.set(username=APP_ROLE)


def drop_database(name: str) -> None:
    with psycopg.connect(_admin_conninfo(), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    # `python tests/support/postgres.py`: exit 0 when the server answers (used by `make test`).
    raise SystemExit(0 if reachable() else 1)


def terminate_connections(database_url: str) -> int:
    """What a server restart or an administrator does to the app role's connections to its database."""
    url = make_url(database_url)
    with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
        rows = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE usename = %s AND datname = %s", (url.username, url.database)).fetchall()
    return len(rows)
