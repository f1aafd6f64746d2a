"""Readiness checks: each returns None when fine, or what is wrong."""

import socket
from urllib.parse import urlsplit

from sqlalchemy import text

from api.database import applied_heads, database


def database_problem(expected_heads: set[str]) -> str | None:
    # A connection of its own: readiness must not depend on a request's tenant or transaction.
    with database().engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        applied = applied_heads(connection)
    if applied != expected_heads:
        return "The database schema is not at the latest migration; run `townhall db upgrade`."
    return None


def redis_problem(url: str | None, timeout: float = 1.0) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout) as conn:
            if parts.password:
                user = parts.username or "default"
                conn.sendall(f"AUTH {user} {parts.password}\r\n".encode())
                conn.recv(64)
            conn.sendall(b"PING\r\n")
            if not conn.recv(64).startswith(b"+PONG"):
                return "Redis did not answer PING."
    except OSError:
        return "Redis is unreachable."
    return None
