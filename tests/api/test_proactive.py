"""Proactive and prescriptive service: life events feed the resident register; the municipality's
proactive rules inform, offer or open, once per trigger, never against a citizen's opt-out."""

from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from api.cli import cli
from api.database import database
from factories import Town
from support.clock import municipal_today
from support.contract import assert_problem
from support.evidence import PHOTO
from support.oauth import data
from townhall.outbox.models import OutboxEvent
from townhall.proactive.models import ProactiveAction
from townhall.tenancy import tenant_scope

EXPIRING = "be.document.eid-expiring"


def _inform_when_expiring(client: FlaskClient, rules_town: Town) -> dict[str, object]:
    return rules_town.rule(client, {
        "kind": "proactive", "service": "eid-card", "trigger": EXPIRING,
        "expression": "resident.resident && days_between(today, event.data.expires_on) <= 60",
        "action": {"type": "inform", "message": {"nl": "Uw eID vervalt binnenkort.", "en": "Your eID expires soon."}},
        "examples": [{"input": {"resident": {"resident": True}, "today": "2026-11-28",
                                "event": {"data": {"expires_on": "2027-01-10"}}}, "expected": True}]})


def _actions(app: Flask, rules_town: Town) -> int:
    with app.app_context(), database().sessions() as session, tenant_scope(session, rules_town.tenant.id):
        return int(session.scalar(select(func.count()).select_from(ProactiveAction)) or 0)


def test_an_expiring_eid_card_informs_the_citizen_once(app: Flask, client: FlaskClient, rules_town: Town) -> None:
    rule = _inform_when_expiring(client, rules_town)
    soon = (municipal_today() + timedelta(days=30)).isoformat()
    first = rules_town.event(client, "reg-1", EXPIRING, "jan", expires_on=soon)
    assert first.status_code == 202
    assert [a["status"] for a in data(first)["outcome"]["actions"]] == ["informed"]
    again = rules_town.event(client, "reg-1", EXPIRING, "jan", expires_on=soon)
    assert again.status_code == 200 and data(again)["duplicate"] and data(again)["outcome"] == data(first)["outcome"]
    other_id_same_expiry = rules_town.event(client, "reg-2", EXPIRING, "jan", expires_on=soon)
    assert data(other_id_same_expiry)["outcome"]["actions"] == []  # one trigger, one action
    mine = data(client.get("/t/aalst/v1/me/proactive", headers=rules_town.headers["jan"]))["items"]
    assert [(m["action"], m["message"], m["rule"]["id"]) for m in mine] == [
        ("inform", "Uw eID vervalt binnenkort.", rule["id"])]
    assert data(client.get("/t/aalst/v1/me/proactive", headers=rules_town.headers["an"]))["items"] == []
    with app.app_context(), database().sessions() as session, tenant_scope(session, rules_town.tenant.id):
        assert session.scalars(select(OutboxEvent.type).where(OutboxEvent.type == "citizen.informed")).all() == [
            "citizen.informed"]
    far = rules_town.event(client, "reg-3", EXPIRING, "an",
                           expires_on=(municipal_today() + timedelta(days=400)).isoformat())
    assert data(far)["outcome"]["actions"] == []  # the condition does not hold


def test_an_offer_is_confirmed_with_one_call(client: FlaskClient, rules_town: Town) -> None:
    rules_town.rule(client, {"kind": "proactive", "service": "eid-card", "trigger": "be.person.turns-18",
                       "expression": "true", "action": {"type": "offer", "form": {"reason": "first"}}})
    born = date(municipal_today().year - 18, 1, 1).isoformat()
    assert rules_town.event(client, "b-1", "be.person.turns-18", "jan", birth_date=born).status_code == 202
    offer = data(client.get("/t/aalst/v1/me/proactive", headers=rules_town.headers["jan"]))["items"][0]
    assert (offer["action"], offer["status"], offer["form"]) == ("offer", "offered", {"reason": "first"})
    # The offer knows the reason; the citizen adds the photo an identity card needs.
    unfinished = assert_problem(client.post(offer["accept"], headers=rules_town.headers["jan"]), 422)
    assert "form.photo" in unfinished["errors"]
    accepted = client.post(offer["accept"], json={"form": {"photo": PHOTO}}, headers=rules_town.headers["jan"])
    assert accepted.status_code == 201 and data(accepted)["status"] == "accepted"
    case = data(client.get(accepted.headers["Location"], headers=rules_town.headers["jan"]))
    assert case["service"] == "eid-card" and case["form"]["reason"] == "first" and case["form"]["photo"]["document"]
    assert_problem(client.post(offer["accept"], headers=rules_town.headers["jan"]), 409)
    assert_problem(client.post(offer["accept"], headers=rules_town.headers["an"]), 404)  # not hers


def test_an_offer_declined_opens_nothing(app: Flask, client: FlaskClient, rules_town: Town) -> None:
    rules_town.rule(client, {"kind": "proactive", "service": "eid-card", "trigger": "be.person.turns-18",
                       "expression": "true", "action": {"type": "offer", "form": {"reason": "first"}}})
    born = date(municipal_today().year - 18, 1, 1).isoformat()
    rules_town.event(client, "b-1", "be.person.turns-18", "jan", birth_date=born)
    offer = data(client.get("/t/aalst/v1/me/proactive", headers=rules_town.headers["jan"]))["items"][0]
    assert_problem(client.post(offer["decline"], headers=rules_town.headers["an"]), 404)  # not hers
    declined = client.post(offer["decline"], headers=rules_town.headers["jan"])
    assert declined.status_code == 200 and data(declined)["status"] == "declined" and "accept" not in data(declined)
    assert_problem(client.post(offer["decline"], headers=rules_town.headers["jan"]), 409)
    assert_problem(client.post(offer["accept"], json={"form": {"photo": PHOTO}}, headers=rules_town.headers["jan"]),
                   409)
    assert data(client.get("/t/aalst/v1/me/cases", headers=rules_town.headers["jan"]))["items"] == []


