"""The platform's OAuth 2.0 authorization server (Authlib), one per app.

One issuer for the whole consortium; every access token is good for exactly one municipality: its
`aud` is that tenant's API base URL and its `tenant` claim the slug. Authlib's defaults that do not
suit us are overridden here: strict scopes (never a silently smaller token), RFC 8707 `resource`,
our audience and lifetime, hashed client secrets.
"""

import re
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, InvalidScopeError, grants
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from flask import Flask, current_app, request
from joserfc.jwk import KeySet

from api.database import session
from api.oauth.keyring import Keyring
from api.settings import Settings
from api.tenant_api import tenant_cache, use_tenant
from tenants.registry import TenantSnapshot
from tenants.schemas import SLUG_PATTERN
from townhall.auth.models import ClientKind, ClientStatus, OAuthClient
from townhall.auth.passwords import secret_matches
from townhall.auth.queries import client_by_id

_CLIENT_ID = re.compile(f"^({SLUG_PATTERN})\\.[A-Za-z0-9_-]{{8,64}}$")


class InvalidTargetError(OAuth2Error):  # type: ignore[misc]
    """RFC 8707: the requested resource is unknown or not allowed for this client."""

    error = "invalid_target"
    status_code = 400


class Client(ClientMixin):  # type: ignore[misc]
    """Authlib's view of one of our clients, with the tenant it belongs to."""

    def __init__(self, row: OAuthClient, tenant: TenantSnapshot) -> None:
        self.row = row
        self.tenant = tenant

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.row.redirect_uris[0] if self.row.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = self.row.scopes
        if not scope:
            return " ".join(allowed)
        return " ".join(s for s in scope_to_list(scope) if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris  # exact string match (RFC 9700)

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(self.row.secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.row.kind is ClientKind.PUBLIC:
            return method == "none" and endpoint == "token"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.row.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.row.grant_types


def query_client(client_id: str) -> Client | None:
    """The client id names its tenant (`aalst.…`): that tenant becomes current before the lookup,
    so the client row is read under row-level security like any tenant data."""
    match = _CLIENT_ID.match(client_id or "")
    if match is None:
        return None
    tenant = tenant_cache().tenant(session(), match.group(1))
    if tenant is None or not tenant.is_active:
        return None
    use_tenant(tenant)
    row = client_by_id(session(), client_id)
    if row is None or row.status is not ClientStatus.ACTIVE:
        return None
    return Client(row, tenant)


def save_token(_token: dict[str, Any], _request: Any) -> None:
    """JWT access tokens are not stored: they verify by signature and expire within minutes."""


class StrictScope:
    """Asking for a scope the client may not have is `invalid_scope`, never a smaller token."""

    request: Any

    def validate_requested_scope(self) -> None:
        asked = set(scope_to_list(self.request.payload.scope) or [])
        if not asked <= set(self.request.client.row.scopes):
            raise InvalidScopeError()
        super().validate_requested_scope()  # type: ignore[misc]


class ResourceIndicator:
    """RFC 8707: `resource` names the one tenant API the token is for; anything else is refused."""

    request: Any

    def validate_requested_scope(self) -> None:
        wanted = request.values.getlist("resource")
        client: Client = self.request.client
        allowed = current_app.config["TOWNHALL_SETTINGS"].tenant_api_url(client.tenant.slug)
        if len(wanted) > 1 or (wanted and wanted[0] != allowed):
            raise InvalidTargetError(description="A token is for one municipality this client serves.")
        super().validate_requested_scope()  # type: ignore[misc]


class ClientCredentials(ResourceIndicator, StrictScope, grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class AccessTokens(JWTBearerTokenGenerator):  # type: ignore[misc]
    """RFC 9068 access tokens: `typ` at+jwt, ES256, audience = the tenant's API base URL."""

    def __init__(self, settings: Settings, keyring: Keyring) -> None:
        lifetime = settings.access_token_seconds
        super().__init__(issuer=settings.base_url, alg="ES256",
                         expires_generator=lambda _client, _grant_type: lifetime)
        self.settings = settings
        self.keyring = keyring

    def get_jwks(self) -> KeySet:
        return KeySet([self.keyring.signing_key(session())])

    def get_audiences(self, client: Client, user: Any, scope: str) -> str:
        return self.settings.tenant_api_url(client.tenant.slug)

    def get_extra_claims(self, client: Client, grant_type: str, user: Any, scope: str) -> dict[str, Any]:
        return {"tenant": client.tenant.slug, "principal_type": "client" if user is None else "user"}


def create_authorization_server(app: Flask, settings: Settings, keyring: Keyring) -> AuthorizationServer:
    server = AuthorizationServer()
    server.init_app(app, query_client=query_client, save_token=save_token)
    server.register_grant(ClientCredentials)
    server.register_token_generator("default", AccessTokens(settings, keyring))
    return server
