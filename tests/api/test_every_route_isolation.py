"""Every protected route of a municipality, called with a token of another municipality that holds
every scope, is refused before it reads or changes anything."""

import re
import uuid
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.access import PUBLIC, access_of
from support.contract import assert_problem
from support.oauth import bearer, register, token
from tenants.models import Tenant
from townhall.auth.scopes import SCOPES

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
