"""Members (who holds which role here) and the services this municipality entrusts to shared
back-office teams (give and withdraw), through the same operations as the members and delegations API."""

import uuid

from flask import Response, g, request, url_for

from api.console.routes import console, refused
from api.console.web import console_page, page, see_other
from api.database import session
from api.principal import principal
from townhall.auth.models import User
from townhall.auth.operations import add_membership, delegate, remove_membership, require_user
from townhall.auth.operations import withdraw_delegation as withdraw
from townhall.auth.queries import delegations_of_tenant, memberships_of_tenant, team_by_slug, teams
from townhall.auth.schemas import MemberInput
from townhall.auth.scopes import ALL_SERVICES, TENANT_ROLES
from townhall.errors import InvalidInput, NotFound, TownhallError
from townhall.services.registry import SERVICE_TYPES
from townhall.validation import load

SHOWN = 500  # members on one page: a municipality's staff, not its citizens


def _members_page(status: int = 200, errors: dict[str, list[str]] | None = None, **values: str) -> Response:
    consortium_teams = teams(session())
    names = {team.id: team.name for team in consortium_teams}
    delegated = [(d, names.get(d.team_id, str(d.team_id))) for d in delegations_of_tenant(session(), g.tenant.id)]
    return page("members.html", status=status, section="members", errors=errors, roles=TENANT_ROLES,
                members=memberships_of_tenant(session(), g.tenant.id, limit=SHOWN), delegations=delegated,
                teams=consortium_teams, services=SERVICE_TYPES, typed=values)


@console.get("/members")
@console_page("members:manage")
def members() -> Response:
    return _members_page()


@console.post("/members")
@console_page("members:manage")
def add_member() -> Response:
    typed = {"user": request.form.get("user", "").strip()[:320], "role": request.form.get("role", "")}
    try:
        with session().begin_nested():
            data = load(MemberInput, typed)
            add_membership(session(), g.tenant.id, require_user(session(), data["user"]), data["role"],
                           actor=principal().actor)
    except TownhallError as error:
        return _members_page(422, refused(error), **typed)
    return see_other(url_for("console.members", done="saved"))


@console.post("/members/<uuid:user_id>/<any(tenant_admin, case_worker):role>/removal")
@console_page("members:manage")
def remove_member(user_id: uuid.UUID, role: str) -> Response:
    user = session().get(User, user_id)
    if user is None:
        raise NotFound("No such member here.")
    try:
        with session().begin_nested():
            remove_membership(session(), g.tenant.id, user, role, actor=principal().actor)
    except TownhallError as error:
        return _members_page(422, refused(error))
    return see_other(url_for("console.members", done="saved"))


@console.post("/delegations")
@console_page("members:manage")
def add_delegation() -> Response:
    """This municipality entrusts a service (or every one) to a shared back-office team."""
    team = team_by_slug(session(), request.form.get("team", "")[:63])
    service = request.form.get("service", "")[:63]
    try:
        if team is None:
            raise InvalidInput({"delegation": ["No such team in this consortium."]})
        if service != ALL_SERVICES and service not in SERVICE_TYPES:
            raise InvalidInput({"delegation": ["The platform offers no such service."]})
        with session().begin_nested():
            delegate(session(), g.tenant.id, team, service, principal().actor)
    except TownhallError as error:
        return _members_page(422, {"delegation": [m for messages in refused(error).values() for m in messages]})
    return see_other(url_for("console.members", done="saved"))


@console.post("/delegations/<uuid:delegation_id>/withdrawal")
@console_page("members:manage")
def withdraw_delegation(delegation_id: uuid.UUID) -> Response:
    withdraw(session(), g.tenant.id, delegation_id, actor=principal().actor)
    return see_other(url_for("console.members", done="saved"))
