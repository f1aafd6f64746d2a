"""`townhall users|members|teams|delegations|clients|keys`: identity and access for operators."""

import json
from typing import Any

import click

from api.cli import actor, cli, command_transaction, settings
from tenants.queries import require_tenant
from townhall.auth import keys
from townhall.auth.models import ClientStatus
from townhall.auth.operations import (
    add_membership,
    add_team_member,
    create_client,
    create_platform_client,
    create_team,
    create_user,
    delegate,
    remove_membership,
    require_user,
    rotate_client_secret,
    set_client_status,
)
from townhall.auth.queries import client_by_id, clients_of_tenant, memberships_of_tenant, team_by_slug
from townhall.auth.schemas import GRANT_TYPES
from townhall.auth.scopes import PLATFORM_SCOPES, SCOPES, TENANT_ROLES
from townhall.errors import NotFound
from townhall.tenancy import tenant_scope


@cli.group()
def users() -> None:
    """People: citizens, staff and platform operators."""


@users.command("create")
@click.option("--email", required=True, help="Their e-mail address (the sign-in name).")
@click.option("--name", "display_name", required=True, help="Their name as shown to others.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 12 characters (asked for when not given).")
@click.option("--operator", is_flag=True, help="A platform operator.")
def users_create(email: str, display_name: str, password: str, operator: bool) -> None:
    """Register a person."""
    with command_transaction() as session:
        user = create_user(session, {"email": email, "display_name": display_name, "password": password,
                                     "is_platform_operator": operator})
    click.echo(f"created {user.email}")


@cli.group()
def members() -> None:
    """Staff memberships of a municipality."""


def _change_membership(tenant: str, email: str, role: str, grant: bool) -> None:
    with command_transaction() as session:
        found = require_tenant(session, tenant)
        user = require_user(session, email)
        with tenant_scope(session, found.id):
            (add_membership if grant else remove_membership)(session, found.id, user, role, actor=actor())


@members.command("add")
@click.argument("tenant")
@click.argument("email")
@click.argument("role", type=click.Choice(TENANT_ROLES))
def members_add(tenant: str, email: str, role: str) -> None:
    """Give EMAIL the ROLE in TENANT."""
    _change_membership(tenant, email, role, grant=True)
    click.echo(f"{email} is {role} of {tenant}")


@members.command("remove")
@click.argument("tenant")
@click.argument("email")
@click.argument("role", type=click.Choice(TENANT_ROLES))
def members_remove(tenant: str, email: str, role: str) -> None:
    """Take the ROLE in TENANT away from EMAIL."""
    _change_membership(tenant, email, role, grant=False)
    click.echo(f"{email} is no longer {role} of {tenant}")


@members.command("list")
@click.argument("tenant")
def members_list(tenant: str) -> None:
    """List the staff of TENANT."""
    with command_transaction() as session:
        found = require_tenant(session, tenant)
        with tenant_scope(session, found.id):
            rows = [(user.email, membership.role) for membership, user in memberships_of_tenant(session, found.id)]
    for email, role in rows:
        click.echo(f"{email:<40} {role}")


@cli.group()
def teams() -> None:
    """Shared back-office teams of the consortium."""


@teams.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The team's name.")
def teams_create(slug: str, name: str) -> None:
    """Create a team."""
    with command_transaction() as session:
        create_team(session, slug, name)
    click.echo(f"created team {slug}")


@teams.command("add-member")
@click.argument("team")
@click.argument("email")
def teams_add_member(team: str, email: str) -> None:
    """Put EMAIL in TEAM."""
    with command_transaction() as session:
        found = team_by_slug(session, team)
        if found is None:
            raise NotFound(f"No team '{team}'.")
        add_team_member(session, found, require_user(session, email))
    click.echo(f"{email} is in team {team}")


@cli.command("delegate")
@click.argument("tenant")
@click.argument("team")
@click.option("--service", default="*", show_default=True, help="A service code, or * for all.")
def delegate_command(tenant: str, team: str, service: str) -> None:
    """TENANT lets TEAM handle SERVICE (it stays the competent authority)."""
    with command_transaction() as session:
        found = require_tenant(session, tenant)
        found_team = team_by_slug(session, team)
        if found_team is None:
            raise NotFound(f"No team '{team}'.")
        with tenant_scope(session, found.id):
            delegate(session, found.id, found_team, service, actor())
    click.echo(f"{tenant} delegates {service} to {team}")


@cli.group()
def clients() -> None:
    """OAuth clients of a municipality."""


def _client_summary(client: Any, secret: str | None = None) -> dict[str, Any]:
    summary = {"client_id": client.client_id, "name": client.name, "kind": client.kind.value,
               "grant_types": client.grant_types, "redirect_uris": client.redirect_uris,
               "scopes": client.scopes, "status": client.status.value}
    if secret:
        summary["client_secret"] = secret
    return summary


