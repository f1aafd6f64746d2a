"""OAuth 2.0 endpoints and the published metadata. Errors here follow RFC 6749 (`error`,
`error_description`), the format OAuth clients expect, not problem+json."""

from collections.abc import Callable
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import rfc9207
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from flask import Blueprint, Response, current_app, jsonify

from api.access import public
from api.database import session
from api.oauth.keyring import Keyring
from townhall.auth.scopes import ALL_SCOPES

oauth = Blueprint("oauth", __name__)


def _server() -> AuthorizationServer:
    server: AuthorizationServer = current_app.extensions["townhall.oauth"]
    return server


def _answer(make: Callable[[], Response]) -> Response:
    """An OAuth endpoint's answer, never cached; unprintable input (which Authlib refuses to echo in
    an error description) is an `invalid_request`, not a crash."""
    try:
        response = make()
    except ValueError:
        response = jsonify(error="invalid_request", error_description="The request is malformed.")
        response.status_code = 400
    response.headers["Cache-Control"] = "no-store"
    return response


def metadata(base_url: str) -> dict[str, Any]:
    return {
        "issuer": base_url,
        "authorization_endpoint": f"{base_url}/oauth/authorize",
        "token_endpoint": f"{base_url}/oauth/token",
        "revocation_endpoint": f"{base_url}/oauth/revoke",
        "introspection_endpoint": f"{base_url}/oauth/introspect",
        "jwks_uri": f"{base_url}/.well-known/jwks.json",
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],  # any other response_mode is refused (grants.py)
        "authorization_response_iss_parameter_supported": True,  # RFC 9207, errors included
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "ui_locales_supported": ["nl", "fr", "de", "en"],
        "scopes_supported": sorted(ALL_SCOPES),
        "code_challenge_methods_supported": ["S256"],
    }


@oauth.post("/oauth/token")
@public  # clients authenticate with their own credentials, checked by the grant
def token() -> Response:
    return _answer(lambda: _server().create_token_response())


@oauth.post("/oauth/revoke")
@public  # clients authenticate with their own credentials
def revoke() -> Response:
    return _answer(lambda: _server().create_endpoint_response("revocation"))


@oauth.post("/oauth/introspect")
@public  # confidential clients authenticate with their own credentials
def introspect() -> Response:
    return _answer(lambda: _server().create_endpoint_response("introspection"))


@oauth.get("/.well-known/oauth-authorization-server")
@public
def server_metadata() -> Response:
    document = metadata(current_app.config["TOWNHALL_SETTINGS"].base_url)
    AuthorizationServerMetadata(document).validate(metadata_classes=[rfc9207.AuthorizationServerMetadata])
    response = jsonify(document)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@oauth.get("/.well-known/jwks.json")
@public
def jwks() -> Response:
    keyring: Keyring = current_app.extensions["townhall.keyring"]
    response = jsonify(keyring.public_keys(session()).as_dict(private=False))
    # Verifiers may cache it: a new key is published before it signs (see `townhall keys rotate`).
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
