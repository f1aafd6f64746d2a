"""Tenant isolation on every backend: explicit scoping and the ORM guard (the only layer on SQLite)."""

import uuid
from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select, update

from api.database import database
from support.evidence import eid_form
from tenants.models import Tenant, TenantBranding
from townhall.auth.operations import create_user
from townhall.cases.models import Case
from townhall.cases.operations import open_case
from townhall.changes.models import ConfigChange
from townhall.errors import NotFound
from townhall.services.operations import configure_service
from townhall.tenancy import (
    ALL_TENANTS,
    CrossTenantWrite,
    Municipality,
    TenantContextMissing,
    check_tenant,
    tenant_scope,
)

SHARED_ID = uuid.UUID("01900000-0000-7000-8000-000000000001")


@pytest.fixture
def two_tenants(make_tenant: Callable[..., Tenant]) -> tuple[Tenant, Tenant]:
    return make_tenant("aalst", "41002"), make_tenant("ninove", "41048")


def test_colliding_ids_in_two_tenants_stay_apart(app: Flask, two_tenants: tuple[Tenant, Tenant]) -> None:
    aalst, ninove = two_tenants
    with app.app_context(), database().unit_of_work() as session:
        for tenant, actor in ((aalst, "aalst-admin"), (ninove, "ninove-admin")):
            with tenant_scope(session, tenant.id):
                session.add(ConfigChange(id=SHARED_ID, actor=actor, subject="test", changes={}))
                session.flush()
    with app.app_context(), database().unit_of_work() as session:
        for tenant, actor in ((aalst, "aalst-admin"), (ninove, "ninove-admin")):
            with tenant_scope(session, tenant.id):
                rows = session.scalars(select(ConfigChange).where(ConfigChange.id == SHARED_ID)).all()
                assert [(row.tenant_id, row.actor) for row in rows] == [(tenant.id, actor)]
                assert session.get(ConfigChange, (tenant.id, SHARED_ID)).actor == actor  # type: ignore[union-attr]


def test_queries_see_only_the_current_tenant(app: Flask, two_tenants: tuple[Tenant, Tenant]) -> None:
    aalst, ninove = two_tenants
    with app.app_context(), database().unit_of_work() as session:
        with tenant_scope(session, aalst.id):
            # No WHERE on tenant here: the guard adds it.
            assert [b.tenant_id for b in session.scalars(select(TenantBranding))] == [aalst.id]
            assert session.get(TenantBranding, ninove.id) is None
            # Bulk updates are scoped too: ninove's branding keeps its colour.
            session.execute(update(TenantBranding).values(accent_colour="#000000"))
        with tenant_scope(session, ninove.id):
            assert session.scalars(select(TenantBranding.accent_colour)).all() == ["#f2c200"]


def test_no_tenant_in_context_refuses_to_query(app: Flask, two_tenants: tuple[Tenant, Tenant]) -> None:
    with app.app_context(), database().sessions() as session:
        with pytest.raises(TenantContextMissing):
            session.scalars(select(TenantBranding)).all()
        with pytest.raises(TenantContextMissing):
            session.execute(update(TenantBranding).values(accent_colour="#000000"))


def test_opting_out_of_the_guard_is_explicit_and_rls_still_applies(
    app: Flask, backend: str, two_tenants: tuple[Tenant, Tenant]
) -> None:
    with app.app_context(), database().unit_of_work() as session:
        rows = session.scalars(select(TenantBranding).execution_options(**{ALL_TENANTS: True})).all()
    seen = {row.tenant_id for row in rows}
    if backend == "postgresql":
        assert seen == set()  # no tenant in the transaction: row-level security shows nothing
    else:
        assert seen >= {tenant.id for tenant in two_tenants}


def test_new_rows_are_stamped_with_the_current_tenant(app: Flask, two_tenants: tuple[Tenant, Tenant]) -> None:
    aalst, _ = two_tenants
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, aalst.id):
        change = ConfigChange(actor="x", subject="test", changes={})
        session.add(change)
        session.flush()
        assert change.tenant_id == aalst.id


def test_writing_another_tenants_row_is_refused(app: Flask, two_tenants: tuple[Tenant, Tenant]) -> None:
    aalst, ninove = two_tenants
    with app.app_context(), database().sessions() as session, tenant_scope(session, aalst.id):
        session.add(ConfigChange(tenant_id=ninove.id, actor="x", subject="test", changes={}))
        with pytest.raises(CrossTenantWrite):
            session.flush()


def test_rows_written_with_core_statements_meet_the_same_check(
        app: Flask, two_tenants: tuple[Tenant, Tenant]) -> None:
    """Opening a case writes its rows with Core statements, which the ORM guard does not see."""
    aalst, ninove = two_tenants
    with app.app_context(), database().sessions() as session, tenant_scope(session, aalst.id):
        check_tenant(aalst.id)
        with pytest.raises(CrossTenantWrite):
            check_tenant(ninove.id)
    with pytest.raises(TenantContextMissing):
        check_tenant(aalst.id)


def test_a_case_is_never_written_under_another_municipality(app: Flask, two_tenants: tuple[Tenant, Tenant]) -> None:
    """Opening a case for Ninove while the session serves Aalst: SQLite sees Ninove's catalogue, and
    the tenant check on the Core-written rows refuses them; on PostgreSQL row-level security hides
    the catalogue first. Nothing is written either way."""
    aalst, ninove = two_tenants
    with app.app_context(), database().unit_of_work() as session:
        person = create_user(session, {"email": "jan@example.org", "display_name": "Jan", "password": "x" * 12})
        with tenant_scope(session, ninove.id):
            configure_service(session, ninove.id, "eid-card", {"fee_cents": 2500, "processing_days": 10})
    as_ninove = Municipality(ninove.id, "ninove", "Ninove", "https://townhall.test/t/ninove/v1")
    refusal = NotFound if app.extensions["townhall.database"].engine.dialect.name == "postgresql" else CrossTenantWrite
    with app.app_context(), database().sessions() as session, tenant_scope(session, aalst.id), \
            pytest.raises(refusal):
        open_case(session, app.extensions["townhall.storage"], as_ninove, "eid-card", eid_form(),
                  person.id, "test", date.today())
    with app.app_context(), database().sessions() as session, tenant_scope(session, ninove.id):
        assert session.scalars(select(Case.id)).all() == []


def test_moving_a_row_to_another_tenant_is_refused(app: Flask, two_tenants: tuple[Tenant, Tenant]) -> None:
    aalst, ninove = two_tenants
    with app.app_context(), database().sessions() as session, tenant_scope(session, aalst.id):
        branding = session.get(TenantBranding, aalst.id)
        assert branding is not None
        branding.tenant_id = ninove.id
        with pytest.raises(CrossTenantWrite):
            session.flush()


def test_new_row_without_tenant_is_refused(app: Flask) -> None:
    with app.app_context(), database().sessions() as session:
        session.add(ConfigChange(actor="x", subject="test", changes={}))
        with pytest.raises(TenantContextMissing):
            session.flush()
