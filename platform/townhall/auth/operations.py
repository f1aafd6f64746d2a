"""Write use-cases for identity and access. They validate, change and flush; the caller commits."""

import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from townhall.auth.grants import revocations_subject, revoke_grant, token_hash
from townhall.auth.models import (
    ClientKind,
    ClientStatus,
    Delegation,
    Membership,
    OAuthClient,
    PlatformClient,
    PlatformWebSession,
    Team,
    TeamMember,
    User,
    WebSession,
)
from townhall.auth.passwords import hash_password, hash_secret, new_client_secret
from townhall.auth.queries import team_by_slug, user_by_email
from townhall.auth.schemas import ClientInput, PlatformClientInput, UserInput
from townhall.auth.scopes import ALL_SERVICES, TENANT_ROLES
from townhall.changes.diff import differences
from townhall.changes.operations import record
from townhall.clock import utcnow
from townhall.errors import Conflict, InvalidInput, NotFound
from townhall.invalidation import announce
from townhall.validation import load


def create_user(session: Session, data: Mapping[str, Any]) -> User:
    values = load(UserInput, data)
    if user_by_email(session, values["email"]) is not None:
        raise Conflict("A person with this e-mail address exists already.")
    password = values.pop("password")
    user = User(**values, email_key=values["email"].strip().lower(),
                password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    return user


def require_user(session: Session, email: str) -> User:
    user = user_by_email(session, email)
    if user is None:
        raise unknown_person(email)
    return user


def unknown_person(email: str) -> NotFound:
    return NotFound(f"No person with e-mail address {email}.")


def _roles(session: Session, tenant_id: uuid.UUID, user: User) -> list[str]:
    return sorted(session.scalars(select(Membership.role).where(Membership.tenant_id == tenant_id,
                                                                Membership.user_id == user.id)))


def _record_roles(session: Session, tenant_id: uuid.UUID, user: User, before: list[str], actor: str) -> None:
    """The history names the person by e-mail address, with their roles here before and after."""
    record(session, tenant_id, actor, "members", {user.email: {"from": before, "to": _roles(session, tenant_id, user)}})


def add_membership(session: Session, tenant_id: uuid.UUID, user: User, role: str, *,
                   actor: str = "platform") -> Membership:
    if role not in TENANT_ROLES:
        raise InvalidInput({"role": [f"One of {', '.join(TENANT_ROLES)}."]})
    if session.get(Membership, (tenant_id, user.id, role)) is not None:
        raise Conflict("This person has this role here already.")
    before = _roles(session, tenant_id, user)
    membership = Membership(tenant_id=tenant_id, user_id=user.id, role=role)
    session.add(membership)
    session.flush()
    _record_roles(session, tenant_id, user, before, actor)
    return membership


def remove_membership(session: Session, tenant_id: uuid.UUID, user: User, role: str, *,
                      actor: str = "platform") -> None:
    membership = session.get(Membership, (tenant_id, user.id, role))
    if membership is None:
        raise NotFound("This person does not have this role here.")
    before = _roles(session, tenant_id, user)
    session.delete(membership)
    session.flush()
    _record_roles(session, tenant_id, user, before, actor)


def roles_of(session: Session, tenant_id: uuid.UUID, user: User) -> list[str]:
    """The person's roles in this municipality, sorted."""
    return _roles(session, tenant_id, user)


def set_roles(session: Session, tenant_id: uuid.UUID, user: User, roles: Sequence[str], *,
              actor: str = "platform") -> list[str]:
    """Give exactly these roles here (none: the person leaves the municipality's staff), as one change."""
    unknown = sorted(set(roles) - set(TENANT_ROLES))
    if unknown:
        raise InvalidInput({"roles": [f"One of {', '.join(TENANT_ROLES)}."]})
    before = _roles(session, tenant_id, user)
    for role in set(before) - set(roles):
        session.delete(session.get(Membership, (tenant_id, user.id, role)))
    for role in sorted(set(roles) - set(before)):
        session.add(Membership(tenant_id=tenant_id, user_id=user.id, role=role))
    session.flush()
    if sorted(set(roles)) != before:
        _record_roles(session, tenant_id, user, before, actor)
    return _roles(session, tenant_id, user)


def create_team(session: Session, slug: str, name: str) -> Team:
    if team_by_slug(session, slug) is not None:
        raise Conflict("A team with this slug exists already.")
    team = Team(slug=slug, name=name)
    session.add(team)
    session.flush()
    return team


def add_team_member(session: Session, team: Team, user: User) -> None:
    if session.get(TeamMember, (team.id, user.id)) is None:
        session.add(TeamMember(team_id=team.id, user_id=user.id))
        session.flush()


def delegate(session: Session, tenant_id: uuid.UUID, team: Team, service: str, actor: str) -> Delegation:
    """The current tenant lets `team` handle `service` (`*`: every service)."""
    if service != ALL_SERVICES and not (service.replace("-", "").isalnum() and len(service) <= 63):
        raise InvalidInput({"service": ["A service code such as eid-card, or * for all."]})
    existing = session.scalars(select(Delegation).where(
        Delegation.tenant_id == tenant_id, Delegation.team_id == team.id, Delegation.service == service)).first()
    if existing is not None:
        raise Conflict("This team already handles this service here.")
    delegation = Delegation(tenant_id=tenant_id, team_id=team.id, service=service, created_by=actor)
    session.add(delegation)
    session.flush()
    record(session, tenant_id, actor, "delegations", {f"{team.slug}.{service}": {"from": None, "to": "delegated"}})
    return delegation


def withdraw_delegation(session: Session, tenant_id: uuid.UUID, delegation_id: uuid.UUID, *,
                        actor: str = "platform") -> None:
    delegation = session.get(Delegation, (tenant_id, delegation_id))
    if delegation is None:
        raise NotFound("No such delegation of this municipality.")
    team = session.get(Team, delegation.team_id)
    record(session, tenant_id, actor, "delegations",
           {f"{team.slug if team else delegation.team_id}.{delegation.service}": {"from": "delegated", "to": None}})
    session.delete(delegation)
    session.flush()


def create_client(session: Session, tenant_id: uuid.UUID, tenant_slug: str, data: Mapping[str, Any],
                  name_part: str | None = None, *, actor: str = "platform") -> tuple[OAuthClient, str | None]:
    """A new client and, for a confidential one, its secret: shown this once, stored hashed.
    The client id is `<tenant slug>.<name_part>`, random unless given (the demo names its own)."""
    values = load(ClientInput, data)
    secret = new_client_secret() if values["kind"] is ClientKind.CONFIDENTIAL else None
    client = OAuthClient(
        tenant_id=tenant_id,
        client_id=f"{tenant_slug}.{name_part or secrets.token_urlsafe(12)}",
        secret_hash=hash_secret(secret) if secret else None,
        **values,
    )
    session.add(client)
    session.flush()
    _record_client(session, client, {}, actor)
    return client, secret


def create_platform_client(session: Session, data: Mapping[str, Any],
                           name_part: str | None = None) -> tuple[PlatformClient, str | None]:
    """A client of the platform itself; a confidential one's secret is shown this once, stored hashed."""
    values = load(PlatformClientInput, data)
    secret = new_client_secret() if values["kind"] is ClientKind.CONFIDENTIAL else None
    client = PlatformClient(client_id=f"platform.{name_part or secrets.token_urlsafe(12)}",
                            secret_hash=hash_secret(secret) if secret else None, **values)
    session.add(client)
    session.flush()
    return client, secret


CLIENT_FIELDS = ("name", "kind", "grant_types", "redirect_uris", "scopes", "status")
"""What the history shows of a client (never its secret, only that a new one was issued)."""


def client_settings(client: OAuthClient) -> dict[str, Any]:
    return {"name": client.name, "kind": client.kind.value, "grant_types": list(client.grant_types),
            "redirect_uris": list(client.redirect_uris), "scopes": list(client.scopes), "status": client.status.value}


def _record_client(session: Session, client: OAuthClient, before: Mapping[str, Any], actor: str) -> None:
    after = client_settings(client)
    record(session, client.tenant_id, actor, "clients",
           {f"{client.client_id}.{name}": change for name, change in differences(before, after, CLIENT_FIELDS).items()})


def rotate_client_secret(session: Session, client: OAuthClient, *, actor: str = "platform") -> str:
    if client.kind is not ClientKind.CONFIDENTIAL:
        raise Conflict("A public client has no secret.")
    secret = new_client_secret()
    client.secret_hash = hash_secret(secret)
    client.secret_rotated_at = utcnow()
    session.flush()
    record(session, client.tenant_id, actor, "clients", {f"{client.client_id}.secret": {"from": None, "to": "new"}})
    return secret


CONSOLE_NAME_PART = "townhall-console"
"""`<slug>.townhall-console`: the client a municipality's console signs in with (console_client.py)."""


def set_client_status(session: Session, client: OAuthClient, status: ClientStatus, *, actor: str = "platform") -> None:
    if status is ClientStatus.DISABLED and client.client_id.partition(".")[2] == CONSOLE_NAME_PART:
        raise Conflict("The console signs in with this client: disabled, nobody could sign in to enable it again.")
    before = client_settings(client)
    changed = client.status is not status
    client.status = status
    session.flush()
    if changed:  # a disabled client's tokens are refused: every process drops its revocation list
        announce(session, revocations_subject(client.tenant_id))
        _record_client(session, client, before, actor)


def update_client(session: Session, client: OAuthClient, changes: Mapping[str, Any], *,
                  actor: str = "platform") -> None:
    """Change name, redirect URIs, scopes or status; the result must still be a valid client."""
    unknown = set(changes) - {"name", "redirect_uris", "scopes", "status"}
    if unknown:
        raise InvalidInput({field: ["Cannot be changed; register a new client."] for field in sorted(unknown)})
    status = changes.get("status", client.status.value)
    if status not in {s.value for s in ClientStatus}:
        raise InvalidInput({"status": ["One of active, disabled."]})
    current = {"name": client.name, "kind": client.kind.value, "grant_types": client.grant_types,
               "redirect_uris": client.redirect_uris, "scopes": client.scopes}
    values = load(ClientInput, current | {k: v for k, v in changes.items() if k != "status"})
    before = client_settings(client)
    client.name, client.redirect_uris, client.scopes = values["name"], values["redirect_uris"], values["scopes"]
    session.flush()
    _record_client(session, client, before, actor)
    set_client_status(session, client, ClientStatus(status), actor=actor)


WEB_SESSION_LIFETIME = timedelta(hours=8)  # a working day; signing in again after it is cheap
PENDING_SIGN_IN = timedelta(minutes=10)  # the time to sign in at the authorization server


AnyWebSession = WebSession | PlatformWebSession


def _web_session(tenant_id: uuid.UUID | None, session_id: str, **fields: Any) -> AnyWebSession:
    """A municipality's console session, or (no tenant) the consortium console's."""
    fields |= {"id_hash": token_hash(session_id), "csrf": secrets.token_urlsafe(24)}
    return WebSession(tenant_id=tenant_id, **fields) if tenant_id else PlatformWebSession(**fields)


def start_web_session(session: Session, tenant_id: uuid.UUID | None, return_to: str) -> tuple[str, AnyWebSession]:
    """A new browser session waiting for its sign-in: its id (for the cookie, shown only now) and the
    row holding the authorization request's `state` and PKCE verifier."""
    session_id = secrets.token_urlsafe(32)
    row = _web_session(tenant_id, session_id, state=secrets.token_urlsafe(24), verifier=secrets.token_urlsafe(64),
                       return_to=return_to, expires_at=utcnow() + PENDING_SIGN_IN)
    session.add(row)
    session.flush()
    return session_id, row


def purge_web_sessions(session: Session, tenant_id: uuid.UUID | None) -> None:
    """Forget this console's expired sessions (sign-ins begun and never finished, among them)."""
    if tenant_id is None:
        session.execute(delete(PlatformWebSession).where(PlatformWebSession.expires_at <= utcnow()))
    else:
        session.execute(delete(WebSession).where(WebSession.tenant_id == tenant_id, WebSession.expires_at <= utcnow()))


def sign_in_web_session(session: Session, pending: AnyWebSession, user_id: uuid.UUID,
                        grant_id: uuid.UUID) -> tuple[str, AnyWebSession]:
    """The pending session ends; a new one (new id, new CSRF token: nothing known before sign-in
    carries over) belongs to the person who signed in."""
    session.delete(pending)
    session_id = secrets.token_urlsafe(32)
    row = _web_session(getattr(pending, "tenant_id", None), session_id, user_id=user_id, grant_id=grant_id,
                       expires_at=utcnow() + WEB_SESSION_LIFETIME)
    session.add(row)
    session.flush()
    return session_id, row


def end_web_session(session: Session, row: AnyWebSession, access_lifetime: timedelta) -> None:
    """Sign-out: the session is gone and the grant it signed in with is revoked (a platform token,
    short-lived and without a refresh token, simply expires)."""
    if isinstance(row, WebSession) and row.grant_id is not None:
        revoke_grant(session, row.tenant_id, row.grant_id, access_lifetime)
    session.delete(row)
    session.flush()
