"""Requests generated from openapi.yaml (schemathesis, valid and invalid data) against the app: no
5xx, every answer in the contract, and no request the contract calls valid refused as invalid."""

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from api.app import create_app
from api.database import database
from api.settings import Settings
from factories import Town, build_rules_town, build_tenant
from support.contract import document
from support.suite import empty_all_tables
from tenants.models import Tenant
from townhall.auth.keys import ensure_signing_key

pytestmark = pytest.mark.committed  # one municipality for every generated request, emptied at the end

# NUL characters are refused everywhere (the contract's introduction says so), not per field.
CONFIG = SchemathesisConfig.from_str("""
[generation]
allow-x00 = false
""")
SCHEMA = schemathesis.openapi.from_dict(document(), config=CONFIG)


def _operations() -> dict[str, Any]:
    found = {}
    for result in SCHEMA.get_all_operations():
        assert isinstance(result, Ok), result  # a part of the contract schemathesis cannot read
        found[result.ok().label] = result.ok()
    return found


OPERATIONS = _operations()
# Per operation and mode: bounded, so that CI stays short (TOWNHALL_FUZZ_EXAMPLES=200 for a long hunt).
EXAMPLES = int(os.environ.get("TOWNHALL_FUZZ_EXAMPLES", "12"))


def _has_input(label: str) -> bool:
    """Negative data needs something to make invalid: a parameter or a body."""
    method, path = label.split(" ", 1)
    item = document()["paths"][path]
    return bool(item.get("parameters") or item[method.lower()].get("parameters")
                or item[method.lower()].get("requestBody"))


CASES = [(label, mode) for label in sorted(OPERATIONS)
         for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if mode.is_positive or _has_input(label)]

# Refusals of valid-looking input that depend on state, not on shape: the schema cannot say them
# (a client or grant that does not exist, a cursor this API did not give out, a rule's verdict).
STATE_CODES = {"refused", "invalid_cursor", "invalid_client", "invalid_grant", "unauthorized_client",
               "unsupported_grant_type", "invalid_scope", "invalid_target", "precondition_failed",
               "precondition_required"}


# Fields whose validity no JSON Schema can state, checked by the server and described in the
# contract: CEL that compiles, examples the rule passes, hours that run forward.
CHECKED_BY_SERVER = {
    "POST /t/{tenant}/v1/rules": ("expression", "examples", "trigger", "action", "template"),
    "POST /t/{tenant}/v1/rules/{rule_id}/versions": ("expression", "examples", "action", "template"),
    "POST /t/{tenant}/v1/rules/{rule_id}/evaluate": ("input",),
    "POST /t/{tenant}/v1/offices": ("hours", "exceptions"),
    "PUT /t/{tenant}/v1/offices/{office_id}": ("hours", "exceptions"),
}


def _refused_by_shape(label: str, response: Any) -> str | None:
    """Why a schema-valid request was refused for its shape, or None when it was not."""
    if response.status_code not in (400, 412, 415, 422, 428):
        return None
    if not response.headers.get("Content-Type", "").startswith(("application/problem+json", "application/json")):
        return None  # the sign-in pages: an unknown client is state
    body = json.loads(response.content or b"{}")
    code = body.get("code") or body.get("error")
    if code in STATE_CODES:
        return None
    fields = CHECKED_BY_SERVER.get(label, ())
    if code == "validation_failed" and body.get("errors") and all(
            key.split(".")[0] in fields for key in body["errors"]):
        return None
    return f"{response.status_code} {code}: {body}"


@pytest.fixture(scope="module")
def town(settings: Settings) -> Iterator[tuple[Flask, Town]]:
    application = create_app(settings)
    with application.app_context(), database().unit_of_work() as session:
        ensure_signing_key(session, settings.access_token_lifetime)

    def make_tenant(slug: str, nis_code: str) -> Tenant:
        return build_tenant(application, slug, nis_code, names={"nl": slug.title()})

    yield application, build_rules_town(application, application.test_client(), make_tenant)
    application.extensions["townhall.database"].engine.dispose()
    empty_all_tables(settings)


# schemathesis' WSGI transport leaves a file response (the vendored docs assets) unclosed.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning", "ignore::ResourceWarning")
@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{label} {mode.value}" for label, mode in CASES])
def test_generated_requests_get_answers_the_contract_promises(
    town: tuple[Flask, Town], label: str, mode: GenerationMode
) -> None:
    application, municipality = town
    operation = OPERATIONS[label]

    @given(operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def one_request(case: Any) -> None:
        if mode.is_positive and "tenant" in (case.path_parameters or {}):
            case.path_parameters["tenant"] = "aalst"  # the municipality that exists
        headers = municipality.headers["admin"] if case.path.startswith("/t/") else {}
        response = case.call(headers=headers, app=application)
        # A stale If-Match is refused (412) before the body is read (RFC 9110 §13.2.1): a refusal too.
        excluded = [positive_data_acceptance] + ([negative_data_rejection] if response.status_code == 412 else [])
        case.validate_response(response, excluded_checks=excluded, headers=headers)
        if mode.is_positive:
            refusal = _refused_by_shape(label, response)
            assert refusal is None, f"{case.method} {case.formatted_path}: schema-valid request refused: {refusal}"

    one_request()