@clients.command("create")
@click.argument("tenant")
@click.option("--name", required=True, help="The client's name, shown on the sign-in page.")
@click.option("--public", is_flag=True, help="A public client (no secret; browser or mobile app).")
@click.option("--grant", "grant_types", multiple=True, required=True, type=click.Choice(GRANT_TYPES),
              help="A grant type it may use (repeat).")
@click.option("--redirect-uri", "redirect_uris", multiple=True,
              help="Where the authorization code flow may return to (repeat).")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(tuple(SCOPES)),
              help="A scope it may ask for (repeat).")
def clients_create(tenant: str, name: str, public: bool, grant_types: tuple[str, ...],
                   redirect_uris: tuple[str, ...], scopes: tuple[str, ...]) -> None:
    """Register a client; a confidential client's secret is printed this once."""
    with command_transaction() as session:
        found = require_tenant(session, tenant)
        with tenant_scope(session, found.id):
            client, secret = create_client(session, found.id, found.slug, {
                "name": name, "kind": "public" if public else "confidential", "grant_types": list(grant_types),
                "redirect_uris": list(redirect_uris), "scopes": list(scopes)}, actor=actor())
            summary = _client_summary(client, secret)
    click.echo(json.dumps(summary, indent=2))


@clients.command("create-platform")
@click.option("--name", required=True, help="The client's name, shown on the sign-in page.")
@click.option("--public", is_flag=True, help="A public app (no secret) for staff serving several municipalities.")
@click.option("--grant", "grant_types", multiple=True, default=("client_credentials",), show_default=True,
              type=click.Choice(GRANT_TYPES), help="A grant type it may use (repeat).")
@click.option("--redirect-uri", "redirect_uris", multiple=True,
              help="Where the authorization code flow may return to (repeat).")
@click.option("--scope", "scopes", multiple=True, default=("platform:manage",), show_default=True,
              type=click.Choice((*SCOPES, *PLATFORM_SCOPES)), help="A scope it may ask for (repeat).")
def clients_create_platform(name: str, public: bool, grant_types: tuple[str, ...], redirect_uris: tuple[str, ...],
                            scopes: tuple[str, ...]) -> None:
    """Register a client of the platform itself: automation for the platform API (/v1), or an app for
    staff who serve several municipalities (authorization code, `resource` per municipality). A
    confidential client's secret is printed this once."""
    with command_transaction() as session:
        client, secret = create_platform_client(session, {
            "name": name, "kind": "public" if public else "confidential", "grant_types": list(grant_types),
            "redirect_uris": list(redirect_uris), "scopes": list(scopes)})
        summary = {"client_id": client.client_id, "client_secret": secret, "scopes": client.scopes}
    click.echo(json.dumps({k: v for k, v in summary.items() if v is not None}, indent=2))


@clients.command("list")
@click.argument("tenant")
def clients_list(tenant: str) -> None:
    """List the clients of TENANT (never their secrets)."""
    with command_transaction() as session:
        found = require_tenant(session, tenant)
        with tenant_scope(session, found.id):
            rows = [_client_summary(c) for c in clients_of_tenant(session, found.id)]
    click.echo(json.dumps(rows, indent=2))


def _client(tenant: str, client_id: str, change: str) -> None:
    with command_transaction() as session:
        found = require_tenant(session, tenant)
        with tenant_scope(session, found.id):
            client = client_by_id(session, client_id)
            if client is None:
                raise NotFound(f"No client '{client_id}' in {tenant}.")
            if change == "rotate":
                click.echo(json.dumps({"client_id": client_id, "client_secret": rotate_client_secret(
                    session, client, actor=actor())}))
            else:
                set_client_status(session, client, ClientStatus(change), actor=actor())
                click.echo(f"{client_id} {change}")


@clients.command("rotate-secret")
@click.argument("tenant")
@click.argument("client_id")
def clients_rotate_secret(tenant: str, client_id: str) -> None:
    """Give a confidential client a new secret (printed this once); the old one stops working."""
    _client(tenant, client_id, "rotate")


@clients.command("disable")
@click.argument("tenant")
@click.argument("client_id")
def clients_disable(tenant: str, client_id: str) -> None:
    """Stop a client from getting tokens."""
    _client(tenant, client_id, ClientStatus.DISABLED.value)


@cli.group("keys")
def keys_group() -> None:
    """Token signing keys."""


@keys_group.command("rotate")
def keys_rotate() -> None:
    """Sign with the published next key, retire the current one, publish a new next key."""
    with command_transaction() as session:
        active = keys.rotate(session, settings().access_token_lifetime)
    click.echo(f"signing with {active.kid}")


@keys_group.command("list")
def keys_list() -> None:
    """List the signing keys and their status."""
    with command_transaction() as session:
        for key in keys.all_keys(session):
            click.echo(f"{key.kid}  {key.alg}  {key.status.value:<8} {key.created_at:%Y-%m-%d %H:%M}")
