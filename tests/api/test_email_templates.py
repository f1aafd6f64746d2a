"""/t/<tenant>/v1/admin/email-templates: a municipality rewrites the e-mail its citizens get, only
with the placeholders the worker fills in, and every change is in its history."""

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from support.contract import assert_problem
from support.oauth import bearer, data, register, token
from tenants.models import Tenant
from townhall.outbox.texts import DEFAULTS, PLACEHOLDERS, text_problems

PATH = "/t/aalst/v1/admin/email-templates"
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def admin(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], signing_key: None) -> dict[str, str]:
    return bearer(token(client, register(app, make_tenant("aalst", "41002"), ["config:write"])))


def test_every_default_text_uses_only_its_event_s_placeholders() -> None:
    assert set(DEFAULTS) == set(PLACEHOLDERS)
    for event, languages in DEFAULTS.items():
        for subject, body in languages.values():
            assert text_problems(subject, event) == [] and text_problems(body, event) == []


def test_the_list_shows_every_e_mail_with_its_placeholders_and_the_platform_s_words(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    items = {i["event_type"]: i for i in data(client.get(PATH, headers=admin))["items"]}
    assert set(items) == set(PLACEHOLDERS)
    created = items["case.created"]
    assert created["customised"] == [] and created["placeholders"] == ["reference", "service", "municipality"]
    assert created["texts"]["en"]["subject"] == "Your request {reference} has arrived"
    assert set(created["texts"]) == {"nl", "fr", "de", "en"}


@pytest.mark.parametrize(("text", "field"), [
    ("Dear {name}", "texts.nl.body"),  # not a placeholder of this event
    ("{reference.__class__}", "texts.nl.body"),  # attribute access
    ("{reference!r}", "texts.nl.body"),  # conversion
    ("{reference:>99999}", "texts.nl.body"),  # format spec
    ("{}", "texts.nl.body"),  # positional
    ("Unclosed {reference", "texts.nl.body"),
])
def test_a_text_naming_what_the_worker_cannot_fill_in_is_refused_at_its_field(
    client: FlaskClient, admin: dict[str, str], text: str, field: str
) -> None:
    refused = client.patch(f"{PATH}/case.created", json={"texts": {"nl": {"body": text}}},
                           headers=admin | MERGE | {"If-Match": '"v0"'})
    assert field in assert_problem(refused, 422)["errors"]
    assert data(client.get(f"{PATH}/case.created", headers=admin))["customised"] == []


def test_a_subject_is_one_line_and_unknown_languages_or_events_are_refused(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    headers = admin | MERGE | {"If-Match": '"v0"'}
    two_lines = client.patch(f"{PATH}/case.created", json={"texts": {"fr": {"subject": "A\r\nBcc: x@example.org"}}},
                             headers=headers)
    assert "texts.fr.subject" in assert_problem(two_lines, 422)["errors"]
    for sneaky in ("Hallo\n", "Hallo\u2028daar", "Hallo\x0bdaar"):
        refused = client.patch(f"{PATH}/case.created", json={"texts": {"fr": {"subject": sneaky}}}, headers=headers)
        assert "texts.fr.subject" in assert_problem(refused, 422)["errors"], repr(sneaky)
    klingon = client.put(f"{PATH}/case.created", json={"texts": {"tlh": {"subject": "Qapla'", "body": "x"}}},
                         headers=admin | {"If-Match": '"v0"'})
    assert "texts.tlh" in assert_problem(klingon, 422)["errors"]
    assert_problem(client.get(f"{PATH}/case.assigned", headers=admin), 404)  # no e-mail for it
    assert_problem(client.get(f"{PATH}/nonsense", headers=admin), 404)


def test_rewrite_reset_and_history(client: FlaskClient, admin: dict[str, str]) -> None:
    one = f"{PATH}/appointment.reminder"
    first = client.patch(one, json={"texts": {"nl": {"subject": "Morgen: {start}"}}},
                         headers=admin | MERGE | {"If-Match": '"v0"'})
    body = data(first)
    assert first.headers["ETag"] == '"v1"' and body["customised"] == ["nl"]
    assert body["texts"]["nl"] == {"subject": "Morgen: {start}",
                                   "body": DEFAULTS["appointment.reminder"]["nl"][1]}  # the body kept
    reset = client.patch(one, json={"texts": {"nl": None}}, headers=admin | MERGE | {"If-Match": '"v1"'})
    assert data(reset)["customised"] == [] and data(reset)["texts"]["nl"]["subject"].startswith("Herinnering")
    assert_problem(client.put(one, json={}, headers=admin | {"If-Match": '"v1"'}), 412)
    history = data(client.get("/t/aalst/v1/admin/changes?subject=email-template:appointment.reminder",
                              headers=admin))["items"]
    assert [list(entry["changes"]) for entry in history] == [["nl"], ["nl"]]
    assert history[1]["changes"]["nl"]["to"]["subject"] == "Morgen: {start}"
