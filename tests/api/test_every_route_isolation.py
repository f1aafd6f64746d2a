"""Every protected route of a municipality, called with a token of another municipality that holds
every scope, is refused before it reads or changes anything; and every write route, called by the
municipality's own client, leaves one audit entry when it succeeds and none when it is refused."""

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from api.access import PUBLIC, access_of
from api.database import database
from support.contract import assert_problem
from support.evidence import eid_form
from support.oauth import bearer, data, register, token
from tenants.models import Tenant
from townhall.audit.models import AuditChain, AuditEntry
from townhall.auth.operations import create_user
from townhall.auth.scopes import SCOPES
from townhall.tenancy import tenant_scope

pytestmark = pytest.mark.usefixtures("signing_key")

SAMPLES = {"uuid": str(uuid.UUID(int=1)), "int": "1", "client_id": "aalst.abcdefgh12",
           "event_type": "case.created"}


def _path(rule: str) -> str:
    """A concrete path for a route (its tenant aalst), each variable given a value of its kind."""
    path = rule.replace("<slug:tenant>", "aalst")
    path = re.sub(r"<any\(([a-z_]+)[^>]*>", r"\1", path)  # the first of the values it allows
    return re.sub(r"<(?:([a-z_]+)(?:\([^)]*\))?:)?[a-z_]+>", lambda found: SAMPLES.get(found.group(1) or "", "x1"),
                  path)


def test_no_protected_route_answers_another_municipalitys_token(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("aalst", "41002")
    stranger = bearer(token(client, register(app, make_tenant("ronse", "45041"), sorted(SCOPES))))
    tried = 0
    for rule in app.url_map.iter_rules():
        declared = str(access_of(app.view_functions[rule.endpoint]))
        # The console's and the portal's pages take no tokens, only their own sessions
        # (tests/api/test_console.py, tests/api/test_portal.py).
        if not rule.rule.startswith("/t/<slug:tenant>/") or declared == PUBLIC \
                or declared.startswith(("console:", "portal:")):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            answer = client.open(_path(rule.rule), method=method, headers=stranger, json={})
            assert answer.status_code == 401, f"{method} {_path(rule.rule)}: {answer.status_code}"
            assert_problem(answer, 401)
            tried += 1
    assert tried >= 50  # every protected route of a municipality (59 today), not a handful


def _audited(app: Flask, tenant: Tenant) -> int:
    with app.app_context(), database().sessions() as session, tenant_scope(session, tenant.id):
        return int(session.scalar(select(AuditChain.seq).where(AuditChain.tenant_id == tenant.id)) or 0)


def test_every_write_route_leaves_one_audit_entry_when_it_succeeds_and_none_when_refused(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]
) -> None:
    """Each write route of a municipality, called by its own all-scope client with an empty body:
    an answer of 400 or more leaves no entry, a creation exactly one, any other success at most one
    (none when it changed nothing, as an empty merge patch)."""
    aalst = make_tenant("aalst", "41002")
    own = bearer(token(client, register(app, aalst, sorted(SCOPES))))
    outcomes = {"refused": 0, "done": 0}
    for rule in app.url_map.iter_rules():
        declared = str(access_of(app.view_functions[rule.endpoint]))
        if not rule.rule.startswith("/t/<slug:tenant>/v1/") or declared.startswith("console:"):
            continue
        for method in sorted((rule.methods or set()) - {"GET", "HEAD", "OPTIONS"}):
            before = _audited(app, aalst)
            answer = client.open(_path(rule.rule), method=method, headers=own | {"If-Match": '"v1"'}, json={})
            added = _audited(app, aalst) - before
            where = f"{method} {_path(rule.rule)}: {answer.status_code}, {added} entries"
            if answer.status_code >= 400:
                assert added == 0, where
            else:
                assert added == 1 if answer.status_code == 201 else added in (0, 1), where
            outcomes["refused" if answer.status_code >= 400 else "done"] += 1
    assert sum(outcomes.values()) >= 35 and outcomes["done"] >= 1, outcomes  # 39 write routes today


def test_each_kind_of_successful_write_leaves_exactly_one_entry(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]
) -> None:
    """The success side of the walk above: a municipality's own client makes a real change through
    each of a dozen write routes (configuration, cases, members), each leaving exactly one entry that
    names its route."""
    aalst = make_tenant("aalst", "41002")
    with app.app_context(), database().unit_of_work() as session:
        for email in ("jan@example.org", "an@example.org"):
            create_user(session, {"email": email, "display_name": email.split("@")[0]})
    own = bearer(token(client, register(app, aalst, sorted(SCOPES))))
    merge = {"Content-Type": "application/merge-patch+json"}
    hours = {day: [["08:30", "12:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    done: list[str] = []

    def write(method: str, path: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
        before = _audited(app, aalst)
        answer = client.open(f"/t/aalst/v1{path}", method=method, json=body, headers=own | headers)
        assert 200 <= answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.get_data(as_text=True)}"
        assert _audited(app, aalst) - before == 1, f"{method} {path}"
        done.append(f"{method} {path}")
        return data(answer) if answer.get_data() else {}

    def etag(path: str) -> str:
        return str(client.get(f"/t/aalst/v1{path}", headers=own).headers["ETag"])

    write("PUT", "/admin/services/eid-card", {"processing_days": 7}, **{"If-Match": "*"})
    made = write("POST", "/clients", {"name": "Registry sync", "kind": "confidential",
                                      "grant_types": ["client_credentials"], "scopes": ["events:write"]})
    path = f"/clients/{made['client_id']}"
    write("PATCH", path, {"name": "Registry sync 2"}, **merge, **{"If-Match": etag(path)})
    write("POST", f"{path}/secret", {}, **{"If-Match": etag(path)})
    write("POST", "/offices", {"name": "Stadhuis", "address": "Grote Markt 3, 9300 Aalst", "lat": 50.93,
                               "long": 4.04, "hours": hours, "services": [
                                   {"service": "eid-card", "duration_minutes": 15, "counters": 1}]})
    rule = write("POST", "/rules", {"kind": "deadline", "service": "eid-card", "expression": "10"})
    write("POST", f"/rules/{rule['id']}/activation", {"version": 1}, **{"If-Match": "*"})
    case = write("POST", "/cases", {"service": "eid-card", "form": eid_form(), "citizen": "jan@example.org"})
    write("POST", f"/cases/{case['id']}/messages", {"body": "Graag op zaterdag."})
    write("POST", "/members", {"user": "an@example.org", "role": "case_worker"})
    write("PATCH", "/admin/branding", {"primary_colour": "#003366"}, **merge,
          **{"If-Match": etag("/admin/branding")})
    with app.app_context(), database().sessions() as session, tenant_scope(session, aalst.id):
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.tenant_id == aalst.id)
                                       .order_by(AuditEntry.seq)))
    assert len(actions) == len(done) == 11
    assert [a.split(" ")[0] for a in actions] == [d.split(" ")[0] for d in done]
