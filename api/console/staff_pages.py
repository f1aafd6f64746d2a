"""Members (who holds which role here) and the services this municipality delegated to shared
back-office teams, through the same operations as the members API."""

import uuid

from flask import Response, g, request, url_for

from api.console.routes import console, refused
from api.console.web import console_page, page, see_other
from api.database import session
from api.principal import principal
from townhall.auth.models import User
from townhall.auth.operations import add_membership, remove_membership, require_user
from townhall.auth.queries import delegations_of_tenant, memberships_of_tenant, teams
from townhall.auth.schemas import MemberInput
from townhall.auth.scopes import TENANT_ROLES
from townhall.errors import NotFound, TownhallError
from townhall.validation import load

SHOWN = 500  # members on one page: a municipality's staff, not its citizens


def _members_page(status: int = 200, errors: dict[str, list[str]] | None = None, **values: str) -> Response:
    names = {team.id: team.slug for team in teams(session())}
    delegated = [(names.get(d.team_id, str(d.team_id)), d.service)
                 for d in delegations_of_tenant(session(), g.tenant.id)]
    return page("members.html", status=status, section="members", errors=errors, roles=TENANT_ROLES,
                members=memberships_of_tenant(session(), g.tenant.id, limit=SHOWN), delegations=delegated,
                typed=values)


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
