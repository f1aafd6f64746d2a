"""People, memberships, teams and delegations: who may do what in which municipality."""

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from api.database import database
from tenants.models import Tenant
from townhall.auth.models import Delegation, User
from townhall.auth.operations import add_membership, add_team_member, create_team, create_user, delegate
from townhall.auth.passwords import verify_password
from townhall.auth.queries import access_in_tenant, user_by_email
from townhall.auth.scopes import CASE_WORKER, TENANT_ADMIN
from townhall.errors import Conflict, InvalidInput
from townhall.tenancy import tenant_scope

PASSWORD = "correct horse battery"


def person(app: Flask, email: str) -> User:
    with app.app_context(), database().unit_of_work() as session:
        name = email.split("@", maxsplit=1)[0]
        return create_user(session, {"email": email, "display_name": name, "password": PASSWORD})


def test_email_is_unique_regardless_of_case(app: Flask) -> None:
    person(app, "An.Peeters@example.org")
    with app.app_context(), database().sessions() as session:
        assert user_by_email(session, " an.peeters@EXAMPLE.org ") is not None
        with pytest.raises(Conflict):
            create_user(session, {"email": "AN.PEETERS@example.org", "display_name": "An", "password": PASSWORD})


def test_passwords_are_stored_as_argon2_hashes(app: Flask) -> None:
    user = person(app, "jan@example.org")
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert verify_password(user.password_hash, PASSWORD)
    assert not verify_password(user.password_hash, PASSWORD + "!")
    assert not verify_password(None, PASSWORD)  # no password (external identity): never matches


def test_bad_people_are_refused_with_the_fields_named(app: Flask) -> None:
    with app.app_context(), database().sessions() as session, pytest.raises(InvalidInput) as caught:
        create_user(session, {"email": "not-an-address", "display_name": "", "password": "short"})
    assert set(caught.value.errors) == {"email", "display_name", "password"}


def test_roles_are_per_tenant(app: Flask, make_tenant: Callable[..., Tenant]) -> None:
    aalst, ninove = make_tenant("aalst", "41002"), make_tenant("ninove", "41048")
    admin = person(app, "admin@aalst.example")
    with app.app_context(), database().unit_of_work() as session:
        with tenant_scope(session, aalst.id):
            add_membership(session, aalst.id, admin, TENANT_ADMIN)
            with pytest.raises(Conflict):
                add_membership(session, aalst.id, admin, TENANT_ADMIN)
            in_aalst = access_in_tenant(session, admin.id, aalst.id)
        with tenant_scope(session, ninove.id):
            in_ninove = access_in_tenant(session, admin.id, ninove.id)
    assert in_aalst.roles == {TENANT_ADMIN} and "clients:manage" in in_aalst.scopes
    assert not in_ninove.is_staff and in_ninove.scopes == set()


def test_a_delegation_grants_the_team_that_service_in_that_municipality_only(
    app: Flask, make_tenant: Callable[..., Tenant]
) -> None:
    aalst, ninove, haaltert = (make_tenant("aalst", "41002"), make_tenant("ninove", "41048"),
                               make_tenant("haaltert", "41024"))
    worker = person(app, "worker@backoffice.example")
    with app.app_context(), database().unit_of_work() as session:
        team = create_team(session, "backoffice", "Shared back office")
        add_team_member(session, team, worker)
        with tenant_scope(session, aalst.id):
            delegate(session, aalst.id, team, "eid-card", "test")
        with tenant_scope(session, ninove.id):
            delegate(session, ninove.id, team, "*", "test")
        accesses = {}
        for tenant in (aalst, ninove, haaltert):
            with tenant_scope(session, tenant.id):
                accesses[tenant.slug] = access_in_tenant(session, worker.id, tenant.id)

    assert accesses["aalst"].may_handle("eid-card") and not accesses["aalst"].may_handle("parking-permit")
    assert accesses["aalst"].roles == set() and "cases:write" in accesses["aalst"].scopes
    assert accesses["ninove"].may_handle("parking-permit")
    assert not accesses["haaltert"].is_staff and not accesses["haaltert"].may_handle("eid-card")


def test_delegations_are_tenant_owned(app: Flask, make_tenant: Callable[..., Tenant]) -> None:
    aalst, ninove = make_tenant("aalst", "41002"), make_tenant("ninove", "41048")
    with app.app_context(), database().unit_of_work() as session:
        team = create_team(session, "backoffice", "Shared back office")
        with tenant_scope(session, aalst.id):
            delegate(session, aalst.id, team, "*", "test")
        with tenant_scope(session, ninove.id):
            assert session.scalars(select(Delegation)).all() == []


def test_a_case_worker_of_the_municipality_handles_every_service(
    app: Flask, make_tenant: Callable[..., Tenant]
) -> None:
    aalst = make_tenant("aalst", "41002")
    worker = person(app, "worker@aalst.example")
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, aalst.id):
        add_membership(session, aalst.id, worker, CASE_WORKER)
        assert access_in_tenant(session, worker.id, aalst.id).may_handle("bulky-waste")
