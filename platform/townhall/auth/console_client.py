"""The platform's own front-ends' OAuth clients: `<slug>.townhall-console` in each municipality,
`platform.townhall-console` for the consortium's console, and `<slug>.townhall-portal`, each
municipality's portal for citizens. Each is a public client (PKCE) whose one
redirect URI is its console's callback. The platform runs them, so the person is not asked to
consent; they ask for the least scope, since every page decides from the person's current roles."""

import uuid

from sqlalchemy.orm import Session

from townhall.auth.models import OAuthClient, PlatformClient
from townhall.auth.operations import CONSOLE_NAME_PART, create_client, create_platform_client, update_client
from townhall.auth.queries import client_by_id, platform_client_by_id
from townhall.auth.schemas import redirect_uri_problem
from townhall.errors import InvalidInput

NAME_PART = CONSOLE_NAME_PART
SCOPE = "catalog:read"


def console_client_id(slug: str) -> str:
    return f"{slug}.{NAME_PART}"


def callback_url(base_url: str, slug: str) -> str:
    return f"{base_url}/t/{slug}/admin/callback"


def ensure_console_client(session: Session, tenant_id: uuid.UUID, slug: str, base_url: str) -> OAuthClient:
    """The console's client, registered on first use and kept pointing at the address served."""
    wanted = [callback_url(base_url, slug)]
    client = client_by_id(session, console_client_id(slug))
    if client is None:
        client, _ = create_client(session, tenant_id, slug, {
            "name": "Townhall console", "kind": "public", "grant_types": ["authorization_code"],
            "redirect_uris": wanted, "scopes": [SCOPE]}, name_part=NAME_PART)
    elif client.redirect_uris != wanted:
        update_client(session, client, {"redirect_uris": wanted})
    return client


CONSORTIUM_CLIENT_ID = f"platform.{NAME_PART}"
CONSORTIUM_SCOPE = "cases:read"  # what anyone may grant a platform front-end


def consortium_callback_url(base_url: str) -> str:
    return f"{base_url}/console/callback"


def ensure_consortium_console_client(session: Session, base_url: str) -> PlatformClient:
    wanted = [consortium_callback_url(base_url)]
    client = platform_client_by_id(session, CONSORTIUM_CLIENT_ID)
    if client is None:
        client, _ = create_platform_client(session, {
            "name": "Townhall consortium console", "kind": "public", "grant_types": ["authorization_code"],
            "redirect_uris": wanted, "scopes": [CONSORTIUM_SCOPE]}, name_part=NAME_PART)
    elif client.redirect_uris != wanted:
        problem = redirect_uri_problem(wanted[0])
        if problem:
            raise InvalidInput({"redirect_uris": [problem]})
        client.redirect_uris = wanted
        session.flush()
    return client


def is_console_client(client_id: str, slug: str | None) -> bool:
    """One of the consoles' own clients (a municipality's, or the consortium's)."""
    return client_id == CONSORTIUM_CLIENT_ID or (slug is not None and client_id == console_client_id(slug))


PORTAL_NAME_PART = "townhall-portal"
PORTAL_SCOPE = "cases:read cases:write"  # what the portal's pages do for the citizen


def portal_client_id(slug: str) -> str:
    return f"{slug}.{PORTAL_NAME_PART}"


def portal_callback_url(base_url: str, slug: str) -> str:
    return f"{base_url}/t/{slug}/callback"


def ensure_portal_client(session: Session, tenant_id: uuid.UUID, slug: str, base_url: str) -> OAuthClient:
    """The portal's client, registered on first use and kept pointing at the address served."""
    wanted = [portal_callback_url(base_url, slug)]
    client = client_by_id(session, portal_client_id(slug))
    if client is None:
        client, _ = create_client(session, tenant_id, slug, {
            "name": "Townhall portal", "kind": "public", "grant_types": ["authorization_code"],
            "redirect_uris": wanted, "scopes": PORTAL_SCOPE.split()}, name_part=PORTAL_NAME_PART)
    elif client.redirect_uris != wanted:
        update_client(session, client, {"redirect_uris": wanted})
    return client


def is_platform_front_end(client_id: str, slug: str | None) -> bool:
    """A console's or a portal's client: people sign in to the platform itself, nothing to consent to."""
    return is_console_client(client_id, slug) or (slug is not None and client_id == portal_client_id(slug))
