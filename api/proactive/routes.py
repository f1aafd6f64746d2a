"""/t/<tenant>/v1/events: life events from source registers (`events:write`); /t/<tenant>/v1/me/…:
what the municipality did on its own initiative for the signed-in citizen, and their preferences."""

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, jsonify, request, url_for

from api.database import session
from api.http import json_body, json_object
from api.oauth.protect import requires
from api.principal import person_id
from api.tenant_api import current_municipality, tenant_api
from townhall.proactive.models import ProactiveAction
from townhall.proactive.operations import accept_offer, decline_offer, receive_event, set_preferences
from townhall.proactive.queries import actions_for, opted_out
from townhall.proactive.schemas import AcceptInput
from townhall.rules.schemas import ACTIONS


def _today() -> Any:
    return datetime.now(ZoneInfo(g.tenant.time_zone)).date()


@tenant_api.post("/events")
@requires("events:write")
def post_event() -> Response:
    """A CloudEvents life event; the same id again answers the first outcome (200) and acts no more."""
    storage = current_app.extensions["townhall.storage"]
    event, new = receive_event(session(), current_municipality(), storage, json_object(), _today())
    response = jsonify(id=event.event_id, type=event.type, received_at=event.received_at.isoformat(),
                       duplicate=not new, outcome=event.outcome)
    response.status_code = 202 if new else 200
    return response


def _action_view(action: ProactiveAction) -> dict[str, Any]:
    body: dict[str, Any] = {"id": str(action.id), "action": action.action, "status": action.status,
                            "service": action.service, "message": action.message or None,
                            "case": str(action.case_id) if action.case_id else None,
                            "rule": {"id": str(action.rule_id), "version": action.rule_version},
                            "created_at": action.created_at.isoformat()}
    if action.action == "offer":
        body["form"] = action.form
        if action.status == "offered":
            body["accept"] = url_for("tenant_api.accept", action_id=action.id)
            body["decline"] = url_for("tenant_api.decline", action_id=action.id)
    return body


@tenant_api.get("/me/proactive")
@requires("cases:read")
def my_proactive() -> Response:
    """Messages, offers and cases the municipality started for you, with the rule behind each."""
    return jsonify(items=[_action_view(a) for a in actions_for(session(), g.tenant.id, person_id())], next=None)


@tenant_api.post("/me/proactive/<uuid:action_id>/accept")
@requires("cases:write")
def accept(action_id: uuid.UUID) -> Response:
    """Confirm an offer: the pre-filled case is opened for you (a body may complete its form)."""
    languages = [*request.accept_languages.values(), g.tenant.default_language]
    completed = json_body(AcceptInput)["form"] if request.content_length or request.mimetype else {}
    action = accept_offer(session(), current_municipality(), current_app.extensions["townhall.storage"], action_id,
                          person_id(), _today(), languages, completed)
    response = jsonify(_action_view(action))
    response.status_code = 201
    response.headers["Location"] = url_for("tenant_api.get_case", case_id=action.case_id)
    return response


@tenant_api.post("/me/proactive/<uuid:action_id>/decline")
@requires("cases:write")
def decline(action_id: uuid.UUID) -> Response:
    """Say no, thank you, to an offer: it is closed and opens nothing."""
    return jsonify(_action_view(decline_offer(session(), g.tenant.id, action_id, person_id())))


def _preferences(out: list[str]) -> Response:
    return jsonify({kind: kind not in out for kind in ACTIONS})


@tenant_api.get("/me/proactive-preferences")
@requires("cases:read")
def get_preferences() -> Response:
    return _preferences(opted_out(session(), g.tenant.id, person_id()))


@tenant_api.put("/me/proactive-preferences")
@requires("cases:write")
def put_preferences() -> Response:
    """Switch kinds of proactive action off (false) or on again (true); left out means on."""
    return _preferences(set_preferences(session(), g.tenant.id, person_id(), json_object()))
