"""Every protected route of a municipality, called with a token of another municipality that holds
every scope, is refused before it reads or changes anything; and every write route, called by the
municipality's own client, leaves one audit entry when it succeeds and none when it is refused."""

import re
import uuid
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from api.access import PUBLIC, access_of
from api.database import database
from support.contract import assert_problem
from support.oauth import bearer, register, token
from tenants.models import Tenant
from townhall.audit.models import AuditChain
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
        # The console's pages take no tokens, only their own sessions (tests/api/test_console.py).
        if not rule.rule.startswith("/t/<slug:tenant>/") or declared == PUBLIC or declared.startswith("console:"):
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
