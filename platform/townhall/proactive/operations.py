"""Proactive and prescriptive service: life events keep a small resident register; the municipality's
proactive rules decide whether to inform the citizen, offer a pre-filled case, or open it themselves.
Each action happens at most once per rule, person and trigger, and records the rule behind it."""

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.auth.models import User
from townhall.auth.queries import user_by_email
from townhall.cases.operations import open_case
from townhall.errors import Conflict, NotFound, TownhallError
from townhall.localisation import pick
from townhall.outbox.operations import emit
from townhall.proactive.models import LifeEvent, ProactiveAction, ProactivePreference
from townhall.proactive.queries import opted_out
from townhall.proactive.schemas import EventInput, PreferencesInput
from townhall.rules.decisions import applicant_variables
from townhall.rules.engine import RuleProblem, compile_rule, evaluate
from townhall.rules.models import Resident, Rule, RuleVersion
from townhall.rules.queries import active_rules
from townhall.rules.schemas import ACTIONS
from townhall.storage import Storage
from townhall.tenancy import Municipality
from townhall.validation import load

SYSTEM_ACTOR = "system:proactive"
EID_EXPIRING = "be.document.eid-expiring"
TURNS_18 = "be.person.turns-18"


@dataclass(frozen=True)
class Trigger:
    type: str
    key: str  # the same due date found by an event and by the scan is one trigger
    data: Mapping[str, Any]


def receive_event(session: Session, municipality: Municipality, storage: Storage, data: Mapping[str, Any],
                  today: date) -> tuple[LifeEvent, bool]:
    """Take a life event (CloudEvents), once per id: the register is updated and the proactive rules
    act. A resend returns the first outcome (and False)."""
    values = load(EventInput, data)
    known = session.get(LifeEvent, (municipality.id, values["id"]))
    if known is not None:
        return known, False
    details = values["data"]
    resident = _update_register(session, municipality.id, values["type"], details)
    trigger = Trigger(values["type"], _trigger_key(values["type"], details, values["id"]),
                      {key: (value.isoformat() if isinstance(value, date) else value)
                       for key, value in details.items() if key != "person"})
    outcome = act(session, municipality, storage, resident, trigger, today)
    event = LifeEvent(tenant_id=municipality.id, event_id=values["id"], type=values["type"], source=values["source"],
                      person_ref=resident.person_ref, data={**trigger.data, "subject": values.get("subject")},
                      outcome=outcome)
    session.add(event)
    session.flush()
    return event, True


def _trigger_key(kind: str, details: Mapping[str, Any], event_id: str) -> str:
    if kind == EID_EXPIRING and details.get("expires_on"):
        return f"{kind}:{details['expires_on'].isoformat()}"
    if kind == TURNS_18 and details.get("birth_date"):
        return f"{kind}:{details['birth_date'].isoformat()}"
    return f"event:{event_id}"


def _update_register(session: Session, tenant_id: uuid.UUID, kind: str, details: Mapping[str, Any]) -> Resident:
    person = details["person"]
    resident = session.get(Resident, (tenant_id, person["ref"]))
    if resident is None:
        resident = Resident(tenant_id=tenant_id, person_ref=person["ref"], address={}, resident=True)
        session.add(resident)
    if person.get("email"):
        user = user_by_email(session, person["email"])
        resident.user_id = user.id if user else resident.user_id
    if details.get("birth_date"):
        resident.birth_date = details["birth_date"]
    if details.get("address") is not None:
        resident.address = dict(details["address"])
    if kind in ("be.person.born", "be.person.moved-in"):
        resident.resident = True
    elif kind == "be.person.moved-out":
        resident.resident = False
    elif kind == EID_EXPIRING and details.get("expires_on"):
        resident.eid_expires_on = details["expires_on"]
    session.flush()
    return resident


def act(session: Session, municipality: Municipality, storage: Storage, resident: Resident, trigger: Trigger,
        today: date) -> dict[str, Any]:
    """Run the municipality's proactive rules for this trigger; returns what each one did."""
    variables = {"event": {"type": trigger.type, "data": dict(trigger.data)},
                 "resident": applicant_variables(resident, today),
                 "tenant": {"slug": municipality.slug, "name": municipality.name},
                 "today": today.isoformat(), "now": municipality.now().isoformat()}
    done = []
    for rule, version in active_rules(session, municipality.id, Rule.kind == "proactive", Rule.trigger == trigger.type):
        try:
            wanted = evaluate(compile_rule("proactive", version.expression), variables)
        except RuleProblem as problem:
            done.append({"rule": str(rule.id), "version": version.number, "status": "failed",
                         "detail": problem.detail})
            continue
        if not wanted:
            continue
        already = session.scalars(select(ProactiveAction.id).where(
            ProactiveAction.tenant_id == municipality.id, ProactiveAction.rule_id == rule.id,
            ProactiveAction.person_ref == resident.person_ref, ProactiveAction.trigger_key == trigger.key)).first()
        if already is not None:
            continue
        action = _perform(session, municipality, storage, resident, rule, version, trigger, today)
        done.append({"rule": str(rule.id), "version": version.number, "action": action.action,
                     "status": action.status, "case": str(action.case_id) if action.case_id else None})
    return {"actions": done}


