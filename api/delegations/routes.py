"""/t/<tenant>/v1/delegations: the services this municipality entrusts to the consortium's shared
back-office teams, set by its own admins (`members:manage`: a delegation gives a team's people case
work here, as a role does). The operator's `/v1/tenants/{slug}/delegations` uses the same operations."""

import uuid
from typing import Any

from flask import Response, g, jsonify, url_for

from api.database import session
from api.http import json_body
from api.oauth.protect import requires
from api.principal import principal
from api.tenant_api import tenant_api
from townhall.auth.models import Delegation, Team
from townhall.auth.operations import delegate, withdraw_delegation
from townhall.auth.queries import delegations_of_tenant, team_by_slug, teams
from townhall.auth.schemas import DelegationInput
from townhall.errors import InvalidInput


def delegation_view(delegation: Delegation, team: Team | None = None) -> dict[str, Any]:
    team = team or session().get(Team, delegation.team_id)
    return {"id": str(delegation.id), "team": team.slug if team else None, "service": delegation.service,
            "created_at": delegation.created_at.isoformat(), "created_by": delegation.created_by}


def new_delegation(tenant_id: uuid.UUID, actor: str) -> Delegation:
    """The request's delegation, made (a team that does not exist is named at `team`)."""
    data = json_body(DelegationInput)
    team = team_by_slug(session(), data["team"])
    if team is None:
        raise InvalidInput({"team": [f"No team '{data['team']}' in this consortium."]})
    return delegate(session(), tenant_id, team, data["service"], actor)


@tenant_api.get("/teams")
@requires("members:manage")
def list_teams_here() -> Response:
    """The consortium's shared back-office teams this municipality may delegate to."""
    return jsonify(items=[{"slug": t.slug, "name": t.name} for t in teams(session())], next=None)


@tenant_api.get("/delegations")
@requires("members:manage")
def list_delegations_here() -> Response:
    return jsonify(items=[delegation_view(d) for d in delegations_of_tenant(session(), g.tenant.id)], next=None)


@tenant_api.post("/delegations")
@requires("members:manage")
def delegate_here() -> Response:
    delegation = new_delegation(g.tenant.id, principal().actor)
    response = jsonify(delegation_view(delegation))
    response.status_code = 201
    response.headers["Location"] = url_for("tenant_api.withdraw_here", delegation_id=delegation.id)
    return response


@tenant_api.delete("/delegations/<uuid:delegation_id>")
@requires("members:manage")
def withdraw_here(delegation_id: uuid.UUID) -> Response:
    withdraw_delegation(session(), g.tenant.id, delegation_id, actor=principal().actor)
    return Response(status=204)
