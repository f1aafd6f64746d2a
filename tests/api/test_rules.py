"""Tenant rules in CEL: checked when saved, versioned, activated only when their examples pass,
adopted from the consortium's templates or overridden, tried in a dry run, and used by cases."""

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from factories import Town
from support.clock import municipal_today
from support.contract import assert_problem
from support.evidence import eid_form
from support.oauth import bearer, data, register_platform_client, token
from townhall.calendar import add_working_days
from townhall.rules.engine import age_on, compile_rule, days_between, evaluate, working_days
from townhall.tenancy import Municipality

FEE = {"kind": "fee", "service": "eid-card", "expression": 'request.reason == "lost" ? 3500 : 2000',
       "examples": [{"input": {"request": {"reason": "lost"}}, "expected": 3500},
                    {"input": {"request": {"reason": "renewal"}}, "expected": 2000}]}


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"expression": "request.reason ==", "kind": "eligibility"}, "expression", "Not valid CEL"),
    ({"expression": "citizen.age >= 18", "kind": "eligibility"}, "expression", "Unknown variable citizen"),
    ({"expression": "vote(applicant)", "kind": "eligibility"}, "expression", "Unknown function vote"),
    ({"expression": "applicant.age + 1", "kind": "eligibility"}, "expression", "gives true or false"),
    ({"expression": "2.5", "kind": "fee"}, "expression", "whole number of cents"),
    ({"expression": "-100", "kind": "fee"}, "expression", "0 or more"),
    ({"expression": "true", "kind": "fee", "examples": [{"input": {}, "expected": 1}]}, "expression", "gave bool"),
    ({"expression": "request.volume", "kind": "fee",
      "examples": [{"input": {"request": {"volume": "big"}}, "expected": 1}]}, "examples.0", "gave str"),
    ({"expression": "request.volume * 2", "kind": "fee",
      "examples": [{"input": {"request": {"volume": "big"}}, "expected": 1}]}, "examples.0", "rule failed"),
    ({"expression": "true", "kind": "horoscope"}, "kind", "one of"),
    ({"expression": "true", "kind": "eligibility", "service": "dragon-licence"}, "service", "no service"),
    ({"expression": "true", "kind": "proactive"}, "trigger", "life event"),
    ({"expression": "true", "kind": "eligibility", "action": {"type": "inform"}}, "action", "Only proactive"),
    ({"kind": "eligibility"}, "expression", "either an expression or a template"),
])
def test_a_bad_rule_is_refused_with_a_problem_that_points_at_it(
    client: FlaskClient, rules_town: Town, body: dict[str, object], field: str, words: str
) -> None:
    answer = client.post("/t/aalst/v1/rules", json={"service": "eid-card"} | body, headers=rules_town.headers["admin"])
    errors = assert_problem(answer, 422)["errors"]
    assert field in errors and words in " ".join(errors[field]), errors


def test_versions_stay_and_only_a_version_whose_examples_pass_is_activated(
    client: FlaskClient, rules_town: Town
) -> None:
    wrong = FEE | {"examples": [{"input": {"request": {"reason": "lost"}}, "expected": 9999}]}
    created = client.post("/t/aalst/v1/rules", json=wrong, headers=rules_town.headers["admin"])
    rule = data(created)
    assert (rule["active_version"], rule["latest_version"]) == (None, 1)
    url = f"/t/aalst/v1/rules/{rule['id']}"
    assert_problem(client.post(url + "/activation", json={"version": 1}, headers=rules_town.headers["admin"]), 428)
    refused = client.post(url + "/activation", json={"version": 1},
                          headers=rules_town.headers["admin"] | {"If-Match": created.headers["ETag"]})
    assert "Expected 9999, the rule gives 3500" in assert_problem(refused, 422)["errors"]["examples.0"][0]
    assert_problem(client.post("/t/aalst/v1/rules", json=FEE, headers=rules_town.headers["admin"]), 409)  # one per kind

    second = client.post(url + "/versions", json={k: FEE[k] for k in ("expression", "examples")},
                         headers=rules_town.headers["admin"])
    assert data(second)["latest_version"] == 2
    activated = client.post(url + "/activation", json={"version": 2},
                            headers=rules_town.headers["admin"] | {"If-Match": second.headers["ETag"]})
    assert data(activated)["active_version"] == 2
    assert [v["number"] for v in data(client.get(url, headers=rules_town.headers["admin"]))["versions"]] == [1, 2]
    stale = client.post(url + "/activation", json={"version": 1},
                        headers=rules_town.headers["admin"] | {"If-Match": second.headers["ETag"]})
    assert_problem(stale, 412)
    assert_problem(client.get(url, headers=rules_town.headers["worker"]), 403)  # config is the admin's


