"""The consoles' own OAuth client in each municipality: `<slug>.townhall-console`, a public client (PKCE) whose
one redirect URI is the console's callback. The platform runs it, so the person is not asked to
consent to it; it asks for the least scope, since every page decides from the person's current roles."""

import uuid

from sqlalchemy.orm import Session

from townhall.auth.models import OAuthClient
from townhall.auth.operations import create_client, update_client
from townhall.auth.queries import client_by_id

NAME_PART = "townhall-console"
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


def is_console_client(client_id: str, slug: str | None) -> bool:
    return slug is not None and client_id == console_client_id(slug)
