"""Who calls, and what that lets them see: one `Principal` per request, one set of predicates.

Every route and every kernel query decides with these predicates, so one token is the same caller in
every module. The rule for a shared back-office worker (a person whose team a municipality delegated
services to, the token's `services` claim) is decided here: staff for the delegated services, in
cases and appointments alike, and a citizen for everything else (docs/identity.md).
"""

import uuid
from dataclasses import dataclass
from typing import Literal

from townhall.auth.scopes import ALL_SERVICES, CASE_WORKER, CITIZEN


def covers(delegated: frozenset[str], service: str) -> bool:
    """Do these delegated services (`*`: all of them) include `service`?"""
    return ALL_SERVICES in delegated or service in delegated


@dataclass(frozen=True, slots=True)
class Viewer:
    """What a query may show: one citizen's own records (`citizen_id`), the records of some services
    (`services`), both, or everything (neither)."""

    citizen_id: uuid.UUID | None = None
    services: frozenset[str] | None = None

    def may_handle(self, service: str) -> bool:
        return self.services is None or covers(self.services, service)

    @property
    def only_services(self) -> frozenset[str] | None:
        """The services a query must keep to (None: every service)."""
        return None if self.services is None or ALL_SERVICES in self.services else self.services


EVERYTHING = Viewer()


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller as the verified access token names it.

    `kind` is a person signed in through a client, or a client acting for itself (a partner
    integration, holding only what the municipality granted it); `tenant` the municipality's slug
    (None: the platform API); `roles` the person's roles there; `services` the services delegated to
    their teams (`*`: all)."""

    kind: Literal["person", "client"]
    subject: str
    client_id: str
    tenant: str | None = None
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()

    @property
    def is_client(self) -> bool:
        return self.kind == "client"

    @property
    def person_id(self) -> uuid.UUID | None:
        """The signed-in person (None for a client)."""
        return None if self.is_client else uuid.UUID(self.subject)

    @property
    def actor(self) -> str:
        """How timelines and histories name the caller: `client:<id>` or `user:<id>`."""
        return f"{'client' if self.is_client else 'user'}:{self.subject}"

    @property
    def works_every_service(self) -> bool:
        """The municipality's own case workers, and partner clients it gave case scopes to."""
        return self.is_client or CASE_WORKER in self.roles

    @property
    def is_staff(self) -> bool:
        """Works for the municipality on at least one service (its own staff or a delegated team)."""
        return self.works_every_service or bool(self.services)

    @property
    def role(self) -> str:
        """The workflow role: staff move cases and see internal steps; a citizen sees their own."""
        return CASE_WORKER if self.is_staff else CITIZEN

    def handles(self, service: str) -> bool:
        """May this caller work on records of `service` here?"""
        return self.works_every_service or covers(self.services, service)

    @property
    def viewer(self) -> Viewer:
        """What this caller's queries show: everything (own staff, clients), the delegated services
        (back office), or a citizen's own records."""
        if self.works_every_service:
            return EVERYTHING
        if self.services:
            return Viewer(services=self.services)
        return Viewer(citizen_id=self.person_id)


def principal_from_claims(claims: dict[str, object]) -> Principal:
    """The principal of a verified RFC 9068 access token (claims as the token server mints them)."""
    kind: Literal["person", "client"] = "client" if claims.get("principal_type") == "client" else "person"
    scope = claims.get("scope")
    return Principal(kind, str(claims["sub"]), str(claims["client_id"]),
                     str(claims["tenant"]) if claims.get("tenant") else None,
                     _strings(claims.get("roles")), frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
                     _strings(claims.get("services")))


def _strings(value: object) -> frozenset[str]:
    return frozenset(str(item) for item in value) if isinstance(value, list) else frozenset()
