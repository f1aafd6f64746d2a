"""PostgreSQL row-level security: the database itself keeps tenants apart, whatever the code does.

These tests commit for real (other connections must see the rows), as the application role, which
owns nothing and cannot bypass row-level security; they empty the tables afterwards as the owner.
"""

import uuid
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from api.database import database
from api.settings import Settings
from tenants.models import Tenant
from tenants.operations import create_tenant
from townhall.auth.operations import create_user
from townhall.cases.models import Case
from townhall.db import Database, make_engine, tenant_owned_tables
from townhall.rls import PERSON_POLICIES, POLICY
from townhall.services.operations import configure_service
from townhall.tenancy import person_scope, tenant_scope

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
        policies = {(row.tablename, row.policyname): (row.cmd, row.qual, row.with_check) for row in connection.execute(
            text("SELECT tablename, policyname, cmd, qual, with_check FROM pg_policies WHERE schemaname = 'public'"))}
    assert with_tenant_column == set(tenant_owned_tables())
    for table in with_tenant_column:
        assert flags[table] == (True, True), table
        command, using, check = policies.pop((table, POLICY))
        assert command == "ALL" and "app.tenant_id" in using and "app.tenant_id" in check, table
    # Besides the tenant's, only read-only policies: a person's own views (ADR 0006), public office
    # data, and an office's municipality reading the visits booked at its counters (ADR 0007).
    person = {(table, name) for name, table, _ in PERSON_POLICIES}
    public = {(table, "public_read") for table in ("offices", "office_services", "regional_services")}
    assert set(policies) == person | public | {("appointments", "office_reads_its_appointments")}
    assert all(command == "SELECT" for command, _, _ in policies.values())
    assert all("app.person_id" in policies[key][1] for key in person)
    assert "office_tenant_id" in policies[("appointments", "office_reads_its_appointments")][1]


def test_a_person_in_context_reads_their_own_cases_and_writes_nothing(
    live_app: Flask, committed: tuple[Tenant, Tenant]
) -> None:
    aalst, _ = committed
    with live_app.app_context(), database().unit_of_work() as session:
        jan, an = (create_user(session, {"email": f"{n}@example.org", "display_name": n}) for n in ("jan", "an"))
        with tenant_scope(session, aalst.id):
            configure_service(session, aalst.id, "eid-card", {})
            for person in (jan, an):
                session.add(Case(reference=f"AALST-2026-{person.email[:3]}", service="eid-card", status="submitted",
                                 form={}, citizen_id=person.id, created_by="test", due_on=date(2026, 12, 1),
                                 fee_cents=0))
            session.flush()
    with live_app.app_context(), db(live_app).sessions() as session, person_scope(session, jan.id):
        seen = session.execute(text("SELECT citizen_id FROM cases")).scalars().all()
        assert seen == [jan.id]  # raw SQL, no tenant in context: only jan's own case
        changed = session.execute(text("UPDATE cases SET status = 'cancelled' RETURNING id")).all()
        assert changed == []  # the person's policies only read


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
