"""The app's database: the request-scoped session, and migrations (Alembic) for the CLI and checks."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app, g
from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from api.settings import Settings
from townhall.audit.writes import track_writes
from townhall.db import Database, make_engine
from townhall.tenancy import install_guard


def open_database(settings: Settings) -> Database:
    if settings.database_backend == "sqlite":
        Path(settings.instance_path).mkdir(parents=True, exist_ok=True)
    database = Database(make_engine(settings.database_url, prepared_statements=settings.database_prepared_statements))
    install_guard(database.sessions)
    track_writes(database.sessions)  # which requests wrote, for their audit entry (api.auditing)
    return database


def database() -> Database:
    db: Database = current_app.extensions["townhall.database"]
    return db


def session() -> Session:
    """The session of this request or CLI command; committed once by the request wrapper."""
    if "db_session" not in g:
        g.db_session = database().sessions()
    current: Session = g.db_session
    return current


def close_session(_error: BaseException | None = None) -> None:
    current: Session | None = g.pop("db_session", None)
    if current is not None:
        current.close()  # rolls back whatever was not committed


def alembic_config(settings: Settings, url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(settings.home / "migrations"))
    config.set_main_option("sqlalchemy.url", (url or settings.migration_database_url).replace("%", "%%"))
    app_user = make_url(settings.database_url).username
    owner = make_url(settings.migration_database_url).username
    if settings.database_backend == "postgresql" and app_user and app_user != owner:
        config.attributes["app_role"] = app_user  # granted DML after migrating
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    if settings.database_backend == "sqlite":
        Path(settings.instance_path).mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str) -> None:
    command.downgrade(alembic_config(settings), revision)


def script_heads(settings: Settings) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(settings)).get_heads())


def applied_heads(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())
