"""Write use-cases for cases. They validate, change and flush; the caller commits once."""

import base64
import hashlib
import math
import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from functools import cache
from typing import Any

import orjson
from marshmallow import ValidationError
from sqlalchemy import ColumnElement, Insert, Select, Table, Text, bindparam, cast, column, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from townhall import driver
from townhall.auth.models import Delegation, Team, User
from townhall.auth.operations import unknown_person
from townhall.auth.queries import access_in_tenant, team_by_slug
from townhall.auth.scopes import ALL_SERVICES, CASE_WORKER
from townhall.calendar import add_working_days
from townhall.cases.models import (
    Case,
    CaseDocument,
    CaseMessage,
    CaseStep,
    Certificate,
    ReferenceCounter,
)
from townhall.cases.queries import CASE_COLUMNS, STEP_COLUMNS, CaseCard, Intake, Step, intake
from townhall.clock import utcnow
from townhall.db import Base, stored_utc
from townhall.errors import Conflict, Forbidden, InvalidInput, NotFound, Refused, StaleVersion
from townhall.ids import new_id
from townhall.outbox.models import OutboxEvent
from townhall.outbox.operations import emit, event_row
from townhall.rules.decisions import (
    CaseFacts,
    Decisions,
    RuleFailed,
    applicant_of,
    applicant_variables,
    decide,
    decision_rows,
)
from townhall.rules.models import CaseDecision
from townhall.services import certificate as certificate_texts
from townhall.services.base import SYSTEM, ServiceType
from townhall.services.registry import service_type
from townhall.storage import Storage
from townhall.tenancy import Municipality, check_tenant
from townhall.validation import flatten, schema_of


class NotEligible(Refused):
    title = "Not eligible"
    code = "not_eligible"


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


@cache
def _insert(model: type[Base]) -> Insert:
    return insert(_table(model))


@cache
def _counter_upsert(dialect: str) -> Any:
    """The next number from the counter of a municipality and year, in one atomic upsert: concurrent
    creations each get their own. SQLite returns the number; PostgreSQL returns the reference made
    from it (`prefix` followed by what `f"{number:06d}"` makes: six digits at least, more past
    999,999), for the statement that writes the case with it."""
    counters = _table(ReferenceCounter)
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = (builder(counters).values(tenant_id=bindparam("tenant"), year=bindparam("year"), last=1)
              .on_conflict_do_update(index_elements=["tenant_id", "year"], set_={"last": counters.c.last + 1}))
    if dialect != "postgresql":
        return upsert.returning(counters.c.last)
    digits = cast(counters.c.last, Text)
    return upsert.returning((bindparam("prefix", type_=Text)
                             + func.lpad(digits, func.greatest(6, func.length(digits)), "0")).label("reference"))


_OPENING = (Case, CaseDecision, CaseStep, OutboxEvent)  # the tables a new case writes to, in this order


@cache
def _opening_in_one() -> Select[Any]:
    """PostgreSQL: a new case in one round trip, returning its reference. The counter's upsert and
    the INSERTs are data-modifying CTEs of one statement (foreign keys are checked at its end); the
    reference is made from the number in the statement, into the case row and its event's data.
    Each table's rows travel as one JSON array that `jsonb_to_recordset` turns back into typed rows:
    a short statement with one parameter per table, parsed and prepared once."""
    taken = _counter_upsert("postgresql").cte("taken")
    reference = select(taken.c.reference).scalar_subquery()
    inserts = []
    for index, model in enumerate(_OPENING):
        table = _table(model)
        rows = func.jsonb_to_recordset(cast(bindparam(f"rows_{index}"), JSONB)).table_valued(
            *(column(c.name, c.type) for c in table.c)).render_derived(with_types=True)
        values: list[ColumnElement[Any]] = list(rows.c)
        if model is Case:
            values[list(table.c.keys()).index("reference")] = reference
        if model is OutboxEvent:
            values[list(table.c.keys()).index("data")] = rows.c.data.op("||")(
                func.jsonb_build_object("reference", reference))
        inserts.append(insert(table).from_select(list(table.c.keys()), select(*values)).cte(f"insert_{index}"))
    return select(taken.c.reference).add_cte(*inserts)


