"""Authorization codes, refresh tokens and revocation: stored as hashes, single use, rotated.

A grant (`grant_id`) is everything one user consent produced: its code, the refresh tokens that
replace each other, and the access tokens issued from them (they carry the grant id). Revoking a
grant stops all of it; access tokens are stopped through the revocation list, which every process
is told of (`townhall.invalidation.announce`) when it changes.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import literal, select, union_all, update
from sqlalchemy.orm import Session

from townhall.auth.models import (
    AuthorizationCode,
    ClientStatus,
    OAuthClient,
    PlatformAuthorizationCode,
    RefreshToken,
    RevokedToken,
)
from townhall.clock import utcnow
from townhall.invalidation import announce

CODE_LIFETIME = timedelta(minutes=5)
REFRESH_LIFETIME = timedelta(days=30)


def token_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class CodeRequest:
    client_id: str
    user_id: uuid.UUID
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str
    auth_time: datetime


Code = AuthorizationCode | PlatformAuthorizationCode


def issue_code(session: Session, tenant_id: uuid.UUID | None, request: CodeRequest, code: str | None = None) -> str:
    """A code for a municipality's API, or (no tenant) for the platform API."""
    code = code or secrets.token_urlsafe(32)
    fields = {"code_hash": token_hash(code), "client_id": request.client_id, "user_id": request.user_id,
              "redirect_uri": request.redirect_uri, "scope": request.scope, "code_challenge": request.code_challenge,
              "code_challenge_method": request.code_challenge_method, "auth_time": request.auth_time,
              "expires_at": utcnow() + CODE_LIFETIME}
    session.add(AuthorizationCode(tenant_id=tenant_id, **fields) if tenant_id else PlatformAuthorizationCode(**fields))
    session.flush()
    return code


def find_code(session: Session, code: str, client_id: str, access_lifetime: timedelta,
              platform: bool = False) -> Code | None:
    """The code, if it may be redeemed now. A code used before is a replay: its grant is revoked
    (platform-API tokens are not revocable: they simply expire within minutes)."""
    found: Code | None
    if platform:
        found = session.get(PlatformAuthorizationCode, token_hash(code))
    else:
        hashed = token_hash(code)
        found = session.scalars(select(AuthorizationCode).where(AuthorizationCode.code_hash == hashed)).first()
    if found is None or found.client_id != client_id:
        return None
    if found.used_at is not None:
        if isinstance(found, AuthorizationCode):
            revoke_grant(session, found.tenant_id, found.grant_id, access_lifetime)
        return None
    if found.expires_at <= utcnow():
        return None
    return found


def mark_code_used(session: Session, code: Code) -> None:
    code.used_at = utcnow()
    session.flush()


def issue_refresh_token(session: Session, tenant_id: uuid.UUID, grant_id: uuid.UUID, client_id: str,
                        user_id: uuid.UUID, scope: str, auth_time: datetime, value: str) -> None:
    now = utcnow()
    session.add(RefreshToken(
        tenant_id=tenant_id, token_hash=token_hash(value), grant_id=grant_id, client_id=client_id,
        user_id=user_id, scope=scope, auth_time=auth_time, issued_at=now, expires_at=now + REFRESH_LIFETIME,
    ))
    session.flush()


def find_refresh_token(session: Session, value: str, access_lifetime: timedelta) -> RefreshToken | None:
    """The refresh token, if it may be used now. A replaced one used again is a replay: its whole
    family is revoked (RFC 9700 §4.14.2)."""
    found = session.scalars(select(RefreshToken).where(RefreshToken.token_hash == token_hash(value))).first()
    if found is None:
        return None
    if found.revoked_at is not None:
        revoke_grant(session, found.tenant_id, found.grant_id, access_lifetime)
        return None
    if found.expires_at <= utcnow():
        return None
    return found


def refresh_token_by_value(session: Session, value: str) -> RefreshToken | None:
    """Look a refresh token up without using it (revocation, introspection): no replay check."""
    return session.scalars(select(RefreshToken).where(RefreshToken.token_hash == token_hash(value))).first()


def retire_refresh_token(session: Session, token: RefreshToken) -> None:
    token.revoked_at = utcnow()
    session.flush()


def revoke_grant(session: Session, tenant_id: uuid.UUID, grant_id: uuid.UUID, access_lifetime: timedelta) -> None:
    now = utcnow()
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.tenant_id == tenant_id, RefreshToken.grant_id == grant_id)
        .where(RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    revoke_access_token(session, tenant_id, f"grant:{grant_id}", now + access_lifetime)


def revoke_access_token(session: Session, tenant_id: uuid.UUID, jti: str, expires_at: datetime) -> None:
    if session.get(RevokedToken, (tenant_id, jti)) is None:
        session.add(RevokedToken(tenant_id=tenant_id, jti=jti, expires_at=expires_at))
        session.flush()
    announce(session, revocations_subject(tenant_id))


def revocations_subject(tenant_id: uuid.UUID) -> str:
    """What `announce` says when a municipality's revocation list (or a client's status) changed."""
    return f"revocations:{tenant_id}"


def revoked_ids(session: Session, tenant_id: uuid.UUID) -> frozenset[str]:
    """Token ids and `grant:<id>` entries still worth refusing (their tokens have not expired), and
    `client:<client id>` for each disabled client (its tokens are refused while it is disabled)."""
    revoked = select(RevokedToken.jti).where(RevokedToken.tenant_id == tenant_id, RevokedToken.expires_at > utcnow())
    disabled = select(literal("client:") + OAuthClient.client_id).where(
        OAuthClient.tenant_id == tenant_id, OAuthClient.status == ClientStatus.DISABLED)
    return frozenset(session.scalars(union_all(revoked, disabled)))
