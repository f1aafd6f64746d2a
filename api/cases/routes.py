"""/t/<tenant>/v1/cases: open a case, list and read the cases one may see, move a case along its
workflow. Who may see what is the caller's `Viewer`, one SQL predicate (`townhall.auth.principal`)."""

import base64
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, jsonify, request, url_for
from werkzeug.exceptions import UnsupportedMediaType

from api.access import public
from api.database import session
from api.errors import http_error
from api.http import bad_parameter, id_cursor, json_body, page_params, paged, require_if_match, version_etag, versioned
from api.idempotent_requests import idempotent
from api.oauth.protect import requires
from api.platform.routes import platform_api
from api.principal import person_id, principal
from api.tenant_api import current_municipality, tenant_api, tenant_api_url
from tenants.queries import slugs_by_id
from townhall.audit.writes import note_read
from townhall.auth.principal import Viewer
from townhall.auth.queries import team_by_slug, user_by_email
from townhall.auth.scopes import CASE_WORKER, CITIZEN
from townhall.cases.cards import CaseCard, Step, card_of
from townhall.cases.models import Case, CaseDocument, CaseMessage
from townhall.cases.operations import (
    add_message,
    assign_case,
    attach_document,
    move_case,
    open_case,
)
from townhall.cases.queries import (
    NOBODY,
    QueueFilter,
    case_with_timeline,
    cases_page,
    certificate_by_code,
    certificate_of_case,
    delegated_cases,
    document,
    documents,
    messages,
    own_cases_everywhere,
    timeline,
    visible_case,
)
from townhall.cases.schemas import AssignmentInput, CaseInput, MessageInput, TransitionInput
from townhall.errors import Forbidden, InvalidInput, NotFound
from townhall.rules.queries import decisions_of
from townhall.services.registry import SERVICE_TYPES, service_type
from townhall.tenancy import person_scope

BACK_OFFICE_TIME_ZONE = "Europe/Brussels"  # "overdue" across municipalities: the consortium's day


def _viewer() -> tuple[Viewer, str]:
    """What the caller may see, and the workflow role it acts in (both decided by the principal)."""
    caller = principal()
    return caller.viewer, caller.role


def _view(case: CaseCard, role: str, detail: bool = False, steps: Sequence[Step] | None = None) -> dict[str, Any]:
    note_read(session(), case.tenant_id, case.citizen_id)  # staff's and partners' reads are audited
    service = SERVICE_TYPES[case.service]
    body: dict[str, Any] = {
        "id": str(case.id), "reference": case.reference, "service": case.service, "status": case.status,
        "due_date": case.due_on.isoformat(), "fee": {"amount_cents": case.fee_cents, "currency": "EUR"},
        "citizen_id": str(case.citizen_id), "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "next_states": service.workflow.next_states(case.status, role),
        "possible_duplicate_of": case.possible_duplicate_of,
    }
    if role != CITIZEN:  # how the municipality organises its work is its own business
        body["assignee"] = case.assignee_email
        body["team"] = case.team_slug
    if detail:
        body["form"] = case.form
        certificate = certificate_of_case(session(), case.tenant_id, case.id) if service.issues else None
        if certificate is not None:
            body["certificate"] = {"kind": certificate.kind, "verification_code": certificate.verification_code,
                                   "verify_url": f"{tenant_api_url()}/certificates/{certificate.verification_code}",
                                   "document": url_for("tenant_api.download_document", case_id=case.id,
                                                       document_id=certificate.document_id)}
        body["timeline"] = [
            {"at": step.at.isoformat(), "actor": step.actor, "kind": step.kind, "from": step.from_status,
             "to": step.to_status, "note": step.note, "visible_to_citizen": step.visible_to_citizen}
            for step in (timeline(session(), case.tenant_id, case.id, for_citizen=role == CITIZEN)
                         if steps is None else steps)
        ]
    return body


