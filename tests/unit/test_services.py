"""The service implementations: consistent workflows, forms that accept what citizens send and refuse
what they must not, fees and eligibility."""

from datetime import date, timedelta
from typing import Any

import pytest

from support.evidence import PHOTO
from support.suite import ROOT
from townhall.auth.scopes import CASE_WORKER, CITIZEN
from townhall.errors import InvalidInput
from townhall.forms import load_form
from townhall.localisation import LANGUAGES
from townhall.services.base import STAFF, SYSTEM, Applicant, Transition, Workflow
from townhall.services.registry import SERVICE_TYPES

TODAY = date(2026, 11, 28)
VALID: dict[str, dict[str, Any]] = {
    "eid-card": {"reason": "renewal", "photo": PHOTO},
    "travel-document": {"reason": "first", "express": True, "photo": PHOTO},
    "address-change": {"new_address": {"street": "Grote Markt", "number": "3", "postal_code": "9300",
                                       "municipality": "Aalst"}, "moved_on": date.today().isoformat()},
    "certificate": {"kind": "household_composition", "language": "fr"},
    "public-space-report": {"category": "pothole", "description": "Deep hole near the school", "lat": 50.9378,
                            "long": 4.0409},
    "parking-permit": {"plate": "1-abc-234", "zone": "A1", "starts_on": "2026-12-01"},
    "bulky-waste": {"items": [{"kind": "mattress", "quantity": 2}], "volume_m3": 1.5},
}
INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("eid-card", {"reason": "stolen", "photo": PHOTO}, "police_report"),
    ("eid-card", {"reason": "bored", "photo": PHOTO}, "reason"),
    ("eid-card", {"reason": "renewal"}, "photo"),
    ("eid-card", {"reason": "renewal", "photo": {"media_type": "image/jpeg", "content": "JVBERi0xLjQ="}}, "photo"),
    ("eid-card", {"reason": "renewal", "photo": {"media_type": "image/jpeg", "content": "not base64!"}}, "photo"),
    ("travel-document", {"reason": "first"}, "photo"),
    ("address-change", {"new_address": {"street": "x", "number": "1", "postal_code": "0123", "municipality": "y"},
                        "moved_on": date.today().isoformat()}, "new_address.postal_code"),
    ("address-change", {**VALID["address-change"], "moved_on": (date.today() - timedelta(days=400)).isoformat()},
     "moved_on"),
    ("public-space-report", {"category": "pothole", "description": "hole"}, "address"),
    ("public-space-report", {"category": "pothole", "description": "hole", "lat": 91, "long": 4}, "lat"),
    ("public-space-report", {"category": "pothole", "description": "hole", "lat": 50.9}, "long"),
    ("parking-permit", {**VALID["parking-permit"], "plate": "AB-12345"}, "plate"),
    ("parking-permit", {**VALID["parking-permit"], "plate": "0-ABC-123"}, "plate"),
    ("bulky-waste", {"items": [], "volume_m3": 1}, "items"),
    ("bulky-waste", {"items": [{"kind": "car", "quantity": 1}], "volume_m3": 20}, "volume_m3"),
    ("certificate", {"kind": "birth"}, "kind"),
]


def test_the_seven_services_are_offered() -> None:
    assert set(SERVICE_TYPES) == {"eid-card", "travel-document", "address-change", "certificate",
                                  "public-space-report", "parking-permit", "bulky-waste"}


@pytest.mark.parametrize("code", sorted(SERVICE_TYPES))
def test_each_service_is_complete_and_its_workflow_consistent(code: str) -> None:
    service = SERVICE_TYPES[code]
    assert service.code == code
    assert set(service.names) == set(LANGUAGES) and set(service.descriptions) == set(LANGUAGES)
    assert service.workflow.problems() == []
    assert service.fee_cents >= 0 and service.processing_days >= 0
    load_form(service.form, VALID[code])  # the example citizens send is accepted


