"""People, their memberships in tenants, shared back-office teams and delegations, OAuth clients
and signing keys."""

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from townhall.clock import utcnow
from townhall.db import Base, TenantOwned
from townhall.ids import new_id


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    return Enum(kind, native_enum=False, create_constraint=True, length=16, name=name,
                values_callable=lambda members: [m.value for m in members])


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class User(Base):
    """One person across the whole platform: citizen, staff member or operator.

    The password is optional: a person who signs in with a municipality's external identity
    provider (CSAM, itsme over OIDC) has an `ExternalIdentity` instead.
    """

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320), unique=True)  # lower-cased: unique regardless of case
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[UserStatus] = mapped_column(_enum(UserStatus, "status"), default=UserStatus.ACTIVE)
    is_platform_operator: Mapped[bool] = mapped_column(default=False)
    preferred_language: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    erasure_requested_at: Mapped[datetime | None]  # the account goes once nothing held keeps it


class ExternalIdentity(Base):
    """A user's account at an external identity provider (`provider` names it, e.g. `csam`)."""

    __tablename__ = "external_identities"

    provider: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Membership(TenantOwned, Base):
    """A user's role in one tenant (tenant_admin or case_worker)."""

    __tablename__ = "memberships"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index(None, "user_id"),)


class Team(Base):
    """A shared back-office team of the consortium; it works for municipalities that delegate to it."""

    __tablename__ = "teams"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index(None, "user_id"),)


class Delegation(TenantOwned, Base):
    """The municipality (the tenant, still the competent authority) lets a team handle a service
    (`*`: all of them). This row is what grants the team's members access, nothing else."""

    __tablename__ = "delegations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="RESTRICT"))
    service: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("tenant_id", "team_id", "service"), Index(None, "team_id"))


class ClientKind(enum.StrEnum):
    CONFIDENTIAL = "confidential"
    PUBLIC = "public"


class ClientStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class ClientFields:
    """What every OAuth client has, whether it belongs to a municipality or to the platform."""

    client_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ClientKind] = mapped_column(_enum(ClientKind, "kind"))
    secret_hash: Mapped[str | None] = mapped_column(String(128))
    grant_types: Mapped[list[str]]
    redirect_uris: Mapped[list[str]]
    scopes: Mapped[list[str]]
    status: Mapped[ClientStatus] = mapped_column(_enum(ClientStatus, "status"), default=ClientStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    secret_rotated_at: Mapped[datetime | None]


class OAuthClient(TenantOwned, ClientFields, Base):
    """An application of one tenant. `client_id` is `<tenant slug>.<random>`: globally unique, and it
    names the tenant, so the token endpoint knows whose client it is before reading it."""

    __tablename__ = "oauth_clients"

    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class PlatformClient(ClientFields, Base):
    """An application of the platform itself (operator console, automation): `platform.<random>`.
    Its tokens are for the platform API (`/v1`), never for a municipality's."""

    __tablename__ = "platform_clients"


class RevokedToken(TenantOwned, Base):
    """A revoked access token's `jti`, kept until the token would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(80), primary_key=True)  # a token id, or "grant:<id>"
    expires_at: Mapped[datetime]


class KeyStatus(enum.StrEnum):
    NEXT = "next"  # published, not yet signing
    ACTIVE = "active"  # signs new tokens
    RETIRED = "retired"  # published until its last token has expired


class SigningKey(Base):
    """A token signing key (platform-wide). The private key stays in the database; only the public
    part is published in the JWKS."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(10))
    private_jwk: Mapped[dict[str, Any]]
    status: Mapped[KeyStatus] = mapped_column(_enum(KeyStatus, "status"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]




class CodeFields:
    """A one-time code of the authorization code grant, stored as a hash, kept after use (marked) so
    that a second use is recognised."""

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[uuid.UUID] = mapped_column(default=new_id)
    client_id: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    scope: Mapped[str] = mapped_column(String(1000))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    auth_time: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AuthorizationCode(TenantOwned, CodeFields, Base):
    """A code for a municipality's API. A second use revokes everything the grant (`grant_id`) issued."""

    __tablename__ = "authorization_codes"


class PlatformAuthorizationCode(CodeFields, Base):
    """A code for the platform API (`/v1`): a person's view across municipalities. No municipality
    owns it."""

    __tablename__ = "platform_authorization_codes"


class RefreshToken(TenantOwned, Base):
    """An opaque refresh token, stored as a hash. Each use replaces it (rotation); using a replaced
    one again revokes the whole family (the grant it came from)."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[uuid.UUID] = mapped_column(index=True)
    client_id: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(1000))
    auth_time: Mapped[datetime]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class WebSessionFields:
    """A person's browser session with a console, kept on the server: the browser holds only a random
    id, stored here hashed. Before sign-in it holds the pending authorization request (`state`, PKCE
    `verifier`); afterwards the person and the grant they signed in with."""

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    grant_id: Mapped[uuid.UUID | None]
    state: Mapped[str | None] = mapped_column(String(64))
    verifier: Mapped[str | None] = mapped_column(String(128))
    return_to: Mapped[str | None] = mapped_column(String(500))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class WebSession(TenantOwned, WebSessionFields, Base):
    """A session with one municipality's console (`/t/<slug>/admin/`)."""

    __tablename__ = "web_sessions"


class PlatformWebSession(WebSessionFields, Base):
    """A session with the consortium's console (`/console/`), for platform operators."""

    __tablename__ = "platform_web_sessions"