def _json_rows(rows: list[dict[str, Any]]) -> str:
    return orjson.dumps(rows, default=_json_value, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()


def _json_value(value: object) -> str:
    """Moments and dates, which orjson leaves to us: written as PostgreSQL reads them (moments as
    `UTCDateTime` binds them; a naive one is refused)."""
    if isinstance(value, datetime):
        return str(stored_utc(value))
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a column value")


def _opening_rows(case: CaseCard, decisions: list[dict[str, Any]], created: Step,
                  settled: str) -> tuple[list[dict[str, Any]], ...]:
    """The rows of `_OPENING`, every column given; the tenant checked as the ORM guard checks it at
    flush (it does not see Core writes; row-level security checks again on PostgreSQL). The event
    tells the status the case has when the transaction ends (`settled`), not the first one."""
    step = {name: getattr(created, name) for name in STEP_COLUMNS}
    rows: tuple[list[dict[str, Any]], ...] = (
        [{name: getattr(case, name) for name in CASE_COLUMNS}], decisions,
        [{"tenant_id": case.tenant_id, "case_id": case.id, **step}],
        [event_row(case.tenant_id, "case.created", str(case.id), _event_data(replace(case, status=settled), {}),
                   created.at)])
    for row in (row for table in rows for row in table):
        check_tenant(row["tenant_id"])
    return rows


def _write_new_case(session: Session, case: CaseCard, decisions: list[dict[str, Any]], created: Step,
                    slug: str, year: int, settled: str) -> CaseCard:
    """Take the case's number from the counter of its municipality and year (one atomic upsert:
    concurrent creations each get their own) and write the case, its decisions, its first step and
    its `case.created` event with Core statements built once: opening a case is the most frequent
    write. Returns the case with its reference."""
    connection = session.connection()
    numbering, prefix = {"tenant": case.tenant_id, "year": year}, f"{slug.upper()}-{year}-"
    if connection.dialect.name == "postgresql":
        tables = _opening_rows(case, decisions, created, settled)
        values = {f"rows_{index}": _json_rows(rows) for index, rows in enumerate(tables)}
        [(reference,)] = driver.rows(connection, _opening_in_one(), {**numbering, "prefix": prefix, **values})
        return replace(case, reference=reference)
    number: int = connection.execute(_counter_upsert("sqlite"), numbering).scalar_one()
    case = replace(case, reference=f"{prefix}{number:06d}")
    for model, rows in zip(_OPENING, _opening_rows(case, decisions, created, settled), strict=True):
        if rows:
            connection.execute(_insert(model), rows)
    return case


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
              languages: Sequence[str] = ()) -> tuple[Case | CaseCard, list[CaseStep | Step]]:
    """Open a case for a citizen (their id, or their e-mail address when acting on their behalf):
    the form checked by the service, eligibility and fee from the service and the municipality's
    catalogue, a reference, a due date in working days. Returns the case and its timeline (so the
    answer needs no second read).

    One read (`intake`) and one write (`_write_new_case`) of rows whose every value is known here:
    no ORM unit of work on the platform's most frequent write. Services the platform finishes at
    once continue through the ORM, as every later step of a case does."""
    service = service_type(code)
    session.flush()  # Core statements do not autoflush: what the ORM still holds (a new person) goes first
    found = intake(session, municipality.id, code, citizen) if service else None
    if service is None or found is None or not found.enabled:
        raise NotFound(f"This municipality does not offer '{code}'.")
    if found.citizen_id is None:
        raise unknown_person(citizen) if isinstance(citizen, str) else NotFound("No such person.")
    citizen_id = found.citizen_id
    try:
        values = schema_of(service.form).load(form)
    except ValidationError as error:
        raise InvalidInput(flatten(error.messages, "form")) from error
    decisions = _decisions(municipality, service, found, values, today, languages)
    if decisions.refusal:
        raise NotEligible(decisions.refusal)
    team = _routed_team(session, municipality.id, code, decisions.team)  # before a number is taken
    form_values = _jsonable(values)
    duplicate = (_possible_duplicate(session, municipality.id, code, form_values, service.workflow.terminal)
                 if code == "public-space-report" else None)
    now, case_id, status = utcnow(), new_id(), service.workflow.initial
    # Services that need no human (certificates) finish at once, in this transaction: their
    # `case.created` already tells the final status, the one the answer gives.
    finishing = next((target for target in service.workflow.next_states(status, SYSTEM)
                      if target in service.workflow.terminal), None)
    created = Step(id=new_id(), at=now, actor=actor, kind="created", from_status=None, to_status=status, note=None,
                   visible_to_citizen=True)
    case = _write_new_case(session, CaseCard(
        tenant_id=municipality.id, id=case_id, reference="",  # given with its number, as the case is written
        service=code, status=status, form=form_values, citizen_id=citizen_id, created_by=actor,
        created_at=now, updated_at=now, due_on=add_working_days(today, decisions.deadline_days),
        fee_cents=decisions.fee_cents, possible_duplicate_of=duplicate, assignee_id=None,
        team_id=team.id if team else None, version=1, assignee_email=None, team_slug=team.slug if team else None),
        decision_rows(municipality.id, case_id, decisions, now), created, municipality.slug, today.year,
        finishing or status)
    if finishing is None:
        return case, [created]
    # The platform takes the finishing step itself.
    finished = session.scalars(select(Case).where(Case.tenant_id == case.tenant_id, Case.id == case.id)).one()
    steps: list[CaseStep | Step] = [created, _move(session, finished, finishing, SYSTEM, "system")]
    if code == "certificate" and finished.status == "issued":
        _issue_certificate(session, storage, municipality, finished, today)
    session.flush()
    return finished, steps


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
                       today: date) -> None:
    """The certificate row and its PDF, which the citizen downloads among the case's documents."""
    certificate = Certificate(tenant_id=municipality.id, case_id=case.id, kind=str(case.form["kind"]),
                              verification_code=_verification_code())
    session.add(certificate)
    holder = session.get(User, case.citizen_id)
    filename, content = certificate_texts.document(certificate_texts.Issued(
        kind=certificate.kind, language=str(case.form.get("language", "nl")), municipality=municipality.name,
        holder=holder.display_name if holder else "", reference=case.reference, issued_on=today,
        purpose=case.form.get("purpose"), verification_code=certificate.verification_code,
        verify_url=f"{municipality.api_url}/certificates/{certificate.verification_code}"))
    pdf = _store_document(session, storage, case, filename, "application/pdf", content, SYSTEM, from_citizen=False)
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
SIGNATURES = {"application/pdf": b"%PDF-", "image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


def attach_document(session: Session, storage: Storage, case: Case, filename: str, content: bytes,
                    author: str, from_citizen: bool, max_bytes: int) -> CaseDocument:
    kind = next((name for name, magic in SIGNATURES.items() if content.startswith(magic)), None)
    if kind is None:
        raise InvalidInput({"file": ["A PDF, PNG or JPEG file."]})
    if not content or len(content) > max_bytes:
        raise InvalidInput({"file": [f"At most {max_bytes} bytes."]})
    safe_name = re.sub(r"[^A-Za-z0-9._ -]", "_", filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])[:200] or "document"
    return _store_document(session, storage, case, safe_name, kind, content, author, from_citizen)