def _one(case: CaseCard, role: str, status: int = 200, steps: Sequence[Step] | None = None) -> Response:
    return versioned(_view(case, role, detail=True, steps=steps), case.version, status)


def _find(case_id: uuid.UUID, viewer: Viewer) -> Case:
    case = visible_case(session(), g.tenant.id, viewer, case_id)
    if case is None:
        raise NotFound("No such case for you here.")  # never tells whether it exists elsewhere
    note_read(session(), case.tenant_id, case.citizen_id)
    return case


@tenant_api.post("/cases")
@requires("cases:write")
def create_case() -> Response:
    return idempotent(_create_case)


def _create_case() -> Response:
    viewer, role = _viewer()
    data = json_body(CaseInput)
    if viewer.citizen_id is not None:
        if "citizen" in data:
            raise InvalidInput({"citizen": ["You apply for yourself; leave this out."]})
        citizen: uuid.UUID | str = viewer.citizen_id
    else:
        if "citizen" not in data:
            raise InvalidInput({"citizen": ["Whom is this case for? Their e-mail address."]})
        if not viewer.may_handle(data["service"]):
            raise Forbidden("This service is not delegated to your team here.")
        citizen = data["citizen"]  # looked up with the rest of what opening the case reads
    today = datetime.now(ZoneInfo(g.tenant.time_zone)).date()
    languages = [*request.accept_languages.values(), g.tenant.default_language]
    case, steps = open_case(session(), current_app.extensions["townhall.storage"], current_municipality(),
                            data["service"], data["form"], citizen, principal().actor, today, languages)
    response = _one(case, role, 201, steps=[s for s in steps if s.visible_to_citizen or role != CITIZEN])
    response.headers["Location"] = url_for("tenant_api.get_case", case_id=case.id)
    return response


@tenant_api.get("/cases")
@requires("cases:read")
def list_cases() -> Response:
    viewer, role = _viewer()
    limit, after = page_params()
    found = cases_page(session(), g.tenant.id, viewer, after=id_cursor(after), limit=limit + 1,
                       wanted=_queue_filter(role))
    return paged([_view(case, role) for case in found], limit, key="id")


STATUS_FILTER = re.compile(r"[A-Za-z_]{1,40}")  # as the contract says: ASCII, no other letters


def _queue_filter(role: str, time_zone: str | None = None) -> QueueFilter:
    """status, service, assignee (an e-mail, `me` or `none`), team (a slug or `none`), overdue."""
    args = request.args
    status, service = args.get("status"), args.get("service")
    if service is not None and service_type(service) is None:
        raise bad_parameter(f"Unknown service '{service[:63]}'.")
    if status is not None and not STATUS_FILTER.fullmatch(status):
        raise bad_parameter("status is a workflow state such as submitted.")
    if role == CITIZEN and ({"assignee", "team"} & set(args)):
        raise bad_parameter("assignee and team are filters for staff.")
    assignee_id: uuid.UUID | str | None = args.get("assignee")
    if assignee_id == "me":
        me = principal().person_id
        if me is None:
            raise bad_parameter("assignee=me needs a person's token; name the person by e-mail.")
        assignee_id = me
    elif assignee_id not in (None, NOBODY):
        person = user_by_email(session(), str(assignee_id)[:320])
        assignee_id = person.id if person else uuid.UUID(int=0)  # nobody by that address: an empty queue
    team_id: uuid.UUID | str | None = args.get("team")
    if team_id not in (None, NOBODY):
        team = team_by_slug(session(), str(team_id)[:63])
        team_id = team.id if team else uuid.UUID(int=0)
    overdue = args.get("overdue")
    if overdue not in (None, "true"):
        raise bad_parameter("overdue takes one value: true.")
    today = datetime.now(ZoneInfo(time_zone or g.tenant.time_zone)).date()
    return QueueFilter(status=status, service=service, assignee_id=assignee_id, team_id=team_id,
                       overdue_on=today if overdue == "true" else None)


