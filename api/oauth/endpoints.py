"""Revocation (RFC 7009) and introspection (RFC 7662).

Access tokens are JWTs: revoking one puts its `jti` on the tenant's revocation list, which the tenant
APIs consult (cached per process; every process is told when it changes, ADR 0010). Revoking a
refresh token revokes its whole grant: the refresh family and every access token issued from it.
A disabled client's tokens are on the list too, while it stays disabled.
"""

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import current_app, g
from joserfc import jwt
from joserfc.errors import JoseError

from api.database import session
from api.oauth.clients import Client
from api.oauth.keyring import Keyring
from townhall.auth.grants import refresh_token_by_value, revoke_access_token, revoke_grant, revoked_ids
from townhall.auth.models import ClientKind, RefreshToken
from townhall.cache import Freshness, TimedCache
from townhall.invalidation import transaction_began


class RevocationList:
    """Per process: each tenant's revoked token and grant ids and disabled clients, kept `ttl`
    seconds (TOWNHALL_REVOCATION_CACHE_SECONDS) while announced changes are heard (they drop the
    tenant's entry at once), else at most one second (`townhall.invalidation`)."""

    def __init__(self, ttl: float, freshness: Freshness | None = None) -> None:
        self.ttl = ttl
        self._entries: TimedCache[uuid.UUID, frozenset[str]] = TimedCache(ttl, freshness)

    def revoked(self, tenant_id: uuid.UUID) -> frozenset[str]:
        cached = self._entries.get(tenant_id)
        if cached is not None:
            return cached
        read = self._entries.begin(transaction_began(session()))
        ids = revoked_ids(session(), tenant_id)
        self._entries.put(tenant_id, ids, read)
        return ids

    def forget(self, tenant_id: uuid.UUID) -> None:
        self._entries.forget(tenant_id)

    def clear(self) -> None:
        self._entries.clear()

    def is_revoked(self, tenant_id: uuid.UUID, claims: dict[str, Any]) -> bool:
        ids = self.revoked(tenant_id)
        return (claims.get("jti") in ids or f"grant:{claims.get('grant_id')}" in ids
                or f"client:{claims.get('client_id')}" in ids)


class KnownToken:
    """An access token (verified JWT claims) or a refresh token row, as the endpoints see it."""

    def __init__(self, claims: dict[str, Any] | None = None, refresh: RefreshToken | None = None) -> None:
        self.claims = claims
        self.refresh = refresh

    @property
    def client_id(self) -> str:
        return self.refresh.client_id if self.refresh else str(self.claims["client_id"])  # type: ignore[index]

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.get_client_id()

    def is_expired(self) -> bool:
        if self.refresh:
            return self.refresh.expires_at <= datetime.now(UTC)
        return int(self.claims["exp"]) <= time.time()  # type: ignore[index]

    def is_revoked(self) -> bool:
        if self.refresh:
            return self.refresh.revoked_at is not None
        return _revocations().is_revoked(g.tenant.id, self.claims or {})


def _revocations() -> RevocationList:
    revocations: RevocationList = current_app.extensions["townhall.revocations"]
    return revocations


def _find(token_string: str) -> KnownToken | None:
    """The token, if it is ours and of the requesting client's municipality (already current)."""
    if g.get("tenant") is None:
        return None  # platform tokens are short-lived and not revocable yet
    if token_string.count(".") == 2:
        keyring: Keyring = current_app.extensions["townhall.keyring"]
        try:
            claims = jwt.decode(token_string, keyring.public_keys(session())).claims
        except (JoseError, ValueError):
            return None
        return KnownToken(claims=claims) if claims.get("tenant") == g.tenant.slug else None
    found = refresh_token_by_value(session(), token_string)
    return KnownToken(refresh=found) if found else None


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> KnownToken | None:
        return _find(token_string)

    def revoke_token(self, token: KnownToken, request: Any) -> None:
        lifetime = current_app.config["TOWNHALL_SETTINGS"].access_token_lifetime
        if token.refresh is not None:
            revoke_grant(session(), token.refresh.tenant_id, token.refresh.grant_id, lifetime)
        elif token.claims is not None:
            expires = datetime.fromtimestamp(int(token.claims["exp"]), UTC)
            revoke_access_token(session(), g.tenant.id, str(token.claims["jti"]), expires)
        _revocations().forget(g.tenant.id)


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> KnownToken | None:
        return _find(token_string)

    def check_permission(self, token: KnownToken, client: Client, request: Any) -> bool:
        # A confidential client of the same municipality (a resource server or partner).
        return client.row.kind is ClientKind.CONFIDENTIAL

    def introspect_token(self, token: KnownToken) -> dict[str, Any]:
        if token.refresh is not None:
            return {"active": True, "token_type": "refresh_token", "client_id": token.refresh.client_id,
                    "scope": token.refresh.scope, "sub": str(token.refresh.user_id), "tenant": g.tenant.slug,
                    "exp": int(token.refresh.expires_at.timestamp())}
        claims = dict(token.claims or {})
        return {"active": True, "token_type": "Bearer", "client_id": claims.get("client_id"),
                "scope": claims.get("scope"), "sub": claims.get("sub"), "aud": claims.get("aud"),
                "iss": claims.get("iss"), "exp": claims.get("exp"), "iat": claims.get("iat"),
                "jti": claims.get("jti"), "tenant": claims.get("tenant")}

