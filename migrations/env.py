"""Alembic environment: migrations run as the owner role; the app role only gets data privileges."""

from alembic import context
from sqlalchemy import Connection, pool, text

from api.models import metadata
from townhall.db import make_engine
from townhall.rls import grant_statements

config = context.config


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
        app_role = config.attributes.get("app_role")
        if app_role and connection.dialect.name == "postgresql":
            for statement in grant_statements(app_role):
                connection.execute(text(statement))


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as connection:
        run(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `townhall db upgrade`.")
run_migrations_online()
