"""`townhall users|members|teams|delegate|clients|keys`: the operator's identity tools."""

import json
from collections.abc import Callable
from datetime import timedelta

from click.testing import Result
from flask import Flask

from api.cli import cli
from api.database import database
from tenants.models import Tenant
from townhall.auth.keys import all_keys, rotate
from townhall.auth.models import KeyStatus
from townhall.clock import utcnow

PASSWORD = "a long enough password"


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(cli, list(args))


def test_people_roles_teams_and_delegations(app: Flask, make_tenant: Callable[..., Tenant]) -> None:
    make_tenant("aalst", "41002")
    new_user = ("users", "create", "--name", "An", "--password", PASSWORD, "--email")
    assert run(app, *new_user, "an@example.org").exit_code == 0
    assert run(app, *new_user, "AN@example.org").exit_code == 1  # the same person, whatever the case
    assert run(app, "members", "add", "aalst", "an@example.org", "tenant_admin").exit_code == 0
    assert "an@example.org" in run(app, "members", "list", "aalst").output
    assert run(app, "members", "add", "aalst", "nobody@example.org", "case_worker").exit_code == 1
    assert run(app, "teams", "create", "backoffice", "--name", "Back office").exit_code == 0
    assert run(app, "teams", "add-member", "backoffice", "an@example.org").exit_code == 0
    result = run(app, "delegate", "aalst", "backoffice", "--service", "eid-card")
    assert result.exit_code == 0 and "aalst delegates eid-card to backoffice" in result.output
    assert run(app, "delegate", "aalst", "nosuchteam").exit_code == 1
    assert run(app, "members", "remove", "aalst", "an@example.org", "tenant_admin").exit_code == 0
    assert "an@example.org" not in run(app, "members", "list", "aalst").output


def test_clients_from_the_cli(app: Flask, make_tenant: Callable[..., Tenant]) -> None:
    make_tenant("aalst", "41002")
    created = run(app, "clients", "create", "aalst", "--name", "Sync", "--grant", "client_credentials",
                  "--scope", "events:write")
    assert created.exit_code == 0, created.output
    client = json.loads(created.output)
    assert client["client_secret"] and client["client_id"].startswith("aalst.")
    listed = run(app, "clients", "list", "aalst").output
    assert client["client_id"] in listed and client["client_secret"] not in listed
    rotated = json.loads(run(app, "clients", "rotate-secret", "aalst", client["client_id"]).output)
    assert rotated["client_secret"] != client["client_secret"]
    assert "disabled" in run(app, "clients", "disable", "aalst", client["client_id"]).output
    refused = run(app, "clients", "create", "aalst", "--name", "Portal", "--public", "--grant", "authorization_code",
                  "--redirect-uri", "http://portal.example/cb", "--scope", "cases:read")
    assert refused.exit_code == 1 and "redirect_uris" in refused.output


def test_platform_clients_from_the_cli(app: Flask) -> None:
    created = json.loads(run(app, "clients", "create-platform", "--name", "Operator automation").output)
    assert created["client_id"].startswith("platform.") and created["client_secret"]
    assert created["scopes"] == ["platform:manage"]


def test_key_rotation_publishes_before_signing_and_retires_after_expiry(app: Flask) -> None:
    lifetime = timedelta(minutes=10)
    with app.app_context(), database().unit_of_work() as session:
        first = rotate(session, lifetime)
        statuses = {k.kid: k.status for k in all_keys(session)}
        assert statuses[first.kid] is KeyStatus.ACTIVE
        (upcoming,) = [kid for kid, status in statuses.items() if status is KeyStatus.NEXT]

        second = rotate(session, lifetime)
        assert second.kid == upcoming  # the key that was published in advance now signs
        statuses = {k.kid: k.status for k in all_keys(session)}
        assert statuses[first.kid] is KeyStatus.RETIRED  # still published for its tokens

        rotate(session, lifetime, now=utcnow() + lifetime + timedelta(seconds=1))
        assert first.kid not in {k.kid for k in all_keys(session)}  # its tokens have all expired


def test_keys_rotate_from_the_cli(app: Flask) -> None:
    result = run(app, "keys", "rotate")
    assert result.exit_code == 0 and result.output.startswith("signing with ")
    listed = run(app, "keys", "list").output
    assert "active" in listed and "next" in listed
    app.extensions["townhall.keyring"].forget()