def _perform(session: Session, municipality: Municipality, storage: Storage, resident: Resident, rule: Rule,
             version: RuleVersion, trigger: Trigger, today: date) -> ProactiveAction:
    kind = str(version.action["type"])
    form = dict(version.action.get("form") or {})
    record = ProactiveAction(tenant_id=municipality.id, rule_id=rule.id, rule_version=version.number,
                             person_ref=resident.person_ref, user_id=resident.user_id, trigger_key=trigger.key,
                             action=kind, status="", service=rule.service, form=form, message="")
    user = session.get(User, resident.user_id) if resident.user_id else None
    if user is None:
        record.status = "unreachable"  # no account to reach; the municipality's other channels apply
    elif kind in opted_out(session, municipality.id, user.id):
        record.status = "opted_out"
    elif kind in ("inform", "offer"):
        languages = [user.preferred_language or "", "nl", "fr", "de", "en"]
        record.message = pick(version.action.get("message") or {}, languages)[1]
        record.status = "informed" if kind == "inform" else "offered"
    else:
        record.status, record.case_id = _open(session, municipality, storage, rule.service, form, user, today)
    session.add(record)
    session.flush()
    if record.status in ("informed", "offered"):
        emit(session, municipality.id, f"citizen.{record.status}", str(user.id) if user else "",
             {"action": str(record.id), "rule": str(rule.id), "service": rule.service, "message": record.message})
        session.flush()
    return record


def _open(session: Session, municipality: Municipality, storage: Storage, service: str, form: Mapping[str, Any],
          user: User, today: date) -> tuple[str, uuid.UUID | None]:
    """Prescriptive: the municipality opens the case itself (a certificate is issued at once)."""
    savepoint = session.begin_nested()
    try:
        case, _ = open_case(session, storage, municipality, service, form, user.id, SYSTEM_ACTOR, today,
                            [user.preferred_language or ""], evidence_later=True)  # the citizen brings it
    except TownhallError:
        savepoint.rollback()
        return "failed", None
    savepoint.commit()
    return "opened", case.id


def _open_offer(session: Session, tenant_id: uuid.UUID, action_id: uuid.UUID, user_id: uuid.UUID) -> ProactiveAction:
    action = session.scalars(select(ProactiveAction).where(
        ProactiveAction.tenant_id == tenant_id, ProactiveAction.id == action_id,
        ProactiveAction.user_id == user_id, ProactiveAction.action == "offer")).first()
    if action is None:
        raise NotFound("No such offer for you here.")
    if action.status != "offered":
        raise Conflict(f"This offer is {action.status} already.")
    return action


def accept_offer(session: Session, municipality: Municipality, storage: Storage, action_id: uuid.UUID,
                 user_id: uuid.UUID, today: date, languages: Sequence[str],
                 completed: Mapping[str, Any] | None = None) -> ProactiveAction:
    """One call: the citizen confirms the pre-filled case the municipality offered, completing its
    form where the service needs more than the offer knows (the photo of an identity card)."""
    action = _open_offer(session, municipality.id, action_id, user_id)
    case, _ = open_case(session, storage, municipality, str(action.service), {**action.form, **(completed or {})},
                        user_id, f"user:{user_id}", today, languages)
    action.status, action.case_id = "accepted", case.id
    session.flush()
    return action


def decline_offer(session: Session, tenant_id: uuid.UUID, action_id: uuid.UUID, user_id: uuid.UUID) -> ProactiveAction:
    """The citizen says no, thank you: the offer is closed and opens nothing."""
    action = _open_offer(session, tenant_id, action_id, user_id)
    action.status = "declined"
    session.flush()
    return action


def set_preferences(session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID,
                    data: Mapping[str, Any]) -> list[str]:
    values = load(PreferencesInput, data)
    chosen = [kind for kind in ACTIONS if not values[kind]]
    found = session.get(ProactivePreference, (tenant_id, user_id))
    if found is None:
        session.add(ProactivePreference(tenant_id=tenant_id, user_id=user_id, opted_out=chosen))
    else:
        found.opted_out = chosen
    session.flush()
    return chosen


def scan(session: Session, municipality: Municipality, storage: Storage, today: date, days: int) -> Counter[str]:
    """Due triggers in the register: eID cards expiring within `days`, 18th birthdays in the last
    `days`. Acting is idempotent, so scanning again acts on nothing new."""
    counts: Counter[str] = Counter()
    expiring = session.scalars(select(Resident).where(
        Resident.tenant_id == municipality.id, Resident.eid_expires_on >= today,
        Resident.eid_expires_on <= today + timedelta(days=days))).all()
    adults_since = _years_before(today, 18)
    turning = session.scalars(select(Resident).where(
        Resident.tenant_id == municipality.id, Resident.birth_date <= adults_since,
        Resident.birth_date > adults_since - timedelta(days=days))).all()
    for kind, residents, field in ((EID_EXPIRING, expiring, "expires_on"), (TURNS_18, turning, "birth_date")):
        for resident in residents:
            day = resident.eid_expires_on if kind == EID_EXPIRING else resident.birth_date
            assert day is not None  # selected on it
            trigger = Trigger(kind, f"{kind}:{day.isoformat()}", {field: day.isoformat()})
            for done in act(session, municipality, storage, resident, trigger, today)["actions"]:
                counts[done["status"]] += 1
    return counts


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
