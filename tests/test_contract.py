"""openapi.yaml is the public promise: valid, complete, and every route declares who may call it."""

import re

import pytest
from flask import Blueprint, Flask, Response
from openapi_spec_validator import validate

from api import blueprints
from api.access import PUBLIC, access_of, public, undeclared_endpoints
from api.app import create_app
from api.settings import Settings
from contract import document
from townhall.auth.scopes import PLATFORM_SCOPES, SCOPES

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def flask_operations(app: Flask) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        path = re.sub(r"<any\([^)]*\):([a-z_]+)>", r"{\1}", path)
        for method in (rule.methods or set()) - IGNORED_METHODS:
            operations.add((method.lower(), path))
    return operations


def contract_operations() -> set[tuple[str, str]]:
    return {(method, path) for path, item in document()["paths"].items()
            for method in item if method in {"get", "put", "post", "patch", "delete"}}


def test_the_contract_is_a_valid_openapi_3_1_document() -> None:
    assert document()["openapi"].startswith("3.1")
    validate(document())


def test_the_contract_describes_every_route_and_nothing_else(app: Flask) -> None:
    assert flask_operations(app) == contract_operations()


def test_every_operation_documents_its_errors_as_problems() -> None:
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            errors = [code for code in operation["responses"] if code.startswith(("4", "5"))]
            assert errors, f"{method} {path} documents no error response"
            assert "405" in operation["responses"], f"{method} {path}"


def test_every_route_declares_who_may_call_it_and_the_contract_says_the_same(app: Flask) -> None:
    assert undeclared_endpoints(app) == []
    for rule in app.url_map.iter_rules():
        declared = access_of(app.view_functions[rule.endpoint])
        expected = [] if declared == PUBLIC else [{"oauth2": str(declared).removeprefix("scopes:").split()}]
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        path = re.sub(r"<any\([^)]*\):([a-z_]+)>", r"{\1}", path)
        for method in (rule.methods or set()) - IGNORED_METHODS:
            operation = document()["paths"][path][method.lower()]
            assert operation.get("security") == expected, f"{method} {path}: {declared}"


def test_the_contract_lists_exactly_the_scopes_the_platform_knows() -> None:
    flows = document()["components"]["securitySchemes"]["oauth2"]["flows"]
    assert set(flows["clientCredentials"]["scopes"]) == set(SCOPES) | set(PLATFORM_SCOPES)
    assert set(flows["authorizationCode"]["scopes"]) == set(SCOPES)
    assert set(document()["components"]["schemas"]["Scope"]["enum"]) == set(SCOPES)


def test_a_route_without_a_declaration_stops_the_app(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    careless = Blueprint("careless", __name__)

    @careless.get("/careless")
    def forgot_to_declare() -> Response:
        return Response("open by accident")

    monkeypatch.setattr(blueprints, "ALL", (*blueprints.ALL, careless))
    with pytest.raises(RuntimeError, match=r"careless\.forgot_to_declare"):
        create_app(settings)


def test_an_asynchronous_view_stops_the_app(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    eager = Blueprint("eager", __name__)

    @eager.get("/eager")
    @public
    async def awaits_something() -> Response:
        return Response("never awaited by a sync worker")

    monkeypatch.setattr(blueprints, "ALL", (*blueprints.ALL, eager))
    with pytest.raises(RuntimeError, match=r"awaits_something"):
        create_app(settings)
