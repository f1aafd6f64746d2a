"""Authlib's view of our OAuth clients, and how the token endpoint finds one."""

import re

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.util import scope_to_list
from flask import current_app, request

from api.database import session
from api.tenant_api import tenant_cache
from tenants.registry import TenantSnapshot
from tenants.schemas import SLUG_PATTERN
from townhall.auth.models import ClientKind, ClientStatus, OAuthClient, PlatformClient
from townhall.auth.passwords import secret_matches
from townhall.auth.queries import client_by_id, platform_client_by_id
from townhall.tenancy import tenant_scope

_CLIENT_ID = re.compile(f"^({SLUG_PATTERN})\\.[A-Za-z0-9_-]{{8,64}}$")


class InvalidTargetError(OAuth2Error):  # type: ignore[misc]
    """RFC 8707: the requested resource is unknown or not allowed for this client."""

    error = "invalid_target"
    status_code = 400


class Client(ClientMixin):  # type: ignore[misc]
    """Authlib's view of one of our clients, with the tenant it belongs to."""

    def __init__(self, row: OAuthClient | PlatformClient, tenant: TenantSnapshot | None) -> None:
        self.row = row
        # The municipality this request's tokens are for; None: the platform API.
        self.tenant = tenant

    @property
    def is_platform_client(self) -> bool:
        return isinstance(self.row, PlatformClient)

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
        if self.row.kind is ClientKind.PUBLIC:  # no secret: may get and revoke its tokens, not introspect
            return method == "none" and endpoint in ("token", "revocation")
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.row.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.row.grant_types


def _requested_tenant() -> TenantSnapshot | None:
    """RFC 8707: a platform client names the municipality it wants a token for with `resource`
    (at authorize, token and refresh alike); without it, its tokens are for the platform API."""
    wanted = request.values.getlist("resource")
    slug = current_app.config["TOWNHALL_SETTINGS"].tenant_of_audience(wanted[0]) if len(wanted) == 1 else None
    if slug is None:
        return None
    tenant = tenant_cache().tenant(session(), slug)
    return tenant if tenant is not None and tenant.is_active else None


def find_client(client_id: str) -> Client | None:
    """The active client with this id, and the municipality it acts for here. The id names its
    tenant (`aalst.…`): the row is read under that tenant's row-level security, like any tenant data,
    and no request state changes (the authorization server makes the tenant current)."""
    match = _CLIENT_ID.match(client_id or "")
    if match is None:
        return None
    if match.group(1) == "platform":
        platform_client = platform_client_by_id(session(), client_id)
        if platform_client is None or platform_client.status is not ClientStatus.ACTIVE:
            return None
        return Client(platform_client, _requested_tenant())
    tenant = tenant_cache().tenant(session(), match.group(1))
    if tenant is None or not tenant.is_active:
        return None
    with tenant_scope(session(), tenant.id):
        row = client_by_id(session(), client_id)
    if row is None or row.status is not ClientStatus.ACTIVE:
        return None
    return Client(row, tenant)
