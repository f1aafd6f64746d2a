"""Throw-away PostgreSQL databases for the benchmarks (bench/run.py, bench/audit_verify.py): made on
the local server as its administrator, owned by a role without superuser rights, served to Townhall
as the app role without BYPASSRLS, dropped afterwards."""

import os
import uuid

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

ADMIN_URL = os.environ.get("TOWNHALL_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/postgres")
APP_ROLE = "townhall_bench_app"
OWNER_ROLE = "townhall_bench_owner"


def conninfo(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(admin: URL, prefix: str) -> tuple[str, URL, URL]:
    """A fresh database owned by the owner role; returns its name, the owner URL and the app URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(conninfo(admin), autocommit=True, connect_timeout=5) as connection:
        for role, options in ((APP_ROLE, "LOGIN NOSUPERUSER NOBYPASSRLS"), (OWNER_ROLE, "LOGIN NOSUPERUSER")):
            if connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
                connection.execute(sql.SQL("CREATE ROLE {} " + options).format(sql.Identifier(role)))
        connection.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
            sql.Identifier(name), sql.Identifier(OWNER_ROLE)))
    base = admin.set(database=name, password=None)
    return name, base.set(username=OWNER_ROLE), base.set(username=APP_ROLE)


def drop_database(admin: URL, name: str) -> None:
    with psycopg.connect(conninfo(admin), autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def server_version(admin: URL) -> str:
    with psycopg.connect(conninfo(admin), connect_timeout=5) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"