def _store_document(session: Session, storage: Storage, case: Case, filename: str, kind: str, content: bytes,
                    author: str, from_citizen: bool) -> CaseDocument:
    document = CaseDocument(tenant_id=case.tenant_id, case_id=case.id, filename=filename, content_type=kind,
                            size=len(content), sha256=hashlib.sha256(content).hexdigest(), storage_key="",
                            uploaded_by=author, from_citizen=from_citizen)
    document.id = new_id()
    document.storage_key = f"documents/{case.tenant_id}/{case.id}/{document.id}"
    storage.put(document.storage_key, content)  # before the row: a row never points at missing bytes
    session.add(document)
    session.flush()
    _event(session, case.tenant_id, "document-added", case, {"document": str(document.id), "sha256": document.sha256})
    return document


DUPLICATE_RADIUS_METRES = 50.0


def _distance_metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine): plenty precise over a few hundred metres."""
    lat1, long1, lat2, long2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((long2 - long1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def _possible_duplicate(session: Session, tenant_id: uuid.UUID, service: str, form: Mapping[str, Any],
                        terminal: frozenset[str]) -> str | None:
    """An open report of the same category within DUPLICATE_RADIUS_METRES, the most recent first."""
    if "lat" not in form or "long" not in form:
        return None
    here = (float(form["lat"]), float(form["long"]))
    candidates = session.scalars(
        select(Case)
        .where(Case.tenant_id == tenant_id, Case.service == service, Case.status.not_in(sorted(terminal)))
        .order_by(Case.id.desc())
        .limit(500)  # recent open reports; enough for a municipality's streets, bounded for the database
    )
    for other in candidates:
        lat, long = other.form.get("lat"), other.form.get("long")
        if other.form.get("category") != form.get("category") or lat is None or long is None:
            continue
        if _distance_metres(here, (float(lat), float(long))) <= DUPLICATE_RADIUS_METRES:
            return other.reference
    return None


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
    if assignee is not None:
        access = access_in_tenant(session, assignee.id, case.tenant_id)
        if CASE_WORKER not in access.roles and not ({case.service, ALL_SERVICES} & access.delegated_services):
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
