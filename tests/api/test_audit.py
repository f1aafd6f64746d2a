"""Each municipality's audit trail: one entry per change, chained by hash, numbered without gaps;
what a refused or read-only request leaves (nothing); and tampering found where it happened."""

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, text

from api.auditing import AUDITED
from api.cli import cli
from api.database import database
from api.settings import Settings
from api.worker import Worker
from support.contract import assert_problem
from support.evidence import eid_form
from support.oauth import bearer, data, register, register_platform_client, token
from support.suite import empty_all_tables
from tenants.models import Tenant
from townhall.audit.chain import GENESIS, canonical, link
from townhall.auth.operations import create_user
from townhall.db import make_engine
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope

pytestmark = pytest.mark.usefixtures("signing_key")
SCOPES = ["audit:read", "config:write", "cases:write", "cases:read"]
MERGE = {"Content-Type": "application/merge-patch+json"}
CASE = {"service": "eid-card", "form": eid_form(), "citizen": "jan@example.org"}


def _audit(client: FlaskClient, headers: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    return list(data(client.get(f"/t/aalst/v1/audit{query}", headers=headers))["items"])


@pytest.fixture
def admin(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]) -> dict[str, str]:
    tenant = make_tenant("aalst", "41002")
    with app.app_context(), database().unit_of_work() as session:
        create_user(session, {"email": "jan@example.org", "display_name": "Jan"})
        with tenant_scope(session, tenant.id):
            configure_service(session, tenant.id, "eid-card", {})
    return bearer(token(client, register(app, tenant, SCOPES)))


def test_each_change_and_each_read_of_a_person_leaves_one_entry_and_a_refused_request_none(
    client: FlaskClient, admin: dict[str, str]
) -> None:
    assert _audit(client, admin) == []
    etag = client.get("/t/aalst/v1/admin/branding", headers=admin).headers["ETag"]
    assert_problem(client.patch("/t/aalst/v1/admin/branding", json={"primary_colour": "#ffff00"},
                                headers=admin | MERGE | {"If-Match": etag}), 422)  # unreadable: refused
    assert_problem(client.patch("/t/aalst/v1/admin/branding", json={"primary_colour": "#003366"},
                                headers=admin | MERGE | {"If-Match": '"v99"'}), 412)
    assert _audit(client, admin) == []
    changed = client.patch("/t/aalst/v1/admin/branding", json={"primary_colour": "#003366"},
                           headers=admin | MERGE | {"If-Match": etag})
    assert changed.status_code == 200
    case = client.post("/t/aalst/v1/cases", json=CASE, headers=admin)
    assert case.status_code == 201
    assert client.get(f"/t/aalst/v1/cases/{data(case)['id']}", headers=admin).status_code == 200
    assert_problem(client.get(f"/t/aalst/v1/cases/{uuid.uuid4()}", headers=admin), 404)  # refused: none

    first, second, read = _audit(client, admin)
    assert (first["seq"], second["seq"], read["seq"]) == (1, 2, 3)
    # a partner read a person's case: who, which person, which route
    assert read["action"] == "GET /t/<slug:tenant>/v1/cases/<uuid:case_id>" and read["actor"] == first["actor"]
    assert read["object"] == second["object"]
    assert read["summary"] == {"status": 200, "read": [data(case)["citizen_id"]]}
    assert first["action"] == "PATCH /t/<slug:tenant>/v1/admin/branding"
    assert first["object"] == "/t/aalst/v1/admin/branding"
    assert str(first["actor"]).startswith("client:aalst.")
    assert first["summary"] == {"status": 200, "changes": [{"subject": "branding", "changes": {
        "primary_colour": {"from": "#1d4f91", "to": "#003366"}}}]}
    assert second["action"] == "POST /t/<slug:tenant>/v1/cases"
    assert second["object"] == f"/t/aalst/v1/cases/{data(case)['id']}"  # the case it made
    assert first["previous"] == GENESIS and second["previous"] == first["hash"]
    assert first["hash"] == link(GENESIS, canonical(1, _time(first), str(first["actor"]), str(first["action"]),
                                                    str(first["object"]), first["summary"]))


def _time(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(entry["time"]))


