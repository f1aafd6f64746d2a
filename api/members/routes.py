"""/t/<tenant>/v1/members: tenant admins give and take roles in their municipality (`members:manage`)."""

import uuid
from typing import Any

from flask import Response, current_app, g, jsonify, url_for
from werkzeug.exceptions import BadRequest

from api.database import session
from api.errors import http_error
from api.http import json_body, page_params, paged, patched, strong_etag
from api.oauth.protect import requires
from api.principal import principal
from api.tenant_api import tenant_api
from townhall.auth.models import Membership, User
from townhall.auth.operations import add_membership, remove_membership, require_user, roles_of, set_roles
from townhall.auth.queries import memberships_of_tenant
from townhall.auth.schemas import MemberInput, MemberRoles
from townhall.errors import NotFound
from townhall.validation import load


def _view(membership: Membership, user: User) -> dict[str, Any]:
    return {"user_id": str(user.id), "email": user.email, "display_name": user.display_name,
            "role": membership.role, "created_at": membership.created_at.isoformat(),
            "cursor_key": f"{user.email_key}\n{membership.role}"}


@tenant_api.get("/members")
@requires("members:manage")
def list_members() -> Response:
    limit, after = page_params()
    position: tuple[str, str] | None = None
    if after is not None:
        email, separator, role = after.partition("\n")
        if not separator:
            raise http_error(BadRequest, "cursor is not one this API gave out.", "invalid_parameter")
        position = (email, role)
    rows = memberships_of_tenant(session(), g.tenant.id, after=position, limit=limit + 1)
    return paged([_view(m, u) for m, u in rows], limit, key="cursor_key", hide=("cursor_key",))


@tenant_api.post("/members")
@requires("members:manage")
def add_member() -> Response:
    data = json_body(MemberInput)
    user = require_user(session(), data["user"])
    membership = add_membership(session(), g.tenant.id, user, data["role"], actor=principal().actor)
    body = _view(membership, user)
    body.pop("cursor_key")
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = url_for("tenant_api.remove_member", user_id=user.id, role=membership.role)
    return response


@tenant_api.delete("/members/<uuid:user_id>/roles/<any(tenant_admin, case_worker):role>")
@requires("members:manage")
def remove_member(user_id: uuid.UUID, role: str) -> Response:
    user = session().get(User, user_id)
    if user is None:
        raise NotFound("No such member here.")
    remove_membership(session(), g.tenant.id, user, role, actor=principal().actor)
    return Response(status=204)



def _member_here(user_id: uuid.UUID) -> tuple[User, list[str]]:
    """The person and their roles here; 404 unless they have one."""
    user = session().get(User, user_id)
    roles = roles_of(session(), g.tenant.id, user) if user is not None else []
    if user is None or not roles:
        raise NotFound("No such member here.")
    return user, roles


def _member(user: User, roles: list[str]) -> Response:
    """One person's roles here; the ETag is their content (roles are rows, not a versioned row)."""
    body = {"user_id": str(user.id), "email": user.email, "display_name": user.display_name, "roles": roles}
    text = current_app.json.dumps(body)
    return Response(text, 200, {"ETag": strong_etag(text.encode())}, mimetype="application/json")


@tenant_api.get("/members/<uuid:user_id>")
@requires("members:manage")
def get_member(user_id: uuid.UUID) -> Response:
    return _member(*_member_here(user_id))


@tenant_api.patch("/members/<uuid:user_id>")
@requires("members:manage")
def change_member(user_id: uuid.UUID) -> Response:
    """JSON Merge Patch of `roles` with If-Match: exactly the roles named; [] removes the person."""
    user, roles = _member_here(user_id)
    values = load(MemberRoles, patched({"roles": roles}, _member(user, roles).headers["ETag"]))
    return _member(user, set_roles(session(), g.tenant.id, user, values["roles"], actor=principal().actor))
