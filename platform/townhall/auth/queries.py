"""Read-side lookups for identity and access."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from townhall.auth.grants import token_hash
from townhall.auth.models import (
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
from townhall.auth.principal import covers
from townhall.auth.scopes import CASE_WORKER, ROLE_SCOPES
from townhall.clock import utcnow


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email_key == email.strip().lower())).one_or_none()


def team_by_slug(session: Session, slug: str) -> Team | None:
    return session.scalars(select(Team).where(Team.slug == slug)).one_or_none()


@dataclass(frozen=True)
class Access:
    """What one user may do in one tenant: roles held there directly, plus case work on the services
    delegated to their teams (`delegated_services`; `*` = every service)."""

    roles: frozenset[str]
    delegated_services: frozenset[str]
    delegation_ids: tuple[uuid.UUID, ...]

    @property
    def is_staff(self) -> bool:
        return bool(self.roles or self.delegated_services)

    @property
    def scopes(self) -> frozenset[str]:
        granted: set[str] = set()
        for role in self.roles:
            granted |= ROLE_SCOPES[role]
        if self.delegated_services:
            granted |= ROLE_SCOPES[CASE_WORKER]
        return frozenset(granted)

    def may_handle(self, service: str) -> bool:
        """The enforcement hook for cases: may this user work on a case of `service` here?"""
        if CASE_WORKER in self.roles:
            return True
        return covers(self.delegated_services, service)


def access_in_tenant(session: Session, user_id: uuid.UUID, tenant_id: uuid.UUID) -> Access:
    """The caller has made `tenant_id` current: memberships and delegations are tenant-owned rows."""
    roles = session.scalars(
        select(Membership.role).where(Membership.tenant_id == tenant_id, Membership.user_id == user_id)
    ).all()
    delegated = session.execute(
        select(Delegation.id, Delegation.service)
        .join(TeamMember, TeamMember.team_id == Delegation.team_id)
        .where(Delegation.tenant_id == tenant_id, TeamMember.user_id == user_id)
    ).all()
    return Access(frozenset(roles), frozenset(row.service for row in delegated),
                  tuple(row.id for row in delegated))


def memberships_of_tenant(session: Session, tenant_id: uuid.UUID, after: tuple[str, str] | None = None,
                          limit: int | None = None) -> Sequence[tuple[Membership, User]]:
    """Ordered by e-mail and role (keyset pagination: the page after `after`)."""
    query = (select(Membership, User).join(User, User.id == Membership.user_id)
             .where(Membership.tenant_id == tenant_id).order_by(User.email_key, Membership.role))
    if after is not None:
        query = query.where(tuple_(User.email_key, Membership.role) > tuple_(*after))
    rows = session.execute(query.limit(limit)).all()
    return [(row[0], row[1]) for row in rows]


def client_by_id(session: Session, client_id: str) -> OAuthClient | None:
    return session.scalars(select(OAuthClient).where(OAuthClient.client_id == client_id)).one_or_none()


def platform_client_by_id(session: Session, client_id: str) -> PlatformClient | None:
    return session.get(PlatformClient, client_id)


def teams(session: Session) -> Sequence[Team]:
    return session.scalars(select(Team).order_by(Team.slug)).all()


def team_members(session: Session, team_id: uuid.UUID) -> Sequence[User]:
    """The people of a shared back-office team, by e-mail address."""
    return session.scalars(select(User).join(TeamMember, TeamMember.user_id == User.id)
                           .where(TeamMember.team_id == team_id).order_by(User.email_key)).all()


def clients_of_tenant(session: Session, tenant_id: uuid.UUID, after: str | None = None,
                      limit: int | None = None) -> Sequence[OAuthClient]:
    """Ordered by client id (stable keyset pagination: the page after `after`)."""
    query = select(OAuthClient).where(OAuthClient.tenant_id == tenant_id).order_by(OAuthClient.client_id)
    if after is not None:
        query = query.where(OAuthClient.client_id > after)
    return session.scalars(query.limit(limit)).all()


def delegations_of_tenant(session: Session, tenant_id: uuid.UUID) -> Sequence[Delegation]:
    return session.scalars(
        select(Delegation).where(Delegation.tenant_id == tenant_id).order_by(Delegation.created_at)
    ).all()


def web_session(session: Session, tenant_id: uuid.UUID | None,
                session_id: str) -> WebSession | PlatformWebSession | None:
    """The browser session with this id in this municipality's console (no tenant: the consortium
    console's), unless it has expired."""
    found: WebSession | PlatformWebSession | None = (
        session.get(WebSession, (tenant_id, token_hash(session_id))) if tenant_id
        else session.get(PlatformWebSession, token_hash(session_id)))
    return found if found is not None and found.expires_at > utcnow() else None