@tenant_api.get("/me/cases")
@requires("cases:read")
def my_cases() -> Response:
    """The caller's own cases in this municipality, whatever roles they also hold here."""
    person = person_id()
    limit, after = page_params()
    found = cases_page(session(), g.tenant.id, Viewer(citizen_id=person), after=id_cursor(after), limit=limit + 1,
                       wanted=_queue_filter(CITIZEN))
    return paged([_view(case, CITIZEN) for case in found], limit, key="id")


def _everywhere(found: Sequence[CaseCard], role: str, limit: int) -> Response:
    slugs = slugs_by_id(session(), [case.tenant_id for case in found])
    return paged([_view(case, role) | {"municipality": slugs[case.tenant_id]} for case in found], limit, key="id")


@platform_api.get("/me/cases")
@requires("cases:read")
def my_cases_everywhere() -> Response:
    """The caller's own cases in every municipality of the platform (a platform-API token)."""
    person = person_id()
    limit, after = page_params()
    with person_scope(session(), person):
        found = own_cases_everywhere(session(), person, after=id_cursor(after), limit=limit + 1)
    return _everywhere(found, CITIZEN, limit)


@platform_api.get("/backoffice/cases")
@requires("cases:read")
def backoffice_cases() -> Response:
    """A shared back-office member's queue: exactly the services each municipality delegated to one of
    their teams, across municipalities (a platform-API token)."""
    person = person_id()
    limit, after = page_params()
    wanted = _queue_filter(CASE_WORKER, BACK_OFFICE_TIME_ZONE)
    with person_scope(session(), person):
        found = delegated_cases(session(), person, after=id_cursor(after), limit=limit + 1, wanted=wanted)
    return _everywhere(found, CASE_WORKER, limit)


@tenant_api.get("/cases/<uuid:case_id>")
@requires("cases:read")
def get_case(case_id: uuid.UUID) -> Response:
    viewer, role = _viewer()
    found = case_with_timeline(session(), g.tenant.id, viewer, case_id)
    if found is None:
        raise NotFound("No such case for you here.")  # never tells whether it exists elsewhere
    case, steps = found
    return _one(case, role, steps=steps)


@tenant_api.post("/cases/<uuid:case_id>/transitions")
@requires("cases:write")
def transition_case(case_id: uuid.UUID) -> Response:
    viewer, role = _viewer()
    case = _find(case_id, viewer)
    require_if_match(version_etag(case.version))
    data = json_body(TransitionInput)
    move_case(session(), case, data["to"], role, principal().actor, data.get("note"))
    return _one(card_of(case), role)


@tenant_api.get("/cases/<uuid:case_id>/decisions")
@requires("cases:read")
def case_decisions(case_id: uuid.UUID) -> Response:
    """Staff: what decided the case's eligibility, fee, deadline and routing — a rule version or the
    service's default."""
    viewer, role = _viewer()
    if role == CITIZEN:
        raise Forbidden("Decisions are for the municipality's staff.")
    case = _find(case_id, viewer)
    return jsonify(items=[{"kind": d.kind, "source": d.source, "value": d.result.get("value"),
                           "rule": {"id": str(d.rule_id), "version": d.rule_version} if d.rule_id else None,
                           "at": d.at.isoformat()}
                          for d in decisions_of(session(), case.tenant_id, case.id)], next=None)


@tenant_api.put("/cases/<uuid:case_id>/assignment")
@requires("cases:write")
def assign(case_id: uuid.UUID) -> Response:
    viewer, role = _viewer()
    if role == CITIZEN:
        raise Forbidden("Only the municipality's staff and partners assign cases.")
    case = _find(case_id, viewer)
    require_if_match(version_etag(case.version))
    data = json_body(AssignmentInput)
    assignee = user_by_email(session(), data["assignee"]) if data["assignee"] else None
    team = team_by_slug(session(), data["team"]) if data["team"] else None
    unknown = {**({"assignee": ["No person with this e-mail address."]} if data["assignee"] and not assignee else {}),
               **({"team": ["No team with this name."]} if data["team"] and not team else {})}
    if unknown:
        raise InvalidInput(unknown)
    assign_case(session(), case, assignee, team, principal().actor)
    return _one(card_of(case), role)