def test_a_rule_is_created_active_in_one_call_and_versions_are_compared(
    client: FlaskClient, rules_town: Town
) -> None:
    admin = rules_town.headers["admin"]
    wrong = FEE | {"activate": True, "examples": [{"input": {"request": {"reason": "lost"}}, "expected": 9999}]}
    assert "examples.0" in assert_problem(client.post("/t/aalst/v1/rules", json=wrong, headers=admin), 422)["errors"]
    assert data(client.get("/t/aalst/v1/rules", headers=admin))["items"] == []  # refused whole: nothing created

    rule = data(client.post("/t/aalst/v1/rules", json=FEE | {"activate": True}, headers=admin))
    assert (rule["active_version"], rule["latest_version"]) == (1, 1)
    url = f"/t/aalst/v1/rules/{rule['id']}"
    cheaper = {"expression": 'request.reason == "lost" ? 3000 : 2000', "activate": True,
               "examples": [{"input": {"request": {"reason": "lost"}}, "expected": 3000}]}
    assert data(client.post(url + "/versions", json=cheaper, headers=admin))["active_version"] == 2

    diff = data(client.get(url + "/diff?from=1&to=2", headers=admin))
    assert set(diff["changes"]) == {"expression", "examples"}
    assert diff["changes"]["expression"] == {"from": FEE["expression"], "to": cheaper["expression"]}
    assert "-request.reason == \"lost\" ? 3500 : 2000" in diff["expression_diff"]
    assert "+request.reason == \"lost\" ? 3000 : 2000" in diff["expression_diff"]
    assert data(client.get(url + "/diff", headers=admin))["from"] == 2  # the active version against the latest
    assert_problem(client.get(url + "/diff?from=1&to=3", headers=admin), 400)
    assert_problem(client.get(url + "/diff?from=x", headers=admin), 400)
    assert_problem(client.get(url + "/diff", headers=rules_town.headers["worker"]), 403)


def test_a_template_is_adopted_and_then_overridden(app: Flask, client: FlaskClient, rules_town: Town) -> None:
    operator = bearer(token(client, register_platform_client(app)))
    template = {"slug": "eid-fee", "kind": "fee", "service": "eid-card", "expression": "1500",
                "examples": [{"input": {}, "expected": 1500}], "description": "The consortium's eID fee."}
    bad = client.post("/v1/rule-templates", json=template | {"examples": [{"input": {}, "expected": 1}]},
                      headers=operator)
    assert "examples.0" in assert_problem(bad, 422)["errors"]
    published = client.post("/v1/rule-templates", json=template, headers=operator)
    assert data(published)["number"] == 1
    templates = data(client.get("/t/aalst/v1/rule-templates", headers=rules_town.headers["admin"]))["items"]
    assert [t["slug"] for t in templates] == ["eid-fee"]

    rule = rules_town.rule(client, {"kind": "fee", "service": "eid-card", "template": "eid-fee"})
    url = f"/t/aalst/v1/rules/{rule['id']}"
    explained = data(client.post(url + "/evaluate", json={"input": {}}, headers=rules_town.headers["admin"]))
    assert explained["result"] == 1500
    assert explained["explanation"]["source"] == "template" and explained["explanation"]["version"] == 1

    own = {"expression": "1800", "examples": [{"input": {}, "expected": 1800}]}
    override = client.post(url + "/versions", json=own, headers=rules_town.headers["admin"])
    client.post(url + "/activation", json={"version": 2},
                headers=rules_town.headers["admin"] | {"If-Match": override.headers["ETag"]})
    explained = data(client.post(url + "/evaluate", json={"input": {}}, headers=rules_town.headers["admin"]))
    assert (explained["result"], explained["explanation"]["source"]) == (1800, "override")
    assert data(client.post(url + "/evaluate", json={"input": {}, "version": 1},
                            headers=rules_town.headers["admin"]))["result"] == 1500  # the template's version stays
    mismatch = client.post("/t/aalst/v1/rules", headers=rules_town.headers["admin"],
                           json={"kind": "fee", "service": "parking-permit", "template": "eid-fee"})
    assert "template" in assert_problem(mismatch, 422)["errors"]


def test_a_dry_run_explains_the_result(client: FlaskClient, rules_town: Town) -> None:
    rule = rules_town.rule(client, FEE)
    url = f"/t/aalst/v1/rules/{rule['id']}/evaluate"
    answer = data(client.post(url, json={"input": {"request": {"reason": "lost"}}},
                              headers=rules_town.headers["admin"]))
    assert answer["result"] == 3500
    assert answer["explanation"] | {"rule": rule["id"]} == answer["explanation"]
    assert {"kind": "fee", "version": 1, "active": True, "value": 3500, "reads": ["request"]}.items() \
        <= answer["explanation"].items()
    missing = client.post(url, json={"input": {}}, headers=rules_town.headers["admin"])
    assert "input" in assert_problem(missing, 422)["errors"]
    odd = {"request": 5}  # the rule meets an input it did not expect
    surprised = client.post(url, json={"input": odd}, headers=rules_town.headers["admin"])
    assert "input" in assert_problem(surprised, 422)["errors"]


