"""Write use-cases for cases. They validate, change and flush; the caller commits once."""

import base64
import hashlib
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.auth.models import Delegation, Team, User
from townhall.auth.operations import unknown_person
from townhall.auth.queries import access_in_tenant, team_by_slug
from townhall.auth.scopes import ALL_SERVICES
from townhall.calendar import add_working_days
from townhall.cases.cards import CaseCard, Step, card_of, step_of
from townhall.cases.cards.opening import write_new_case
from townhall.cases.cards.reads import Intake, intake
from townhall.cases.models import (
    Case,
    CaseDocument,
    CaseMessage,
    CaseStep,
    Certificate,
)
from townhall.clock import utcnow
from townhall.errors import Conflict, Forbidden, InvalidInput, NotFound, Refused, StaleVersion
from townhall.forms import Evidence, load_form, uploads
from townhall.ids import new_id
from townhall.outbox.operations import emit
from townhall.rules.decisions import (
    CaseFacts,
    Decisions,
    RuleFailed,
    applicant_of,
    applicant_variables,
    decide,
    decision_rows,
)
from townhall.services.base import SYSTEM, IssuedDocument, Issuing, ServiceType
from townhall.services.registry import service_type
from townhall.storage import Storage, sniff
from townhall.tenancy import Municipality

CLOSED_UNDONE = frozenset({"cancelled", "refused"})  # ends where a paid fee goes back


class NotEligible(Refused):
    title = "Not eligible"
    code = "not_eligible"


def _event_data(case: Case | CaseCard, data: dict[str, Any]) -> dict[str, Any]:
    return {"case": str(case.id), "reference": case.reference, "service": case.service, "status": case.status, **data}


def _event(session: Session, tenant_id: uuid.UUID, kind: str, case: Case, data: dict[str, Any]) -> None:
    emit(session, tenant_id, f"case.{kind}", str(case.id), _event_data(case, data))


def _step(session: Session, case: Case, actor: str, kind: str, *, from_status: str | None = None,
          to_status: str | None = None, note: str | None = None, visible: bool = True) -> CaseStep:
    step = CaseStep(tenant_id=case.tenant_id, case_id=case.id, actor=actor, kind=kind, from_status=from_status,
                    to_status=to_status, note=note, visible_to_citizen=visible)
    session.add(step)
    return step


