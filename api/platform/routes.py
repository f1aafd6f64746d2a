"""/v1: platform operators (and the platform's own clients) manage municipalities, shared back-office
teams and delegations. Tokens for this API are never a municipality's (`aud` = `{base}/v1`)."""

import uuid
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, url_for

from api.database import session
from api.delegations.routes import delegation_view, new_delegation
from api.http import json_body, json_object, page_params, paged, require_if_match, strong_etag
from api.oauth.protect import requires
from api.principal import principal
from tenants.models import Tenant, TenantStatus
from tenants.operations import create_tenant, set_plan, set_status
from tenants.plans import PLANS
from tenants.queries import all_tenants, require_tenant
from tenants.registry import TenantCache
from tenants.schemas import TenantChange
from townhall.auth.models import Team
from townhall.auth.operations import add_team_member, create_team, require_user, withdraw_delegation
from townhall.auth.queries import delegations_of_tenant, team_by_slug, teams
from townhall.auth.schemas import TeamInput, TeamMemberInput
from townhall.errors import NotFound
from townhall.tenancy import tenant_scope

platform_api = Blueprint("platform_api", __name__, url_prefix="/v1")


def _actor() -> str:
    """Platform changes are recorded under the client that made them (operators' automation)."""
    return f"client:{principal().client_id}"


def _tenant_view(tenant: Tenant) -> dict[str, Any]:
    return {"slug": tenant.slug, "nis_code": tenant.nis_code, "names": tenant.names, "status": tenant.status.value,
            "default_language": tenant.default_language, "languages": tenant.languages,
            "time_zone": tenant.time_zone, "plan": tenant.plan, "created_at": tenant.created_at.isoformat()}


def _tenant_etag(tenant: Tenant) -> str:
    return strong_etag(f"{tenant.status.value}|{tenant.plan}|{tenant.updated_at.isoformat()}".encode())


def _one(body: dict[str, Any], status: int = 200, etag: str | None = None, location: str | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    if etag:
        response.headers["ETag"] = etag
    if location:
        response.headers["Location"] = location
    return response


@platform_api.get("/tenants")
@requires("platform:manage")
def list_tenants() -> Response:
    limit, after = page_params()
    return paged([_tenant_view(t) for t in all_tenants(session(), after=after, limit=limit + 1)], limit, key="slug")


@platform_api.post("/tenants")
@requires("platform:manage")
def register_tenant() -> Response:
    tenant = create_tenant(session(), json_object(), _actor())
    return _one(_tenant_view(tenant), 201, _tenant_etag(tenant), url_for("platform_api.get_tenant", slug=tenant.slug))


@platform_api.get("/tenants/<slug:slug>")
@requires("platform:manage")
def get_tenant(slug: str) -> Response:
    tenant = require_tenant(session(), slug)
    return _one(_tenant_view(tenant), etag=_tenant_etag(tenant))


@platform_api.patch("/tenants/<slug:slug>")
@requires("platform:manage")
def change_tenant(slug: str) -> Response:
    tenant = require_tenant(session(), slug)
    require_if_match(_tenant_etag(tenant))
    wanted = json_body(TenantChange)
    if "status" in wanted:
        set_status(session(), tenant, TenantStatus(wanted["status"]), _actor())
    if "plan" in wanted:
        set_plan(session(), tenant, wanted["plan"], _actor())
    cache: TenantCache = current_app.extensions["townhall.tenant_cache"]
    cache.forget(slug)  # this process at once; the others when the announced change commits
    return _one(_tenant_view(tenant), etag=_tenant_etag(tenant))


@platform_api.get("/plans")
@requires("platform:manage")
def list_plans() -> Response:
    """The plans a municipality can be put on, with the traffic each allows."""
    return jsonify(items=[{"code": plan.code, "names": plan.names,
                           "client_requests_per_minute": plan.client_requests_per_minute,
                           "person_requests_per_minute": plan.person_requests_per_minute}
                          for plan in PLANS.values()], next=None)


def _team_view(team: Team) -> dict[str, Any]:
    return {"slug": team.slug, "name": team.name, "created_at": team.created_at.isoformat()}


def _require_team(slug: str) -> Team:
    team = team_by_slug(session(), slug)
    if team is None:
        raise NotFound(f"No team '{slug}'.")
    return team


@platform_api.get("/teams")
@requires("platform:manage")
def list_teams() -> Response:
    return jsonify(items=[_team_view(t) for t in teams(session())], next=None)


@platform_api.post("/teams")
@requires("platform:manage")
def register_team() -> Response:
    data = json_body(TeamInput)
    return _one(_team_view(create_team(session(), data["slug"], data["name"])), 201)


@platform_api.post("/teams/<slug:slug>/members")
@requires("platform:manage")
def add_to_team(slug: str) -> Response:
    team = _require_team(slug)
    user = require_user(session(), json_body(TeamMemberInput)["user"])
    add_team_member(session(), team, user)
    return _one({"team": team.slug, "user_id": str(user.id), "email": user.email}, 201)


@platform_api.get("/tenants/<slug:slug>/delegations")
@requires("platform:manage")
def list_delegations(slug: str) -> Response:
    tenant = require_tenant(session(), slug)
    with tenant_scope(session(), tenant.id):
        found = [delegation_view(d) for d in delegations_of_tenant(session(), tenant.id)]
    return jsonify(items=found, next=None)


@platform_api.post("/tenants/<slug:slug>/delegations")
@requires("platform:manage")
def add_delegation(slug: str) -> Response:
    tenant = require_tenant(session(), slug)
    with tenant_scope(session(), tenant.id):
        body = delegation_view(new_delegation(tenant.id, _actor()))
    return _one(body, 201)


@platform_api.delete("/tenants/<slug:slug>/delegations/<uuid:delegation_id>")
@requires("platform:manage")
def remove_delegation(slug: str, delegation_id: uuid.UUID) -> Response:
    tenant = require_tenant(session(), slug)
    with tenant_scope(session(), tenant.id):
        withdraw_delegation(session(), tenant.id, delegation_id, actor=_actor())
    return Response(status=204)
