"""The work queue and a case's page: filters, assignment and the steps of its workflow, through the
same kernel operations and the same `Viewer` as the cases API."""

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, g, request, url_for

from api.console.routes import console, refused
from api.console.web import console_page, page, person_id, see_other, text
from api.database import session
from api.principal import principal
from townhall.audit.writes import note_read
from townhall.cases.models import Case
from townhall.cases.operations import assign_case, move_case
from townhall.cases.queries import NOBODY, QueueFilter, case_with_timeline, cases_page, visible_case
from townhall.errors import NotFound, StaleVersion, TownhallError
from townhall.services.queries import catalogue
from townhall.services.registry import SERVICE_TYPES

PAGE_SIZE = 25
STATUSES = sorted({state for service in SERVICE_TYPES.values() for state in service.workflow.states})
"""Every workflow state of the platform's services: the queue's status filter."""


def _filter() -> tuple[QueueFilter, dict[str, str]]:
    """The queue's filters as the form sent them; anything unknown is no filter (never an error page)."""
    args = request.args
    chosen = {name: args.get(name, "") for name in ("status", "service", "assignee", "overdue")}
    service = chosen["service"] if chosen["service"] in SERVICE_TYPES else None
    status = chosen["status"] if chosen["status"] in STATUSES else None
    assignee: uuid.UUID | str | None = {"me": person_id(), "none": NOBODY}.get(chosen["assignee"])  # type: ignore[assignment]
    today = datetime.now(ZoneInfo(g.tenant.time_zone)).date()
    return QueueFilter(status=status, service=service, assignee_id=assignee,
                       overdue_on=today if chosen["overdue"] == "true" else None), chosen


def _after() -> uuid.UUID | None:
    try:
        return uuid.UUID(request.args.get("after", ""))
    except ValueError:
        return None


@console.get("/cases")
@console_page("cases:read")
def queue() -> Response:
    wanted, chosen = _filter()
    found = cases_page(session(), g.tenant.id, principal().viewer, after=_after(), limit=PAGE_SIZE + 1, wanted=wanted)
    more = len(found) > PAGE_SIZE
    for shown in found[:PAGE_SIZE]:  # a case worker's reads of people's cases are audited, as over the API
        note_read(session(), shown.tenant_id, shown.citizen_id)
    args: dict[str, Any] = {key: value for key, value in chosen.items() if value}
    return page("queue.html", section="queue", cases=found[:PAGE_SIZE], chosen=chosen,
                services=[entry.service for entry in catalogue(session(), g.tenant.id, offered_only=False)],
                statuses=STATUSES,
                next_url=url_for("console.queue", after=found[PAGE_SIZE - 1].id, **args) if more else None)


def _case(case_id: uuid.UUID) -> Case:
    case = visible_case(session(), g.tenant.id, principal().viewer, case_id)
    if case is None:
        raise NotFound("No such case for you here.")
    return case


def _case_page(case_id: uuid.UUID, errors: dict[str, list[str]] | None = None, status: int = 200) -> Response:
    found = case_with_timeline(session(), g.tenant.id, principal().viewer, case_id)
    if found is None:
        raise NotFound("No such case for you here.")
    card, steps = found
    note_read(session(), card.tenant_id, card.citizen_id)
    caller = principal()
    return page("case.html", status=status, section="queue", case=card, steps=steps, errors=errors,
                next_states=SERVICE_TYPES[card.service].workflow.next_states(card.status, caller.role),
                may_write="cases:write" in caller.scopes, me=person_id())


@console.get("/cases/<uuid:case_id>")
@console_page("cases:read")
def case(case_id: uuid.UUID) -> Response:
    return _case_page(case_id)


def _version() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _act(case_id: uuid.UUID, act: Any, done: str) -> Response:
    """One change of the case, at the version the person saw; a refusal is shown on the case's page
    and changes nothing."""
    target = _case(case_id)
    try:
        with session().begin_nested():
            act(target)
    except StaleVersion:
        return _case_page(case_id, {"": [text()["stale"]]}, 409)
    except TownhallError as error:
        return _case_page(case_id, refused(error), 422)
    return see_other(url_for("console.case", case_id=case_id, done=done))


@console.post("/cases/<uuid:case_id>/assignment")
@console_page("cases:write")
def assign(case_id: uuid.UUID) -> Response:
    """Take the case, or give it back to the queue."""
    me = g.console.user if request.form.get("assignee") == "me" else None
    return _act(case_id, lambda case: assign_case(session(), case, me, None, principal().actor,
                                                  expected_version=_version()), "assigned")


@console.post("/cases/<uuid:case_id>/transitions")
@console_page("cases:write")
def move(case_id: uuid.UUID) -> Response:
    target, note = request.form.get("to", "")[:40], request.form.get("note", "").strip()[:2000] or None
    return _act(case_id, lambda case: move_case(session(), case, target, principal().role, principal().actor, note,
                                                expected_version=_version()), "moved")