def test_cases_are_decided_by_the_rules_and_the_decisions_recorded(client: FlaskClient, rules_town: Town) -> None:
    rules_town.rule(client, {"kind": "eligibility", "service": "eid-card",
                       "expression": "applicant.known && applicant.age >= 18",
                       "reason": {"nl": "Pas vanaf 18 jaar.", "en": "Only from the age of 18."}})
    fee = rules_town.rule(client, FEE)
    rules_town.rule(client, {"kind": "deadline", "service": "eid-card", "expression": "5"})
    rules_town.rule(client, {"kind": "routing", "service": "eid-card", "expression": '"dender"'})
    today = municipal_today()
    young = date(today.year - 11, 1, 1).isoformat()
    assert rules_town.event(client, "e-1", "be.person.moved-in", "jan", birth_date=young).status_code == 202
    assert rules_town.event(client, "e-2", "be.person.moved-in", "an", birth_date="1990-05-17").status_code == 202

    refused = client.post("/t/aalst/v1/cases", json={"service": "eid-card", "form": eid_form()},
                          headers=rules_town.headers["jan"] | {"Accept-Language": "en"})
    problem = assert_problem(refused, 422)
    assert problem["code"] == "not_eligible" and problem["detail"] == "Only from the age of 18."
    unknown = client.post("/t/aalst/v1/cases", json={"service": "eid-card", "form": eid_form()},
                          headers=rules_town.headers["worker"])  # not in the register: the rule says no
    assert_problem(unknown, 422)

    opened = data(client.post("/t/aalst/v1/cases", json={"service": "eid-card", "form": eid_form("lost")},
                              headers=rules_town.headers["an"]))
    assert opened["fee"]["amount_cents"] == 3500 and opened["due_date"] == add_working_days(today, 5).isoformat()
    decisions = data(client.get(f"/t/aalst/v1/cases/{opened['id']}/decisions", headers=rules_town.headers["worker"]))
    by_kind = {d["kind"]: d for d in decisions["items"]}
    assert by_kind["fee"] == by_kind["fee"] | {"value": 3500, "source": "rule",
                                               "rule": {"id": fee["id"], "version": 1}}
    assert (by_kind["eligibility"]["value"], by_kind["routing"]["value"], by_kind["deadline"]["value"]) == (
        True, "dender", 5)
    staff_view = data(client.get(f"/t/aalst/v1/cases/{opened['id']}", headers=rules_town.headers["worker"]))
    assert staff_view["team"] == "dender"
    assert_problem(client.get(f"/t/aalst/v1/cases/{opened['id']}/decisions", headers=rules_town.headers["an"]), 403)
    permit = client.post("/t/aalst/v1/cases", json={"service": "parking-permit", "form": {
        "plate": "1-ABC-234", "zone": "A1", "starts_on": "2026-12-01"}}, headers=rules_town.headers["jan"])
    assert data(permit)["fee"]["amount_cents"] == 5000  # no rules for this service: the catalogue decides


def test_the_functions_rules_may_call() -> None:
    assert age_on("2008-11-29", "2026-11-28") == 17 and age_on("2008-11-28", "2026-11-28") == 18
    assert days_between("2026-11-28", "2026-12-25") == 27
    assert working_days("2026-12-24", "2026-12-28") == 1  # Christmas and a weekend in between
    rule = compile_rule("eligibility", 'age_on(applicant.birth_date, today) >= 12 && request.items.all(i, i > 0)')
    assert evaluate(rule, {"applicant": {"birth_date": "2000-01-01"}, "today": "2026-11-28",
                           "request": {"items": [1, 2]}}) is True
    assert compile_rule("fee", "1500") is compile_rule("fee", "1500")  # compiled once per version's text


def test_rules_see_now_in_the_municipality_s_time_zone() -> None:
    here = Municipality(uuid.uuid4(), "aalst", "Aalst", "https://townhall.test/t/aalst/v1", "Europe/Brussels")
    far = Municipality(uuid.uuid4(), "far", "Far", "https://townhall.test/t/far/v1", "Pacific/Kiritimati")
    assert here.now().utcoffset() == ZoneInfo("Europe/Brussels").utcoffset(datetime.now())
    assert far.now().utcoffset() == timedelta(hours=14)
