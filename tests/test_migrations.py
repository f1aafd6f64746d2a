"""Migrations are code under test: one head, a full round trip, and no drift from the models."""

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import postgres
from api.database import alembic_config, downgrade, upgrade
from api.models import metadata
from api.settings import Settings
from townhall.db import make_engine


@pytest.fixture
def empty_database(settings: Settings, backend: str, tmp_path: Path) -> Iterator[Settings]:
    if backend == "sqlite":
        yield replace(settings, database_url=f"sqlite:///{tmp_path}/empty.db",
                      migration_database_url=f"sqlite:///{tmp_path}/empty.db")
        return
    name, owner_url, app_url = postgres.create_database("townhall_migrations")
    try:
        yield replace(settings, database_url=app_url.render_as_string(hide_password=False),
                      migration_database_url=owner_url.render_as_string(hide_password=False))
    finally:
        postgres.drop_database(name)


def tables(settings: Settings) -> set[str]:
    engine = make_engine(settings.migration_database_url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_there_is_exactly_one_head(settings: Settings) -> None:
    assert len(ScriptDirectory.from_config(alembic_config(settings)).get_heads()) == 1


def test_upgrade_downgrade_upgrade_on_an_empty_database(empty_database: Settings) -> None:
    upgrade(empty_database)
    assert tables(empty_database) == set(metadata.tables)
    downgrade(empty_database, "base")
    assert tables(empty_database) == set()
    upgrade(empty_database)
    assert tables(empty_database) == set(metadata.tables)


def test_the_models_and_the_migrations_agree(settings: Settings) -> None:
    engine = make_engine(settings.migration_database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                           metadata)
    finally:
        engine.dispose()
    assert differences == []
