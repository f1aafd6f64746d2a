"""Migrations are code under test: one head, a full round trip, and no drift from the models."""

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from api.database import alembic_config, downgrade, upgrade
from api.models import metadata
from api.settings import Settings
from support import postgres
from townhall.db import UTCDateTime, make_engine
from townhall.ids import new_id


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


def test_appointments_keep_their_calendar_version_through_0017(empty_database: Settings) -> None:
    """Existing visits get changed_at = created_at and sequence = version - 1: the SEQUENCE their
    calendar copies already hold, never lower (row-level security forced on PostgreSQL)."""
    upgrade(empty_database, "0016")
    tenant, user, visit = new_id(), new_id(), new_id()
    booked = datetime(2026, 11, 30, 8, 15, 7, tzinfo=UTC)
    when = sa.column("created_at", UTCDateTime())
    tenants = sa.table("tenants", sa.column("id", sa.Uuid()), sa.column("slug"), sa.column("nis_code"),
                       sa.column("names", sa.JSON()), sa.column("status"), sa.column("default_language"),
                       sa.column("languages", sa.JSON()), sa.column("time_zone"), when,
                       sa.column("updated_at", UTCDateTime()))
    users = sa.table("users", sa.column("id", sa.Uuid()), sa.column("email"), sa.column("email_key"),
                     sa.column("display_name"), sa.column("status"), sa.column("is_platform_operator"),
                     sa.column("created_at", UTCDateTime()))
    appointments = sa.table("appointments", *(sa.column(name, sa.Uuid()) for name in (
        "tenant_id", "id", "office_tenant_id", "office_id", "citizen_id")), sa.column("service"),
        sa.column("starts_at", UTCDateTime()), sa.column("ends_at", UTCDateTime()), sa.column("status"),
        sa.column("created_by"), sa.column("created_at", UTCDateTime()), sa.column("version"),
        sa.column("changed_at", UTCDateTime()), sa.column("sequence"))
    engine = make_engine(empty_database.migration_database_url)

    def in_tenant(connection: sa.Connection) -> None:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT set_config('app.tenant_id', :tenant, true)"), {"tenant": str(tenant)})

    try:
        with engine.begin() as connection:
            in_tenant(connection)
            connection.execute(tenants.insert().values(
                id=tenant, slug="aalst", nis_code="41002", names={"nl": "Aalst"}, status="active",
                default_language="nl", languages=["nl"], time_zone="Europe/Brussels", created_at=booked,
                updated_at=booked))
            connection.execute(users.insert().values(id=user, email="jan@example.org", email_key="jan@example.org",
                                                     display_name="Jan", status="active",
                                                     is_platform_operator=False, created_at=booked))
            connection.execute(appointments.insert().values(
                tenant_id=tenant, id=visit, office_tenant_id=tenant, office_id=new_id(), citizen_id=user,
                service="eid-card", starts_at=booked, ends_at=booked, status="booked", created_by="jan",
                created_at=booked, version=3))
        upgrade(empty_database)
        with engine.begin() as connection:
            in_tenant(connection)
            row = connection.execute(sa.select(appointments.c.changed_at, appointments.c.sequence)).one()
        assert (row.changed_at, row.sequence) == (booked, 2)
    finally:
        engine.dispose()
