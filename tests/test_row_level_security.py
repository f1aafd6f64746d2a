"""PostgreSQL row-level security: the database itself keeps tenants apart, whatever the code does.

These tests commit for real (other connections must see the rows), as the application role, which
owns nothing and cannot bypass row-level security; they empty the tables afterwards as the owner.
"""

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from api.database import database
from api.settings import Settings
from tenants.models import Tenant
from tenants.operations import create_tenant
from townhall.db import Database, make_engine, tenant_owned_tables
from townhall.tenancy import tenant_scope

pytestmark = [pytest.mark.postgresql, pytest.mark.committed]


@pytest.fixture
def committed(live_app: Flask) -> tuple[Tenant, Tenant]:
    with live_app.app_context(), database().unit_of_work() as session:
        aalst = create_tenant(session, {"slug": "aalst", "nis_code": "41002", "default_language": "nl",
                                        "languages": ["nl"], "names": {"nl": "Aalst"}}, "test")
        ninove = create_tenant(session, {"slug": "ninove", "nis_code": "41048", "default_language": "nl",
                                         "languages": ["nl"], "names": {"nl": "Ninove"}}, "test")
    return aalst, ninove


def db(app: Flask) -> Database:
    found: Database = app.extensions["townhall.database"]
    return found


def test_every_tenant_owned_table_has_row_level_security_enabled_and_forced(live_app: Flask) -> None:
    with db(live_app).engine.connect() as connection:
        with_tenant_column = set(connection.execute(text(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'tenant_id'")).scalars())
        flags = {row.relname: (row.relrowsecurity, row.relforcerowsecurity) for row in connection.execute(text(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"))}
        policies = {row.tablename: row.qual for row in connection.execute(text(
            "SELECT tablename, qual FROM pg_policies WHERE schemaname = 'public'"))}
    assert with_tenant_column == set(tenant_owned_tables())
    for table in with_tenant_column:
        assert flags[table] == (True, True), table
        assert "app.tenant_id" in policies[table], table


def test_the_app_role_owns_nothing_and_cannot_bypass_rls(live_app: Flask) -> None:
    with db(live_app).engine.connect() as connection:
        role = connection.execute(text(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        owned = connection.execute(text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")).scalar()
    assert (role.rolsuper, role.rolbypassrls, owned) == (False, False, 0)


def test_raw_sql_through_the_session_is_filtered(live_app: Flask, committed: tuple[Tenant, Tenant]) -> None:
    aalst, ninove = committed
    with live_app.app_context(), db(live_app).sessions() as session:
        for tenant in (aalst, ninove):
            with tenant_scope(session, tenant.id):
                seen = session.execute(text("SELECT tenant_id FROM tenant_branding")).scalars().all()
                assert seen == [tenant.id]


def test_no_tenant_in_context_returns_zero_rows(live_app: Flask, committed: tuple[Tenant, Tenant]) -> None:
    with db(live_app).engine.connect() as connection:
        for table in tenant_owned_tables():
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0, table


def test_even_the_owner_sees_nothing_without_a_tenant(settings: Settings, committed: tuple[Tenant, Tenant]) -> None:
    owner = make_engine(settings.migration_database_url)
    with owner.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM tenant_branding")).scalar() == 0
    owner.dispose()


def test_writing_a_row_for_another_tenant_is_refused_by_the_database(
    live_app: Flask, committed: tuple[Tenant, Tenant]
) -> None:
    aalst, ninove = committed
    with (live_app.app_context(), db(live_app).sessions() as session, tenant_scope(session, aalst.id),
          pytest.raises(DBAPIError, match="row-level security")):
        session.execute(
            text("INSERT INTO tenant_config_changes (tenant_id, id, at, actor, subject, changes) "
                 "VALUES (:tenant, :id, now(), 'x', 'x', '{}')"),
            {"tenant": ninove.id, "id": uuid.uuid4()},
        )


def test_a_pooled_connection_carries_no_tenant_to_the_next_request(
    live_app: Flask, committed: tuple[Tenant, Tenant]
) -> None:
    engine = db(live_app).engine
    pids: list[int] = []
    event.listen(engine, "checkout", lambda dbapi, _record, _proxy: pids.append(dbapi.info.backend_pid))
    client: FlaskClient = live_app.test_client()

    assert client.get("/t/aalst/v1/branding").status_code == 200
    with live_app.app_context(), db(live_app).sessions() as session:
        leftover = session.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar()
        visible = session.execute(text("SELECT count(*) FROM tenant_branding")).scalar()
    assert client.get("/t/ninove/v1/branding").json["name"] == "Ninove"  # type: ignore[index]

    assert len(set(pids)) == 1 and len(pids) >= 3, pids  # one and the same backend every time
    assert leftover in ("", None)
    assert visible == 0
