"""A person's views across municipalities: their own cases everywhere (`/v1/me/cases`), a shared
back-office member's queue (`/v1/backoffice/cases`), and their own cases in one municipality
(`/t/{tenant}/v1/me/cases`). On PostgreSQL, row-level security lets exactly these rows through."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.database import database
from factories import PASSWORD, build_people
from support.contract import assert_problem
from support.evidence import eid_form
from support.oauth import (
    REDIRECT,
    bearer,
    data,
    register,
    register_platform_client,
    token,
    user_token,
)
from tenants.models import Tenant
from townhall.auth.operations import add_membership, add_team_member, create_team, delegate
from townhall.auth.scopes import CASE_WORKER
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope

EID = {"service": "eid-card", "form": eid_form()}
PERMIT = {"service": "parking-permit", "form": {"plate": "1-ABC-234", "zone": "A1", "starts_on": "2026-12-01"}}


@dataclass(frozen=True)
class Region:
    cases: dict[str, str]  # name -> reference
    portal: str  # the platform's citizen front-end
    partner: dict[str, dict[str, str]]  # tenant slug -> a partner's headers


@pytest.fixture
def region(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], signing_key: None) -> Region:
    aalst, ninove, ronse = make_tenant("aalst", "41002"), make_tenant("ninove", "41048"), make_tenant("ronse", "45041")
    with app.app_context(), database().unit_of_work() as session:
        people = build_people(session, ("jan", "an", "worker", "backoffice", "outsider"))
        team = create_team(session, "dender", "Dender back office")
        add_team_member(session, team, people["backoffice"])
        create_team(session, "elsewhere", "Another team")
        for tenant in (aalst, ninove, ronse):
            with tenant_scope(session, tenant.id):
                for code in ("eid-card", "parking-permit"):
                    configure_service(session, tenant.id, code, {})
        with tenant_scope(session, aalst.id):
            add_membership(session, aalst.id, people["worker"], CASE_WORKER)
            delegate(session, aalst.id, team, "eid-card", "test")  # aalst: eID cards only
        with tenant_scope(session, ninove.id):
            delegate(session, ninove.id, team, "*", "test")  # ninove: everything
    partner = {t.slug: bearer(token(client, register(app, t, ["cases:read", "cases:write"])))
               for t in (aalst, ninove, ronse)}
    cases = {}
    for name, slug, body, citizen in (("aalst-eid", "aalst", EID, "jan"), ("aalst-permit", "aalst", PERMIT, "jan"),
                                      ("ninove-permit", "ninove", PERMIT, "jan"), ("ninove-eid", "ninove", EID, "an"),
                                      ("ronse-eid", "ronse", EID, "an")):
        created = client.post(f"/t/{slug}/v1/cases", json=body | {"citizen": f"{citizen}@example.org"},
                              headers=partner[slug])
        cases[name] = data(created)["reference"]
    portal = register_platform_client(app, name="Mijn Gemeentehuis", kind="public",
                                      grant_types=["authorization_code"], redirect_uris=[REDIRECT],
                                      scopes=["cases:read"]).client_id
    return Region(cases, portal, partner)


def _platform_token(app: Flask, region: Region, who: str) -> dict[str, str]:
    return bearer(user_token(app, region.portal, f"{who}@example.org", PASSWORD, "cases:read"))


def _references(client: FlaskClient, url: str, headers: dict[str, str]) -> list[tuple[str, str]]:
    answer = client.get(url, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [(c.get("municipality", ""), c["reference"]) for c in data(answer)["items"]]


def test_a_citizen_sees_their_own_cases_in_every_municipality(app: Flask, client: FlaskClient, region: Region) -> None:
    jan, an = _platform_token(app, region, "jan"), _platform_token(app, region, "an")
    c = region.cases
    assert _references(client, "/v1/me/cases", jan) == [
        ("aalst", c["aalst-eid"]), ("aalst", c["aalst-permit"]), ("ninove", c["ninove-permit"])]
    assert _references(client, "/v1/me/cases", an) == [("ninove", c["ninove-eid"]), ("ronse", c["ronse-eid"])]
    assert _references(client, "/v1/me/cases", _platform_token(app, region, "outsider")) == []
    first = data(client.get("/v1/me/cases?limit=2", headers=jan))
    assert len(first["items"]) == 2
    rest = client.get(first["next"].removeprefix("https://townhall.test"), headers=jan)
    assert [x["reference"] for x in data(rest)["items"]] == [c["ninove-permit"]]
    assert "assignee" not in first["items"][0]  # the citizen's view


def test_platform_lists_need_a_person_and_a_platform_token(app: Flask, client: FlaskClient, region: Region) -> None:
    municipal = bearer(user_token(app, register(app, _tenant(app, "aalst"), ["cases:read"], kind="public",
                                                grant_types=["authorization_code"], redirect_uris=[REDIRECT]).client_id,
                                  "jan@example.org", PASSWORD, "cases:read"))
    assert_problem(client.get("/v1/me/cases", headers=municipal), 401)  # a token for Aalst's API only
    assert_problem(client.get("/v1/me/cases", headers=region.partner["aalst"]), 401)
    automation = register_platform_client(app, scopes=["cases:read"])
    assert_problem(client.get("/v1/me/cases", headers=bearer(token(client, automation))), 403)
    assert_problem(client.get("/v1/backoffice/cases", headers=bearer(token(client, automation))), 403)
    assert_problem(client.get("/v1/me/cases"), 401)


def _tenant(app: Flask, slug: str) -> Tenant:
    with app.app_context(), database().sessions() as session:
        found = session.query(Tenant).filter_by(slug=slug).one()
        session.expunge(found)
        return found


def test_a_back_office_member_sees_exactly_the_delegated_services(
    app: Flask, client: FlaskClient, region: Region
) -> None:
    c = region.cases
    backoffice = _platform_token(app, region, "backoffice")
    assert _references(client, "/v1/backoffice/cases", backoffice) == [
        ("aalst", c["aalst-eid"]), ("ninove", c["ninove-permit"]), ("ninove", c["ninove-eid"])]
    assert _references(client, "/v1/backoffice/cases?service=parking-permit", backoffice) == [
        ("ninove", c["ninove-permit"])]
    assert _references(client, "/v1/backoffice/cases?status=cancelled", backoffice) == []
    listed = data(client.get("/v1/backoffice/cases", headers=backoffice))["items"]
    assert listed[0]["next_states"] and "assignee" in listed[0]  # a staff view
    for outsider in ("jan", "worker", "outsider"):  # a citizen, Aalst's own worker, someone in no team
        assert _references(client, "/v1/backoffice/cases", _platform_token(app, region, outsider)) == []
    assert_problem(client.get("/v1/backoffice/cases?overdue=maybe", headers=backoffice), 400)


def test_my_cases_in_one_municipality_are_my_own_even_for_staff(
    app: Flask, client: FlaskClient, region: Region
) -> None:
    portal = register(app, _tenant(app, "aalst"), ["cases:read", "cases:write"], kind="public",
                      grant_types=["authorization_code"], redirect_uris=[REDIRECT]).client_id
    c = region.cases

    def mine(who: str) -> list[str]:
        headers = bearer(user_token(app, portal, f"{who}@example.org", PASSWORD, "cases:read"))
        return [ref for _, ref in _references(client, "/t/aalst/v1/me/cases", headers)]

    assert mine("jan") == [c["aalst-eid"], c["aalst-permit"]]
    assert mine("worker") == []  # staff see the queue at /cases; /me/cases is their own as a citizen
    assert mine("an") == []
    assert_problem(client.get("/t/aalst/v1/me/cases", headers=region.partner["aalst"]), 403)