@pytest.mark.parametrize(("code", "form", "field"), INVALID)
def test_forms_refuse_what_they_must(code: str, form: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_form(SERVICE_TYPES[code].form, form)
    assert f"form.{field}" in caught.value.errors


def test_belgian_plates_in_every_format() -> None:
    for plate in ("1-ABC-234", "1ABC234", "2-xyz-999", "ABC-123", "123-ABC", " 1-abc-234 "):
        load_form(SERVICE_TYPES["parking-permit"].form, {**VALID["parking-permit"], "plate": plate})


def test_who_may_take_which_step() -> None:
    eid = SERVICE_TYPES["eid-card"].workflow
    assert eid.next_states("submitted", CITIZEN) == ["cancelled"]
    assert set(eid.next_states("submitted", CASE_WORKER)) == {"fee_due", "cancelled"}
    assert eid.next_states("ready_for_pickup", CITIZEN) == []
    assert eid.next_states("handed_over", CASE_WORKER) == []  # terminal
    certificate = SERVICE_TYPES["certificate"].workflow
    assert certificate.next_states("requested", SYSTEM) == ["issued"]
    assert certificate.next_states("requested", CASE_WORKER) == []  # no human in the loop
    address = SERVICE_TYPES["address-change"].workflow
    step = address.transition("submitted", "neighbourhood_check")
    assert step is not None and not step.informs_citizen  # internal work


_ISSUING = {  # eID card and passport: apply, fee due, production, pickup (booked), handed over, or cancelled
    "submitted": {CITIZEN: {"cancelled"}, CASE_WORKER: {"fee_due", "cancelled"}},
    "fee_due": {CITIZEN: {"cancelled"}, CASE_WORKER: {"production_ordered", "cancelled"},
                SYSTEM: {"production_ordered"}},
    "production_ordered": {CASE_WORKER: {"ready_for_pickup", "cancelled"}, SYSTEM: {"ready_for_pickup"}},
    "ready_for_pickup": {CASE_WORKER: {"handed_over"}, SYSTEM: {"pickup_booked"}},
    "pickup_booked": {CASE_WORKER: {"handed_over"}, SYSTEM: {"ready_for_pickup"}},
}
# Who may move a case from each state, and where to; every other pair of state and role may do nothing.
ALLOWED: dict[str, dict[str, dict[str, set[str]]]] = {
    "eid-card": _ISSUING,
    "travel-document": _ISSUING,
    "address-change": {"submitted": {CASE_WORKER: {"neighbourhood_check"}},
                       "neighbourhood_check": {CASE_WORKER: {"registered", "refused"}}},
    "certificate": {"requested": {SYSTEM: {"issued"}}},
    "public-space-report": {"submitted": {CASE_WORKER: {"acknowledged", "closed"}},
                            "acknowledged": {CASE_WORKER: {"in_progress", "closed"}},
                            "in_progress": {CASE_WORKER: {"resolved"}}},
    "parking-permit": {"submitted": {CITIZEN: {"cancelled"}, CASE_WORKER: {"fee_due", "refused", "cancelled"}},
                       "fee_due": {CITIZEN: {"cancelled"}, CASE_WORKER: {"issued", "cancelled"}, SYSTEM: {"issued"}}},
    "bulky-waste": {"submitted": {CITIZEN: {"cancelled"}, CASE_WORKER: {"fee_due", "cancelled"}, SYSTEM: {"fee_due"}},
                    "fee_due": {CITIZEN: {"scheduled", "cancelled"}, CASE_WORKER: {"scheduled", "cancelled"},
                                SYSTEM: {"scheduled"}},
                    "scheduled": {CITIZEN: {"cancelled"}, CASE_WORKER: {"collected", "cancelled"}}},
}


@pytest.mark.parametrize("code", sorted(SERVICE_TYPES))
def test_allowed_and_forbidden_transitions_of_each_workflow_for_each_role(code: str) -> None:
    workflow = SERVICE_TYPES[code].workflow
    for state in workflow.states:
        for role in (CITIZEN, CASE_WORKER, SYSTEM):
            allowed = ALLOWED[code].get(state, {}).get(role, set())
            # Exactly these: anything else from this state is forbidden to this role.
            assert set(workflow.next_states(state, role)) == allowed, (state, role)


def test_fees() -> None:
    passport = SERVICE_TYPES["travel-document"]
    assert passport.fee({"express": False}, 7_500) == 7_500
    assert passport.fee({"express": True}, 7_500) == 25_000
    assert SERVICE_TYPES["bulky-waste"].fee({"volume_m3": 1.5}, 2_000) == 4_000
    assert SERVICE_TYPES["eid-card"].fee({}, 2_500) == 2_500  # the municipality's own base fee


def test_an_identity_card_from_twelve_for_residents() -> None:
    rule = SERVICE_TYPES["eid-card"].eligibility
    twelve = date(TODAY.year - 12, TODAY.month, TODAY.day)
    assert rule(Applicant(twelve, resident=True), {}, TODAY) is None
    assert rule(Applicant(twelve + timedelta(days=1), resident=True), {}, TODAY) == "too_young"
    assert rule(Applicant(date(1980, 1, 1), resident=False), {}, TODAY) == "not_resident"


def test_a_broken_workflow_is_noticed() -> None:

    steps = (Transition("a", "b", STAFF), Transition("b", "a", STAFF), Transition("b", "x", STAFF))
    broken = Workflow(states=("a", "b", "c"), initial="a", transitions=steps, terminal=frozenset({"b"}))
    problems = broken.problems()
    assert any("unknown state" in p for p in problems)
    assert any("terminal but has a way out" in p for p in problems)
    assert any("c cannot be reached" in p for p in problems)


def test_the_services_doc_shows_every_workflow_as_it_is() -> None:
    text = (ROOT / "docs" / "services.md").read_text()
    for code, service in SERVICE_TYPES.items():
        assert f"`{code}`" in text
        for step in service.workflow.transitions:
            assert f"{step.source} --> {step.target}: {', '.join(sorted(step.roles))}" in text, (code, step)