@tenant_api.get("/certificates/<string(maxlength=40):code>")
@public
def verify_certificate(code: str) -> Response:
    """Anyone holding a certificate can check that it is genuine; nothing personal is shown."""
    found = certificate_by_code(session(), g.tenant.id, code.strip().upper())
    if found is None:
        raise NotFound("No certificate of this municipality has this verification code.")
    certificate, case = found
    return jsonify(valid=True, municipality=g.tenant.slug, kind=certificate.kind, reference=case.reference,
                   issued_at=certificate.issued_at.isoformat())


def _message_view(message: CaseMessage) -> dict[str, Any]:
    return {"id": str(message.id), "at": message.at.isoformat(), "author": message.author,
            "from_citizen": message.from_citizen, "body": message.body}


@tenant_api.get("/cases/<uuid:case_id>/messages")
@requires("cases:read")
def list_messages(case_id: uuid.UUID) -> Response:
    viewer, _ = _viewer()
    case = _find(case_id, viewer)
    return jsonify(items=[_message_view(m) for m in messages(session(), g.tenant.id, case.id)], next=None)


@tenant_api.post("/cases/<uuid:case_id>/messages")
@requires("cases:write")
def send_message(case_id: uuid.UUID) -> Response:
    viewer, role = _viewer()
    case = _find(case_id, viewer)
    message = add_message(session(), case, principal().actor, role == CITIZEN, json_body(MessageInput)["body"])
    response = jsonify(_message_view(message))
    response.status_code = 201
    return response


def _document_view(document: CaseDocument) -> dict[str, Any]:
    return {"id": str(document.id), "filename": document.filename, "content_type": document.content_type,
            "size": document.size, "sha256": document.sha256, "uploaded_by": document.uploaded_by,
            "from_citizen": document.from_citizen, "at": document.at.isoformat()}


@tenant_api.post("/cases/<uuid:case_id>/documents")
@requires("cases:write")
def upload_document(case_id: uuid.UUID) -> Response:
    viewer, role = _viewer()
    case = _find(case_id, viewer)
    if request.mimetype != "multipart/form-data":
        raise http_error(UnsupportedMediaType, "Upload the file as multipart/form-data (field `file`).",
                         "unsupported_media_type")
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput({"file": ["Missing."]})
    settings = current_app.config["TOWNHALL_SETTINGS"]
    document = attach_document(session(), current_app.extensions["townhall.storage"], case, upload.filename or "",
                               upload.read(settings.max_document_bytes + 1), principal().actor, role == CITIZEN,
                               settings.max_document_bytes)
    response = jsonify(_document_view(document))
    response.status_code = 201
    response.headers["Location"] = url_for("tenant_api.download_document", case_id=case.id, document_id=document.id)
    return response


@tenant_api.get("/cases/<uuid:case_id>/documents")
@requires("cases:read")
def list_documents(case_id: uuid.UUID) -> Response:
    viewer, _ = _viewer()
    case = _find(case_id, viewer)
    return jsonify(items=[_document_view(d) for d in documents(session(), g.tenant.id, case.id)], next=None)


@tenant_api.get("/cases/<uuid:case_id>/documents/<uuid:document_id>")
@requires("cases:read")
def download_document(case_id: uuid.UUID, document_id: uuid.UUID) -> Response:
    viewer, _ = _viewer()
    case = _find(case_id, viewer)
    found = document(session(), g.tenant.id, case.id, document_id)
    if found is None:
        raise NotFound("No such document on this case.")
    content = current_app.extensions["townhall.storage"].get(found.storage_key)
    response = Response(content, mimetype=found.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{found.filename}"'
    response.headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(found.sha256)).decode()}:"  # RFC 9530
    return response
