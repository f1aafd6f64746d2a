"""GET /t/<tenant>/v1/me: the token's principal, scopes and roles here (any valid token for this
municipality). Integrators use it to check what their token may do before they call anything else."""

from authlib.integrations.flask_oauth2 import current_token
from flask import Response, g, jsonify

from api.oauth.protect import requires
from api.tenant_api import tenant_api


@tenant_api.get("/me")
@requires("")
def who_am_i() -> Response:
    return jsonify(
        tenant=g.tenant.slug,
        principal_type=current_token.get("principal_type"),
        sub=current_token["sub"],
        client_id=current_token["client_id"],
        scopes=sorted((current_token.get("scope") or "").split()),
        roles=current_token.get("roles", []),
        expires_at=current_token["exp"],
    )