def open_case(session: Session, storage: Storage, municipality: Municipality, code: str, form: Mapping[str, Any],
              citizen: uuid.UUID | str, actor: str, today: date,
              languages: Sequence[str] = (), *, evidence_later: bool = False) -> tuple[CaseCard, list[Step]]:
    """Open a case for a citizen (their id, or their e-mail address when acting on their behalf):
    the form checked by the service, eligibility and fee from the service and the municipality's
    catalogue, a reference, a due date in working days. Returns the case and its timeline (so the
    answer needs no second read).

    One read (`intake`) and one write (`write_new_case`) of rows whose every value is known here:
    no ORM unit of work on the platform's most frequent write. Services the platform finishes at
    once continue through the ORM, as every later step of a case does.

    Evidence in the form (the photo) is kept as the case's documents; the form keeps a reference.
    `evidence_later`: the platform opens the case itself and the citizen brings the evidence later."""
    service = service_type(code)
    session.flush()  # Core statements do not autoflush: what the ORM still holds (a new person) goes first
    found = intake(session, municipality.id, code, citizen) if service else None
    if service is None or found is None or not found.enabled:
        raise NotFound(f"This municipality does not offer '{code}'.")
    if found.citizen_id is None:
        raise unknown_person(citizen) if isinstance(citizen, str) else NotFound("No such person.")
    citizen_id = found.citizen_id
    values = load_form(service.form, form, later=uploads(service.form) if evidence_later else ())
    evidence = {name: values.pop(name) for name in uploads(service.form) if name in values}
    decisions = _decisions(municipality, service, found, values, today, languages)
    if decisions.refusal:
        raise NotEligible(decisions.refusal)
    team = _routed_team(session, municipality.id, code, decisions.team)  # before a number is taken
    form_values = _jsonable(values)
    documents = {name: (new_id(), given) for name, given in evidence.items()}
    form_values |= {name: {"document": str(document_id), "media_type": given.media_type, "bytes": len(given.content)}
                    for name, (document_id, given) in documents.items()}
    duplicate = service.possible_duplicate(
        form_values, lambda: _open_cases(session, municipality.id, code, service.workflow.terminal))
    now, case_id, status = utcnow(), new_id(), service.workflow.initial
    # Services that need no human (certificates) finish at once, in this transaction: their
    # `case.created` already tells the final status, the one the answer gives.
    finishing = service.workflow.finished_by_platform(status)
    created = Step(id=new_id(), at=now, actor=actor, kind="created", from_status=None, to_status=status, note=None,
                   visible_to_citizen=True)
    opened = CaseCard(
        tenant_id=municipality.id, id=case_id, reference="",  # given with its number, as the case is written
        service=code, status=status, form=form_values, citizen_id=citizen_id, created_by=actor,
        created_at=now, updated_at=now, due_on=add_working_days(today, decisions.deadline_days),
        fee_cents=decisions.fee_cents, possible_duplicate_of=duplicate, assignee_id=None,
        team_id=team.id if team else None, version=1, assignee_email=None, team_slug=team.slug if team else None)
    kept = [_keep_evidence(storage, opened, document_id, name, given, actor, actor == f"user:{citizen_id}", now)
            for name, (document_id, given) in documents.items()]
    case = write_new_case(session, opened, decision_rows(municipality.id, case_id, decisions, now), created,
                          _event_data(replace(opened, status=finishing or status), {}), municipality.slug,
                          today.year, kept)
    if finishing is None:
        return case, [created]
    # The platform takes the finishing step itself.
    finished = session.scalars(select(Case).where(Case.tenant_id == case.tenant_id, Case.id == case.id)).one()
    moved = _move(session, finished, finishing, SYSTEM, "system")
    if service.issues is not None:
        _issue_certificate(session, storage, municipality, finished, today, service.issues)
    session.flush()  # the step's id and time, the case's version
    return card_of(finished), [created, step_of(moved)]


def _document_key(tenant_id: uuid.UUID, document_id: uuid.UUID) -> str:
    """Where a document's bytes are kept: the municipality's folder, then one of 256 folders by the
    id's last two (random) hex digits. Not a folder per case: making one on every creation cost more
    than writing the photo itself; these exist after the first few hundred documents. Keys are
    read back from the document's row only, so rows written before keep their keys."""
    return f"documents/{tenant_id}/{document_id.hex[-2:]}/{document_id}"


def _keep_evidence(storage: Storage, case: CaseCard, document_id: uuid.UUID, name: str, given: Evidence, actor: str,
                   from_citizen: bool, now: datetime) -> dict[str, Any]:
    """Evidence sent with the application, stored; the row of the case's document that names it,
    written with the case's first write."""
    key = _document_key(case.tenant_id, document_id)
    storage.put(key, given.content)  # before the row: a row never points at missing bytes
    extension = "png" if given.media_type == "image/png" else "jpg"
    return {"tenant_id": case.tenant_id, "id": document_id, "case_id": case.id, "filename": f"{name}.{extension}",
            "content_type": given.media_type, "size": len(given.content),
            "sha256": hashlib.sha256(given.content).hexdigest(), "storage_key": key, "uploaded_by": actor,
            "from_citizen": from_citizen, "at": now}


def _decisions(municipality: Municipality, service: ServiceType, found: Intake, values: Mapping[str, Any],
               today: date, languages: Sequence[str]) -> Decisions:
    """Eligibility, fee, deadline and routing: the municipality's active rules replace the service's
    own checks and the catalogue's values (`townhall.rules.decisions`)."""
    refusal = service.eligibility(applicant_of(found.applicant), values, today)
    defaults = Decisions(refusal=f"Not eligible for this service: {refusal}." if refusal else None,
                         fee_cents=service.fee(values, found.fee_cents), deadline_days=found.processing_days)
    if not found.rules:
        return decide((), CaseFacts({}, service.code, values, today, municipality.now(), languages), {}, defaults)
    facts = CaseFacts({"slug": municipality.slug, "name": municipality.name}, service.code, _jsonable(values), today,
                      municipality.now(), [*languages, "nl", "fr", "de", "en"])
    return decide(found.rules, facts, applicant_variables(found.applicant, today), defaults)