def test_the_trail_filters_and_pages(client: FlaskClient, admin: dict[str, str]) -> None:
    for colour in ("#003366", "#330066", "#006633"):
        etag = client.get("/t/aalst/v1/admin/branding", headers=admin).headers["ETag"]
        client.patch("/t/aalst/v1/admin/branding", json={"primary_colour": colour},
                     headers=admin | MERGE | {"If-Match": etag})
    client.post("/t/aalst/v1/cases", json=CASE, headers=admin)
    page = data(client.get("/t/aalst/v1/audit?limit=2", headers=admin))
    rest = data(client.get(page["next"].replace("https://townhall.test", ""), headers=admin))
    assert [e["seq"] for e in page["items"] + rest["items"]] == [1, 2, 3, 4] and rest["next"] is None
    assert [e["seq"] for e in _audit(client, admin, "?action=POST")] == [4]
    assert [e["seq"] for e in _audit(client, admin, "?object=/t/aalst/v1/cases/")] == [4]
    assert len(_audit(client, admin, "?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z")) == 4
    assert _audit(client, admin, "?actor=user:nobody") == []
    assert_problem(client.get("/t/aalst/v1/audit?from=yesterday", headers=admin), 400)
    assert_problem(client.get("/t/aalst/v1/audit?from=2026-01-01T00:00:00", headers=admin), 400)  # no offset
    assert_problem(client.get("/t/aalst/v1/audit?cursor=bm9wZQ", headers=admin), 400)


def test_another_municipality_never_reads_this_trail(
    app: Flask, client: FlaskClient, admin: dict[str, str], make_tenant: Callable[..., Tenant]
) -> None:
    etag = client.get("/t/aalst/v1/admin/branding", headers=admin).headers["ETag"]
    client.patch("/t/aalst/v1/admin/branding", json={"primary_colour": "#003366"},
                 headers=admin | MERGE | {"If-Match": etag})
    ninove = bearer(token(client, register(app, make_tenant("ninove", "41048"), ["audit:read"])))
    assert_problem(client.get("/t/aalst/v1/audit", headers=ninove), 401)
    assert data(client.get("/t/ninove/v1/audit", headers=ninove))["items"] == []
    no_scope = bearer(token(client, register(app, make_tenant("ronse", "45041"), ["config:write"])))
    assert_problem(client.get("/t/ronse/v1/audit", headers=no_scope), 403)


@pytest.fixture
def committed_admin(settings: Settings, app: Flask, client: FlaskClient,
                    make_tenant: Callable[..., Tenant]) -> Iterator[dict[str, str]]:
    tenant = make_tenant("aalst", "41002")
    headers = bearer(token(client, register(app, tenant, SCOPES)))
    for colour in ("#003366", "#330066", "#006633", "#660033"):
        etag = client.get("/t/aalst/v1/admin/branding", headers=headers).headers["ETag"]
        assert client.patch("/t/aalst/v1/admin/branding", json={"primary_colour": colour},
                            headers=headers | MERGE | {"If-Match": etag}).status_code == 200
    yield headers
    empty_all_tables(settings)


@contextmanager
def _as_owner(settings: Settings) -> Iterator[Connection]:
    """What someone with the database owner's password could do (the app's role cannot)."""
    owner = make_engine(settings.migration_database_url)
    try:
        with owner.begin() as connection:
            if owner.dialect.name == "postgresql":
                connection.execute(text("SELECT set_config('app.tenant_id', (SELECT id::text FROM tenants "
                                        "WHERE slug = 'aalst'), true)"))
            yield connection
    finally:
        owner.dispose()


def _owner_runs(settings: Settings, statement: str) -> None:
    with _as_owner(settings) as connection:
        connection.execute(text(statement))


def _verify(app: Flask) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(cli, ["audit", "verify", "--tenant", "aalst"])
    return result.exit_code, result.output


@pytest.mark.committed
def test_an_entry_altered_or_removed_behind_the_app_s_back_is_found_at_its_number(
    settings: Settings, app: Flask, committed_admin: dict[str, str]
) -> None:
    code, output = _verify(app)
    assert code == 0 and "aalst: 4 entries, intact" in output
    _owner_runs(settings, "UPDATE audit_entries SET actor = 'user:someone-else' WHERE seq = 2")
    code, output = _verify(app)
    assert code == 1 and "BROKEN at entry 2: its content does not match its hash" in output


