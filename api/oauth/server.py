"""The platform's OAuth 2.0 authorization server (Authlib), one per app.

One issuer for the whole consortium; every access token is good for exactly one API: a
municipality's (`aud` = its API base URL, `tenant` = its slug) or the platform's
(`aud` = `{base}/v1`). Authlib's defaults that do not
suit us are overridden here: strict scopes (never a silently smaller token), RFC 8707 `resource`,
our audience and lifetime, hashed client secrets.
"""

import secrets
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Request
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from flask import Flask, Request, g
from flask import request as flask_request
from joserfc.jwk import KeySet

from api.database import session
from api.oauth.clients import Client, find_client
from api.oauth.endpoints import Introspection, Revocation
from api.oauth.grant_types import (
    AuthorizationCodeGrant,
    ClientCredentials,
    Person,
    RefreshTokenGrant,
    S256Required,
    audience_of,
)
from api.oauth.keyring import Keyring
from api.settings import Settings
from api.tenant_api import use_tenant
from townhall.auth.grants import issue_refresh_token
from townhall.clock import utcnow


def save_token(token: dict[str, Any], request: Any) -> None:
    """Access tokens are not stored (they verify by signature and expire within minutes); a refresh
    token is, as a hash, in the family of the grant it came from."""
    client: Client = request.client
    if "refresh_token" not in token or client.tenant is None:
        return
    person: Person = request.user
    issue_refresh_token(session(), client.tenant.id, g.get("oauth_grant_id"), client.get_client_id(),
                        person.user.id, token.get("scope", ""), g.get("auth_time") or utcnow(),
                        token["refresh_token"])


class AccessTokens(JWTBearerTokenGenerator):  # type: ignore[misc]
    """RFC 9068 access tokens: `typ` at+jwt, ES256, audience = the one API the token is for."""

    def __init__(self, settings: Settings, keyring: Keyring) -> None:
        lifetime = settings.access_token_seconds
        super().__init__(issuer=settings.base_url, alg="ES256",
                         expires_generator=lambda _client, _grant_type: lifetime,
                         refresh_token_generator=lambda **_: secrets.token_urlsafe(32))
        self.settings = settings
        self.keyring = keyring

    def get_jwks(self) -> KeySet:
        return KeySet([self.keyring.signing_key(session())])

    def get_audiences(self, client: Client, user: Any, scope: str) -> str:
        return audience_of(client)

    def get_extra_claims(self, client: Client, grant_type: str, user: Person | None, scope: str) -> dict[str, Any]:
        claims: dict[str, Any] = {"tenant": client.tenant.slug} if client.tenant else {}
        if user is None:
            return claims | {"principal_type": "client"}
        claims |= {"principal_type": "user", "grant_id": str(g.oauth_grant_id)}
        if user.roles:  # RFC 9068 validators refuse an empty `roles` claim
            claims["roles"] = sorted(user.roles)
        if user.services:  # a shared back-office worker: the services this municipality delegated
            claims["services"] = sorted(user.services)
        return claims


class TownhallAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def create_oauth2_request(self, request: Request | None) -> FlaskOAuth2Request:
        """This request's, or one built in-process (the consoles redeem their codes at the token
        endpoint without a round trip over the network)."""
        return FlaskOAuth2Request(request if request is not None else flask_request)

    def query_client(self, client_id: str) -> Client | None:
        """Authlib asks for this request's client: its municipality becomes the request's tenant,
        so the grant reads and writes that municipality's rows."""
        client = find_client(client_id)
        if client is not None and client.tenant is not None:
            use_tenant(client.tenant)
        return client


def create_authorization_server(app: Flask, settings: Settings, keyring: Keyring) -> AuthorizationServer:
    server = TownhallAuthorizationServer()
    server.init_app(app, save_token=save_token)
    server.register_grant(ClientCredentials)
    server.register_grant(AuthorizationCodeGrant, [S256Required(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    server.register_token_generator("default", AccessTokens(settings, keyring))
    return server
