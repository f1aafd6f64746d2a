"""The demo consortium's people and clients: per municipality a partner client, a citizen portal
client, a client for the docs page's Authorize button, a tenant admin and a case worker; one shared
back-office team with delegations from two municipalities; one citizen.

Secrets and passwords are random. Only their hashes are stored, so the demo keeps them in
instance/demo.json and reuses them on the next seed; a secret that was lost is replaced.
"""

import secrets
from typing import Any

from sqlalchemy.orm import Session

from tenants.models import Tenant
from townhall.auth.console_client import ensure_console_client
from townhall.auth.models import User
from townhall.auth.operations import (
    add_membership,
    add_team_member,
    create_client,
    create_platform_client,
    create_team,
    create_user,
    delegate,
    rotate_client_secret,
    update_client,
)
from townhall.auth.passwords import hash_password, verify_password
from townhall.auth.queries import (
    access_in_tenant,
    client_by_id,
    platform_client_by_id,
    team_by_slug,
    user_by_email,
)
from townhall.auth.schemas import redirect_uri_problem
from townhall.auth.scopes import CASE_WORKER, CITIZEN_SCOPES, ROLE_SCOPES, TENANT_ADMIN
from townhall.tenancy import tenant_scope

PORTAL_REDIRECT = "http://127.0.0.1:8765/callback"
TEAM = ("dender-backoffice", "Dender shared back office")
DELEGATIONS = {"aalst": ["eid-card", "travel-document"], "ninove": ["*"]}
PARTNER = {"name": "Partner integration", "kind": "confidential", "grant_types": ["client_credentials"],
           "scopes": ["catalog:read", "cases:read", "cases:write", "appointments:read",
                      "appointments:write", "events:write", "webhooks:manage"]}
PORTAL = {"name": "Citizen portal", "kind": "public", "grant_types": ["authorization_code", "refresh_token"],
          "redirect_uris": [PORTAL_REDIRECT],
          "scopes": ["catalog:read", "cases:read", "cases:write", "appointments:read", "appointments:write"]}
# The docs page (/docs) signs people in with Swagger UI's redirect page: a public PKCE client per
# municipality, `<slug>.demo-docs`, whose redirect URI is that page on the served base URL.
DOCS_CLIENT = "demo-docs"
DOCS_REDIRECT_PATH = "/docs/oauth2-redirect.html"
DOCS = {"name": "API documentation (/docs)", "kind": "public", "grant_types": ["authorization_code"],
        "scopes": sorted(CITIZEN_SCOPES.union(*ROLE_SCOPES.values()))}
ADMIN = {"name": "Admin console", "kind": "confidential", "grant_types": ["client_credentials"],
         "scopes": ["clients:manage", "members:manage", "config:write", "audit:read"]}


def docs_client_id(slug: str) -> str:
    return f"{slug}.{DOCS_CLIENT}"