@pytest.mark.committed
def test_a_changed_summary_is_found_and_its_stored_layout_does_not_matter(
    settings: Settings, app: Flask, committed_admin: dict[str, str]
) -> None:
    # The same values written another way (key order, spaces): the content, not its text, is hashed.
    reordered = ('{"changes": [{"changes": {"primary_colour": {"to": "#003366", "from": "#1d4f91"}}, '
                 '"subject": "branding"}], "status": 200}')
    _owner_runs(settings, f"UPDATE audit_entries SET summary = '{reordered}' WHERE seq = 1")
    code, output = _verify(app)
    assert code == 0 and "aalst: 4 entries, intact" in output
    _owner_runs(settings, """UPDATE audit_entries SET summary = '{"status": 500}' WHERE seq = 3""")
    code, output = _verify(app)
    assert code == 1 and "BROKEN at entry 3: its content does not match its hash" in output


@pytest.mark.committed
def test_a_removed_entry_is_found_as_a_gap(settings: Settings, app: Flask, committed_admin: dict[str, str]) -> None:
    _owner_runs(settings, "DELETE FROM audit_entries WHERE seq = 3")
    code, output = _verify(app)
    assert code == 1 and "BROKEN at entry 3: entry 3 is missing" in output


@pytest.mark.committed
def test_a_removed_tail_is_found_against_the_chain_s_head(
    settings: Settings, app: Flask, committed_admin: dict[str, str]
) -> None:
    _owner_runs(settings, "DELETE FROM audit_entries WHERE seq = 4")
    code, output = _verify(app)
    assert code == 1 and "BROKEN at entry 4: the chain's head names entries that are not there" in output


def _rewrite_from(settings: Settings, seq: int) -> None:
    """An owner who rewrites entry `seq` and everything after it, hashes, links and head included:
    the chain alone cannot tell."""
    with _as_owner(settings) as connection:
        rows = connection.execute(text("SELECT seq, time, actor, action, object, summary, previous FROM "
                                       "audit_entries WHERE seq >= :seq ORDER BY seq"), {"seq": seq}).all()
        previous = rows[0].previous
        for row in rows:
            time = row.time if isinstance(row.time, datetime) else datetime.fromisoformat(str(row.time))
            summary = row.summary if isinstance(row.summary, dict) else json.loads(row.summary)
            actor = "user:someone-else" if row.seq == seq else row.actor
            hashed = link(previous, canonical(row.seq, time.replace(tzinfo=UTC) if time.tzinfo is None else time,
                                              actor, row.action, row.object, summary))
            connection.execute(text("UPDATE audit_entries SET actor = :actor, previous = :previous, hash = :hash "
                                    "WHERE seq = :seq"), {"actor": actor, "previous": previous, "hash": hashed,
                                                          "seq": row.seq})
            previous = hashed
        connection.execute(text("UPDATE audit_chains SET hash = :hash"), {"hash": previous})


@pytest.mark.committed
def test_a_rewritten_tail_is_found_against_the_signed_head(
    settings: Settings, app: Flask, committed_admin: dict[str, str]
) -> None:
    sealed = app.test_cli_runner().invoke(cli, ["audit", "seal"])
    assert sealed.exit_code == 0 and "audit heads signed: 1" in sealed.output, sealed.output
    again = app.test_cli_runner().invoke(cli, ["audit", "seal"])
    assert "audit heads signed: 0" in again.output  # the head did not move
    code, output = _verify(app)
    assert code == 0 and "4 entries, intact" in output and "1 signed heads match" in output
    _rewrite_from(settings, 2)
    code, output = _verify(app)
    assert code == 1 and "BROKEN at entry 4: the chain up to here was rewritten" in output, output


