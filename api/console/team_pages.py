"""/console/teams: the consortium's shared back-office teams, who is in them, and what each
municipality delegates to them; the same operations as `/v1/teams` and `/v1/tenants/{slug}/delegations`."""

import uuid
from typing import Any

from flask import Response, request, url_for

from api.console.consortium_pages import consortium, operator_page
from api.console.routes import refused
from api.console.web import page, see_other, signed_in
from api.database import session
from tenants.queries import all_tenants, require_tenant
from townhall.auth.models import Team
from townhall.auth.operations import add_team_member, create_team, delegate, require_user, withdraw_delegation
from townhall.auth.queries import delegations_of_tenant, team_by_slug, team_members, teams
from townhall.auth.schemas import TeamInput
from townhall.auth.scopes import ALL_SERVICES
from townhall.errors import NotFound, TownhallError
from townhall.services.registry import SERVICE_TYPES
from townhall.tenancy import tenant_scope
from townhall.validation import load

SHOWN = 100  # municipalities whose delegations the page lists


def _messages(error: TownhallError) -> list[str]:
    """Every message of a refusal, shown at the one small form it came from."""
    return [message for messages in refused(error).values() for message in messages]


def _actor() -> str:
    return f"user:{signed_in().user.id}"


def _teams_page(status: int = 200, errors: dict[str, list[str]] | None = None, **typed: Any) -> Response:
    municipalities = list(all_tenants(session(), limit=SHOWN))
    delegated: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for tenant in municipalities:
        with tenant_scope(session(), tenant.id):
            for delegation in delegations_of_tenant(session(), tenant.id):
                delegated.setdefault(delegation.team_id, []).append({"tenant": tenant, "delegation": delegation})
    found = [{"team": team, "members": team_members(session(), team.id), "delegated": delegated.get(team.id, [])}
             for team in teams(session())]
    return page("teams.html", status=status, section="teams", teams=found, municipalities=municipalities,
                services=SERVICE_TYPES, all_services=ALL_SERVICES, errors=errors, typed=typed)


def _team(slug: str) -> Team:
    team = team_by_slug(session(), slug[:63])
    if team is None:
        raise NotFound("No such team.")
    return team


@consortium.get("/teams")
@operator_page
def team_list() -> Response:
    return _teams_page()


@consortium.post("/teams")
@operator_page
def new_team() -> Response:
    typed = {"slug": request.form.get("slug", "").strip().lower()[:63], "name": request.form.get("name", "").strip()}
    try:
        with session().begin_nested():
            values = load(TeamInput, typed)
            create_team(session(), values["slug"], values["name"])
    except TownhallError as error:
        return _teams_page(422, refused(error), **typed)
    return see_other(url_for("consortium.team_list", done="saved"))


@consortium.post("/teams/<slug:slug>/members")
@operator_page
def new_team_member(slug: str) -> Response:
    team = _team(slug)
    email = request.form.get("email", "").strip()[:320]
    try:
        with session().begin_nested():
            add_team_member(session(), team, require_user(session(), email))
    except TownhallError as error:
        return _teams_page(422, {f"{team.slug}.email": _messages(error)})
    return see_other(url_for("consortium.team_list", done="saved"))


@consortium.post("/teams/<slug:slug>/delegations")
@operator_page
def new_delegation(slug: str) -> Response:
    """A municipality lets the team handle one of its services (or all of them)."""
    team = _team(slug)
    tenant = require_tenant(session(), request.form.get("tenant", "")[:63])
    service = request.form.get("service", "")[:63]
    try:
        with session().begin_nested(), tenant_scope(session(), tenant.id):
            if service != ALL_SERVICES and service not in SERVICE_TYPES:
                raise NotFound("The platform offers no such service.")
            delegate(session(), tenant.id, team, service, _actor())
    except TownhallError as error:
        return _teams_page(422, {f"{team.slug}.delegation": _messages(error)})
    return see_other(url_for("consortium.team_list", done="saved"))


@consortium.post("/delegations/<slug:tenant>/<uuid:delegation_id>/withdraw")
@operator_page
def end_delegation(tenant: str, delegation_id: uuid.UUID) -> Response:
    municipality = require_tenant(session(), tenant)
    with tenant_scope(session(), municipality.id):
        withdraw_delegation(session(), municipality.id, delegation_id, actor=_actor())
    return see_other(url_for("consortium.team_list", done="saved"))