def _delegated(session: Session, tenant_id: uuid.UUID, team: Team, service: str) -> bool:
    """Whether the municipality lets this team handle the service (by name or `*`)."""
    return session.scalars(select(Delegation.id).where(
        Delegation.tenant_id == tenant_id, Delegation.team_id == team.id,
        Delegation.service.in_([service, ALL_SERVICES]))).first() is not None


def _routed_team(session: Session, tenant_id: uuid.UUID, service: str, slug: str) -> Team | None:
    """The team a routing rule named, if this municipality delegates the service to it."""
    if not slug:
        return None
    team = team_by_slug(session, slug)
    if team is None or not _delegated(session, tenant_id, team, service):
        raise RuleFailed(f"The routing rule named team '{slug}', which does not handle {service} here.")
    return team


def _issue_certificate(session: Session, storage: Storage, municipality: Municipality, case: Case,
                       today: date, issues: Callable[[Issuing], IssuedDocument]) -> None:
    """The certificate row and its PDF, which the citizen downloads among the case's documents."""
    holder = session.get(User, case.citizen_id)
    code = _verification_code()
    issued = issues(Issuing(
        form=case.form, municipality=municipality.name, holder=holder.display_name if holder else "",
        reference=case.reference, issued_on=today, verification_code=code,
        verify_url=f"{municipality.api_url}/certificates/{code}"))
    certificate = Certificate(tenant_id=municipality.id, case_id=case.id, kind=issued.kind, verification_code=code)
    session.add(certificate)
    pdf = _store_document(session, storage, case, issued.filename, "application/pdf", issued.content, SYSTEM,
                          from_citizen=False)
    certificate.document_id = pdf.id


def _verification_code() -> str:
    """15 random bytes as 24 base32 characters in groups of four: easy to read aloud and type."""
    raw = base64.b32encode(secrets.token_bytes(15)).decode()
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def add_message(session: Session, case: Case, author: str, from_citizen: bool, body: str) -> CaseMessage:
    text = body.strip()
    if not text or len(text) > 4000:
        raise InvalidInput({"body": ["Between 1 and 4000 characters."]})
    message = CaseMessage(tenant_id=case.tenant_id, case_id=case.id, author=author, from_citizen=from_citizen,
                          body=text)
    session.add(message)
    session.flush()
    _event(session, case.tenant_id, "message-added", case, {"message": str(message.id), "from_citizen": from_citizen})
    return message


# What citizens and staff may attach, recognised by the file's first bytes, not by its name.
def attach_document(session: Session, storage: Storage, case: Case, filename: str, content: bytes,
                    author: str, from_citizen: bool, max_bytes: int) -> CaseDocument:
    kind = sniff(content)
    if kind is None:
        raise InvalidInput({"file": ["A PDF, PNG or JPEG file."]})
    if not content or len(content) > max_bytes:
        raise InvalidInput({"file": [f"At most {max_bytes} bytes."]})
    safe_name = re.sub(r"[^A-Za-z0-9._ -]", "_", filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])[:200] or "document"
    return _store_document(session, storage, case, safe_name, kind, content, author, from_citizen)


def add_system_document(session: Session, storage: Storage, case: Case, filename: str, content: bytes) -> CaseDocument:
    """A PDF the municipality made for the case (a receipt, a certificate), among its documents."""
    return _store_document(session, storage, case, filename, "application/pdf", content, SYSTEM, from_citizen=False)


def move_on_after_fee(session: Session, case: Case, actor: str, note: str) -> bool:
    """A case waiting for its fee takes its workflow's next step once the fee is paid (the one
    step out of `fee_due` the system may take that does not end it); False if it waits no more."""
    service = service_type(case.service)
    if case.status != "fee_due" or service is None:
        return False
    onward = [t for t in service.workflow.transitions
              if t.source == "fee_due" and SYSTEM in t.roles and t.target not in CLOSED_UNDONE]
    if not onward:
        return False
    _move(session, case, onward[0].target, SYSTEM, actor, note)
    return True