class DemoIdentity:
    """Seeds people and clients, reusing the credentials a previous seed wrote down. Redirect URIs
    on Townhall itself follow `base_url`, the one being served (a new port updates them)."""

    def __init__(self, session: Session, known: dict[str, Any], base_url: str) -> None:
        self.session = session
        self.base_url = base_url
        self.known_secrets = {c["client_id"]: c.get("client_secret") for c in known.get("clients", [])}
        self.known_passwords = {u["email"]: u["password"] for u in known.get("users", [])}
        self.clients: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {}

    def person(self, email: str, name: str) -> User:
        password = self.known_passwords.get(email) or secrets.token_urlsafe(12)
        user = user_by_email(self.session, email)
        if user is None:
            user = create_user(self.session, {"email": email, "display_name": name, "password": password})
        elif not verify_password(user.password_hash, password):
            user.password_hash = hash_password(password)  # the written-down password was lost: set anew
        self.users.setdefault(email, {"email": email, "password": password, "roles": [], "tenants": []})
        return user

    def grant(self, user: User, tenant: Tenant, role: str) -> None:
        with tenant_scope(self.session, tenant.id):
            if role not in access_in_tenant(self.session, user.id, tenant.id).roles:
                add_membership(self.session, tenant.id, user, role, actor="demo-seed")
        entry = self.users[user.email]
        entry["roles"] = sorted({*entry["roles"], role})
        entry["tenants"] = sorted({*entry["tenants"], tenant.slug})

    def client(self, tenant: Tenant, name_part: str, data: dict[str, Any]) -> None:
        client_id = f"{tenant.slug}.{name_part}"
        with tenant_scope(self.session, tenant.id):
            existing = client_by_id(self.session, client_id)
            if existing is None:
                _, secret = create_client(self.session, tenant.id, tenant.slug, data, name_part=name_part,
                                          actor="demo-seed")
            else:
                secret = self.known_secrets.get(client_id)
                if data["kind"] == "confidential" and not secret:
                    secret = rotate_client_secret(self.session, existing)
                if existing.redirect_uris != data.get("redirect_uris", existing.redirect_uris):
                    update_client(self.session, existing, {"redirect_uris": data["redirect_uris"]})
        entry = {"tenant": tenant.slug, "client_id": client_id, "grant_types": data["grant_types"],
                 "scopes": data["scopes"], "redirect_uris": data.get("redirect_uris", [])}
        if secret:
            entry["client_secret"] = secret
        self.clients.append(entry)

    def console_client(self, tenant: Tenant) -> None:
        """The console's sign-in client (`/t/<slug>/admin/`), as the console registers it itself."""
        with tenant_scope(self.session, tenant.id):
            client = ensure_console_client(self.session, tenant.id, tenant.slug, self.base_url)
        self.clients.append({"tenant": tenant.slug, "client_id": client.client_id, "grant_types": client.grant_types,
                             "scopes": client.scopes, "redirect_uris": client.redirect_uris,
                             "console": f"{self.base_url}/t/{tenant.slug}/admin/"})

    def seed(self, tenants: list[Tenant]) -> dict[str, Any]:
        # A client may redirect to https or to plain http on loopback only: served elsewhere over
        # http (HOST=0.0.0.0), the docs page has no client and a token is pasted in instead.
        page = self.base_url + DOCS_REDIRECT_PATH
        docs_redirect = None if redirect_uri_problem(page) else page
        for tenant in tenants:
            self.client(tenant, "demo-partner", PARTNER)
            self.client(tenant, "demo-portal", PORTAL)
            self.client(tenant, "demo-admin", ADMIN)
            if docs_redirect is not None:
                self.client(tenant, DOCS_CLIENT, DOCS | {"redirect_uris": [docs_redirect]})
                self.console_client(tenant)
            self.grant(self.person(f"admin.{tenant.slug}@demo.example", f"Admin {tenant.slug}"), tenant, TENANT_ADMIN)
            self.grant(self.person(f"worker.{tenant.slug}@demo.example", f"Case worker {tenant.slug}"), tenant,
                       CASE_WORKER)
        team = team_by_slug(self.session, TEAM[0]) or create_team(self.session, *TEAM)
        backoffice = self.person("backoffice@demo.example", "Back-office worker")
        add_team_member(self.session, team, backoffice)
        self.users[backoffice.email]["roles"] = ["team:" + TEAM[0]]
        for tenant in tenants:
            wanted = DELEGATIONS.get(tenant.slug, [])
            with tenant_scope(self.session, tenant.id):
                present = access_in_tenant(self.session, backoffice.id, tenant.id).delegated_services
                for service in wanted:
                    if service not in present:
                        delegate(self.session, tenant.id, team, service, "demo-seed")
            if wanted:
                self.users[backoffice.email]["tenants"].append(tenant.slug)
        self.person("citizen@demo.example", "Demo citizen")
        self.users["citizen@demo.example"]["roles"] = ["citizen"]
        operator = self.person("operator@demo.example", "Platform operator")
        operator.is_platform_operator = True
        self.users[operator.email]["roles"] = ["platform_operator"]
        self.platform_client()
        return {"clients": self.clients, "users": list(self.users.values())}

    def platform_client(self) -> None:
        """One client of the platform itself, for the platform API (`/v1`)."""
        known = [cid for cid in self.known_secrets if cid.startswith("platform.")]
        existing = platform_client_by_id(self.session, known[0]) if known else None
        if existing is None:
            client, secret = create_platform_client(self.session, {
                "name": "Demo operator automation", "kind": "confidential",
                "grant_types": ["client_credentials"], "scopes": ["platform:manage"]})
        else:
            client, secret = existing, str(self.known_secrets[existing.client_id])
        self.clients.append({"tenant": None, "client_id": client.client_id, "client_secret": secret,
                             "grant_types": ["client_credentials"], "scopes": ["platform:manage"],
                             "redirect_uris": []})
