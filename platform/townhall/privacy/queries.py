"""Everything one municipality holds on one person, as one machine-readable document (GDPR Art. 15
and 20): the person, their register entry, cases with every step, message, document and decision,
appointments, life events and proactive actions, and their proactive preferences."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.appointments.models import Appointment
from townhall.auth.models import User
from townhall.cases.models import Case, CaseDocument, CaseMessage, CaseStep
from townhall.proactive.models import LifeEvent, ProactiveAction, ProactivePreference
from townhall.rules.models import CaseDecision, Resident

KINDS = ("person", "register", "cases", "appointments", "life_events", "proactive_actions",
         "proactive_preferences")


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _row(row: Any, *skip: str) -> dict[str, Any]:
    """Every column of a row but the municipality's id and what `skip` names (storage keys)."""
    return {column.key: _plain(getattr(row, column.key)) for column in row.__table__.columns
            if column.key not in ("tenant_id", *skip)}


def person_view(person: User) -> dict[str, Any]:
    return {"id": str(person.id), "email": person.email, "display_name": person.display_name,
            "preferred_language": person.preferred_language}


def person_export(session: Session, tenant_id: uuid.UUID, person: User) -> dict[str, Any]:
    """What this municipality holds on `person` (the current tenant's scope must be this one)."""
    residents = session.scalars(select(Resident).where(Resident.tenant_id == tenant_id,
                                                       Resident.user_id == person.id)).all()
    refs = [resident.person_ref for resident in residents]
    cases = session.scalars(select(Case).where(Case.tenant_id == tenant_id, Case.citizen_id == person.id)
                            .order_by(Case.created_at)).all()
    ids = [case.id for case in cases]

    def of_cases(model: Any, order: Any) -> dict[uuid.UUID, list[dict[str, Any]]]:
        found: dict[uuid.UUID, list[dict[str, Any]]] = {}
        if ids:
            for row in session.scalars(select(model).where(model.tenant_id == tenant_id, model.case_id.in_(ids))
                                       .order_by(order)):
                found.setdefault(row.case_id, []).append(_row(row, "case_id", "storage_key"))
        return found

    steps, messages = of_cases(CaseStep, CaseStep.at), of_cases(CaseMessage, CaseMessage.at)
    documents, decisions = of_cases(CaseDocument, CaseDocument.at), of_cases(CaseDecision, CaseDecision.at)
    life_events = session.scalars(select(LifeEvent).where(LifeEvent.tenant_id == tenant_id,
                                                          LifeEvent.person_ref.in_(refs))
                                  .order_by(LifeEvent.received_at)).all() if refs else []
    actions = session.scalars(select(ProactiveAction).where(
        ProactiveAction.tenant_id == tenant_id,
        (ProactiveAction.user_id == person.id) | ProactiveAction.person_ref.in_(refs or [""]))
        .order_by(ProactiveAction.created_at)).all()
    return {
        "person": person_view(person),
        "register": [_row(resident) for resident in residents],
        "cases": [_row(case) | {"steps": steps.get(case.id, []), "messages": messages.get(case.id, []),
                                "documents": documents.get(case.id, []), "decisions": decisions.get(case.id, [])}
                  for case in cases],
        "appointments": [_row(a) for a in session.scalars(select(Appointment).where(
            Appointment.tenant_id == tenant_id, Appointment.citizen_id == person.id).order_by(Appointment.starts_at))],
        "life_events": [_row(event) for event in life_events],
        "proactive_actions": [_row(action) for action in actions],
        "proactive_preferences": [_row(p, "user_id") for p in session.scalars(select(ProactivePreference).where(
            ProactivePreference.tenant_id == tenant_id, ProactivePreference.user_id == person.id))],
    }


def counts(export: dict[str, Any]) -> dict[str, int]:
    """How much of each kind an export holds (what the audit entry records, not the data)."""
    return {kind: len(export[kind]) if isinstance(export[kind], list) else 1 for kind in KINDS}