def _store_document(session: Session, storage: Storage, case: Case, filename: str, kind: str, content: bytes,
                    author: str, from_citizen: bool) -> CaseDocument:
    document = CaseDocument(tenant_id=case.tenant_id, case_id=case.id, filename=filename, content_type=kind,
                            size=len(content), sha256=hashlib.sha256(content).hexdigest(), storage_key="",
                            uploaded_by=author, from_citizen=from_citizen)
    document.id = new_id()
    document.storage_key = _document_key(case.tenant_id, document.id)
    storage.put(document.storage_key, content)  # before the row: a row never points at missing bytes
    session.add(document)
    session.flush()
    _event(session, case.tenant_id, "document-added", case, {"document": str(document.id), "sha256": document.sha256})
    return document


def _open_cases(session: Session, tenant_id: uuid.UUID, service: str,
                terminal: frozenset[str]) -> Iterable[tuple[str, dict[str, Any]]]:
    """The service's open cases here, the most recent first (what duplicate checks compare with)."""
    return session.execute(
        select(Case.reference, Case.form)
        .where(Case.tenant_id == tenant_id, Case.service == service, Case.status.not_in(sorted(terminal)))
        .order_by(Case.id.desc())
        .limit(500)  # recent open cases; enough for a municipality's streets, bounded for the database
    )


def move_case(session: Session, case: Case, target: str, role: str, actor: str, note: str | None = None,
              expected_version: int | None = None) -> Case:
    """Take one step of the case's workflow, if this role may take it from here."""
    if expected_version is not None and expected_version != case.version:
        raise StaleVersion("The case changed since you read it.")
    _move(session, case, target, role, actor, note)
    return case


def _move(session: Session, case: Case, target: str, role: str, actor: str, note: str | None = None) -> CaseStep:
    service = service_type(case.service)
    step = service.workflow.transition(case.status, target) if service else None
    if step is None:
        raise Conflict(f"A case in '{case.status}' cannot go to '{target}'.")
    if role not in step.roles:
        raise Forbidden(f"You may not move a case from '{case.status}' to '{target}'.")
    source, case.status = case.status, target
    session.flush()
    taken = _step(session, case, actor, "transition", from_status=source, to_status=target, note=note,
                  visible=step.informs_citizen)
    _event(session, case.tenant_id, "status-changed", case, {"from": source, "to": target})
    return taken


def assign_case(session: Session, case: Case, assignee: User | None, team: Team | None, actor: str,
                expected_version: int | None = None) -> Case:
    """Give the case to a person and/or a team who may handle its service here (None: nobody)."""
    if expected_version is not None and expected_version != case.version:
        raise StaleVersion("The case changed since you read it.")
    problems: dict[str, list[str]] = {}
    if assignee is not None and not access_in_tenant(session, assignee.id, case.tenant_id).may_handle(case.service):
        problems["assignee"] = ["This person does not handle this service for this municipality."]
    if team is not None and not _delegated(session, case.tenant_id, team, case.service):
        problems["team"] = ["This municipality does not delegate this service to that team."]
    if problems:
        raise InvalidInput(problems)
    if (case.assignee_id, case.team_id) == (assignee.id if assignee else None, team.id if team else None):
        return case  # nothing changes: no step, no event
    case.assignee, case.team = assignee, team
    session.flush()
    note = ", ".join(part for part in (assignee.email if assignee else "", f"team {team.slug}" if team else "") if part)
    _step(session, case, actor, "assignment", note=f"Assigned to {note}." if note else "Unassigned.", visible=False)
    _event(session, case.tenant_id, "assigned", case, {"assignee": str(assignee.id) if assignee else None,
                                                       "team": team.slug if team else None})
    return case


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    """Dates and other loaded values as JSON text (the form is kept as the citizen sent it)."""
    loaded: dict[str, Any] = orjson.loads(orjson.dumps(values, default=str, option=orjson.OPT_PASSTHROUGH_DATETIME))
    return loaded