def test_the_worker_signs_the_heads_now_and_then_and_applies_retention(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    etag = client.get("/t/aalst/v1/admin/branding", headers=admin).headers["ETag"]
    client.patch("/t/aalst/v1/admin/branding", json={"primary_colour": "#003366"},
                 headers=admin | MERGE | {"If-Match": etag})
    worker = Worker(app.config["TOWNHALL_SETTINGS"], app.extensions["townhall.database"])
    try:
        with app.app_context():
            assert worker.chores() == {"audit heads signed": 1}  # the first round signs (retention: nothing due)
            assert worker.chores() == {}  # not again before TOWNHALL_AUDIT_SEAL_SECONDS
            worker.last_sealed = worker.last_retention = None
            assert worker.chores() == {}  # the head did not move
    finally:
        worker.close()


@pytest.mark.committed
def test_a_forged_seal_is_found(settings: Settings, app: Flask, committed_admin: dict[str, str]) -> None:
    assert app.test_cli_runner().invoke(cli, ["audit", "seal"]).exit_code == 0
    head, payload, signature = _one_value(settings, "SELECT jws FROM audit_seals").split(".")
    forged = base64.urlsafe_b64encode(json.dumps(
        {**json.loads(base64.urlsafe_b64decode(payload + "==")), "hash": "0" * 64}).encode()).decode().rstrip("=")
    _owner_runs(settings, f"UPDATE audit_seals SET jws = '{head}.{forged}.{signature}'")
    code, output = _verify(app)
    assert code == 1 and "BROKEN at entry 4: the head signed at entry 4 has no valid signature" in output, output


def _one_value(settings: Settings, query: str) -> str:
    with _as_owner(settings) as connection:
        return str(connection.execute(text(query)).scalar_one())


def test_every_write_route_that_can_change_a_municipality_passes_the_audit(app: Flask) -> None:
    """The entry is appended where every request commits (api.auditing); only the OAuth endpoints
    (tokens, sign-in: nothing of a municipality's data) are left out, by name."""
    writes = {(rule.endpoint.split(".")[0], rule.rule) for rule in app.url_map.iter_rules()
              if (rule.methods or set()) - {"GET", "HEAD", "OPTIONS"}}
    unaudited = {route for blueprint, route in writes if blueprint not in AUDITED}
    assert unaudited == {route for blueprint, route in writes if blueprint == "oauth"}
    assert any(blueprint == "console" for blueprint, _ in writes) and len(writes) > 60


def test_a_cli_command_that_changes_a_municipality_leaves_one_entry(
    app: Flask, client: FlaskClient, admin: dict[str, str]
) -> None:
    result = app.test_cli_runner().invoke(cli, ["tenants", "branding", "aalst", "--set", "primary_colour=#003366",
                                                "--set", "phone=+32 53 77 93 00"])
    assert result.exit_code == 0, result.output
    [entry] = _audit(client, admin)
    assert entry["action"] == "cli townhall tenants branding" and str(entry["actor"]).startswith("cli:")
    [change] = entry["summary"]["changes"]
    assert change["subject"] == "branding" and set(change["changes"]) == {"primary_colour", "phone"}
    again = app.test_cli_runner().invoke(cli, ["tenants", "branding", "aalst", "--set", "primary_colour=#003366"])
    assert again.exit_code == 0 and len(_audit(client, admin)) == 1  # nothing changed: no entry


def test_the_operator_s_changes_land_in_the_municipality_they_change_and_only_there(
    app: Flask, client: FlaskClient, admin: dict[str, str], make_tenant: Callable[..., Tenant]
) -> None:
    gent = make_tenant("gent", "44021")
    operator = bearer(token(client, register_platform_client(app)))
    # a team named like a municipality: its slug in the path names no municipality
    assert client.post("/v1/teams", json={"slug": "gent", "name": "Gent team"}, headers=operator).status_code == 201
    joined = client.post("/v1/teams/gent/members", json={"user": "jan@example.org"}, headers=operator)
    assert joined.status_code == 201  # the team changed, no municipality did
    delegated = client.post("/v1/tenants/aalst/delegations", json={"team": "gent", "service": "eid-card"},
                            headers=operator)
    assert delegated.status_code == 201
    [entry] = _audit(client, admin)
    assert entry["action"] == "POST /v1/tenants/<slug:slug>/delegations"
    assert entry["summary"]["changes"] == [{"subject": "delegations", "changes": {
        "gent.eid-card": {"from": None, "to": "delegated"}}}]
    gent_auditor = bearer(token(client, register(app, gent, ["audit:read"])))
    assert data(client.get("/t/gent/v1/audit", headers=gent_auditor))["items"] == []  # nothing of Aalst's