def test_the_municipality_opens_an_identity_card_case_itself_and_the_photo_comes_later(
        client: FlaskClient, rules_town: Town) -> None:
    rules_town.rule(client, {"kind": "proactive", "service": "eid-card", "trigger": EXPIRING,
                             "expression": "true", "action": {"type": "open", "form": {"reason": "renewal"}}})
    soon = (municipal_today() + timedelta(days=30)).isoformat()
    expiring = rules_town.event(client, "o-1", EXPIRING, "jan", expires_on=soon)
    assert [a["status"] for a in data(expiring)["outcome"]["actions"]] == ["opened"]
    mine = data(client.get("/t/aalst/v1/me/cases", headers=rules_town.headers["jan"]))["items"]
    assert [(c["service"], c["status"]) for c in mine] == [("eid-card", "submitted")]
    case = data(client.get(f"/t/aalst/v1/cases/{mine[0]['id']}", headers=rules_town.headers["jan"]))
    assert "photo" not in case["form"]  # the citizen brings it, or adds it as a document


def test_a_certificate_is_issued_without_the_citizen_asking(client: FlaskClient, rules_town: Town) -> None:
    rules_town.rule(client, {"kind": "proactive", "service": "certificate", "trigger": "be.person.moved-in",
                       "expression": "resident.resident",
                       "action": {"type": "open", "form": {"kind": "residence", "language": "nl"}}})
    moved = rules_town.event(client, "m-1", "be.person.moved-in", "jan", address={"street": "Kerkstraat 1"})
    assert [a["status"] for a in data(moved)["outcome"]["actions"]] == ["opened"]
    mine = data(client.get("/t/aalst/v1/me/cases", headers=rules_town.headers["jan"]))["items"]
    assert [(c["service"], c["status"]) for c in mine] == [("certificate", "issued")]


def test_an_opt_out_is_respected(client: FlaskClient, rules_town: Town) -> None:
    _inform_when_expiring(client, rules_town)
    assert data(client.get("/t/aalst/v1/me/proactive-preferences", headers=rules_town.headers["jan"])) == {
        "inform": True, "offer": True, "open": True}
    changed = client.put("/t/aalst/v1/me/proactive-preferences", json={"inform": False},
                         headers=rules_town.headers["jan"])
    assert data(changed) == {"inform": False, "offer": True, "open": True}
    soon = (municipal_today() + timedelta(days=10)).isoformat()
    outcome = data(rules_town.event(client, "o-1", EXPIRING, "jan", expires_on=soon))["outcome"]
    assert [a["status"] for a in outcome["actions"]] == ["opted_out"]
    assert_problem(client.put("/t/aalst/v1/me/proactive-preferences", json={"inform": "maybe"},
                              headers=rules_town.headers["jan"]), 422)
    assert_problem(client.get("/t/aalst/v1/me/proactive", headers=rules_town.headers["register"]), 403)


def test_bad_events_change_nothing(app: Flask, client: FlaskClient, rules_town: Town) -> None:
    unknown = rules_town.event(client, "x-1", "be.person.abducted-by-aliens", "jan")
    assert "type" in assert_problem(unknown, 422)["errors"]
    no_person = client.post("/t/aalst/v1/events", headers=rules_town.headers["register"], json={
        "specversion": "1.0", "id": "x-2", "source": "urn:x", "type": EXPIRING, "data": {}})
    assert "data.person" in assert_problem(no_person, 422)["errors"]
    assert_problem(client.post("/t/aalst/v1/events", json={}, headers=rules_town.headers["jan"]), 403)
    assert _actions(app, rules_town) == 0


def test_the_scan_acts_once_per_due_trigger(app: Flask, client: FlaskClient, rules_town: Town) -> None:
    born = municipal_today() - timedelta(days=3)
    eighteen = born.replace(year=born.year - 18).isoformat()
    rules_town.event(client, "r-1", "be.person.moved-in", "jan", birth_date=eighteen)
    rules_town.event(client, "r-2", EXPIRING, "an", expires_on=(municipal_today() + timedelta(days=20)).isoformat())
    rules_town.rule(client, {"kind": "proactive", "service": "eid-card", "trigger": "be.person.turns-18",
                       "expression": "resident.age == 18",
                       "action": {"type": "inform", "message": {"nl": "Proficiat!"}}})
    _inform_when_expiring(client, rules_town)  # active only now: the event came before it

    first = app.test_cli_runner().invoke(cli, ["proactive", "scan", "--days", "30"])
    assert first.exit_code == 0, first.output
    assert "informed 2" in first.output and "100 % 1/1 municipalities" in first.output
    second = app.test_cli_runner().invoke(cli, ["proactive", "scan", "--days", "30"])
    assert second.exit_code == 0 and "nothing due" in second.output
    assert _actions(app, rules_town) == 2
