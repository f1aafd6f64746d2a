"""Scopes (what a token may do) and roles (what a person is in a tenant). One list, documented in
openapi.yaml's securitySchemes."""

SCOPES: dict[str, str] = {
    "catalog:read": "Read the tenant's service catalogue.",
    "cases:read": "Read cases.",
    "cases:write": "Create cases and act on them.",
    "appointments:read": "Read appointments.",
    "appointments:write": "Book, move and cancel appointments.",
    "events:write": "Send life events from source registers.",
    "webhooks:manage": "Manage webhook subscriptions.",
    "clients:manage": "Manage the tenant's OAuth clients.",
    "members:manage": "Manage the tenant's staff memberships.",
    "config:write": "Change the tenant's configuration (branding, rules, services).",
    "audit:read": "Read the tenant's audit trail.",
    "privacy:manage": "Answer people's data requests: export and erase a person's data (GDPR Art. 15, 17, 20).",
}

PLATFORM_SCOPES: dict[str, str] = {
    "platform:manage": "Manage municipalities, shared back-office teams and delegations (platform operators).",
}
"""Scopes of the platform API (`/v1`); never in a municipality's token."""

ALL_SCOPES: frozenset[str] = frozenset(SCOPES) | frozenset(PLATFORM_SCOPES)
"""Every scope a token may carry, municipal or platform: what the server metadata advertises."""

PERSON_PLATFORM_SCOPES: frozenset[str] = frozenset({"cases:read"})
"""What anyone may grant a platform front-end on the platform API: their own cases in every
municipality, and (shared back-office staff) the cases delegated to their teams."""

PLATFORM_OPERATOR = "platform_operator"
TENANT_ADMIN = "tenant_admin"
CASE_WORKER = "case_worker"
CITIZEN = "citizen"
"""The workflow role of a person acting for themselves (not a membership role)."""
TENANT_ROLES = (TENANT_ADMIN, CASE_WORKER)

# The most a person in a role can hold; a token carries the intersection with what was asked for.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    TENANT_ADMIN: frozenset({"catalog:read", "clients:manage", "members:manage", "config:write",
                             "audit:read", "privacy:manage", "webhooks:manage", "cases:read",
                             "appointments:read"}),
    CASE_WORKER: frozenset({"catalog:read", "cases:read", "cases:write", "appointments:read",
                            "appointments:write"}),
}

CITIZEN_SCOPES: frozenset[str] = frozenset({"catalog:read", "cases:read", "cases:write", "appointments:read",
                                            "appointments:write"})
"""What anyone may grant a front-end for themselves: their own cases and appointments."""

ALL_SERVICES = "*"
"""A delegation of every service of a municipality to a team."""
