"""openapi.yaml is the public promise: valid, complete, and every route declares who may call it."""

import re

import pytest
from flask import Blueprint, Flask, Response
from openapi_spec_validator import validate

from api import blueprints
from api.access import PUBLIC, access_of, public, undeclared_endpoints
from api.app import create_app
from api.settings import Settings
from support.contract import document
from townhall.auth.scopes import PLATFORM_SCOPES, SCOPES
from townhall.services.registry import SERVICE_TYPES

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def is_page(endpoint: str) -> bool:
    """The consoles and the portal are pages for people, outside the API's contract (ADR 0012)."""
    return endpoint.split(".", maxsplit=1)[0] in ("console", "consortium", "console_assets", "portal")


def flask_operations(app: Flask) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if is_page(rule.endpoint):
            continue
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


# JSON Schema 2020-12 and the OpenAPI 3.1 additions: any other key in a schema is a typo, or a flow
# mapping cut short by an unquoted comma (YAML turns the rest of a description into a key).
SCHEMA_KEYWORDS = {
    "$id", "$schema", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$defs", "$comment", "$vocabulary",
    "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "prefixItems", "items",
    "contains", "properties", "patternProperties", "additionalProperties", "propertyNames",
    "unevaluatedItems", "unevaluatedProperties", "type", "enum", "const", "multipleOf", "maximum",
    "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems",
    "minItems", "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties", "required",
    "dependentRequired", "format", "contentEncoding", "contentMediaType", "contentSchema", "title",
    "description", "default", "deprecated", "readOnly", "writeOnly", "examples", "example",
    "discriminator", "xml", "externalDocs",
}
SUBSCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
SUBSCHEMA = {"not", "if", "then", "else", "items", "contains", "additionalProperties", "propertyNames",
             "unevaluatedItems", "unevaluatedProperties", "contentSchema"}
SUBSCHEMA_MAPS = {"properties", "patternProperties", "$defs", "dependentSchemas"}


def unknown_schema_keys(schema: object, where: str) -> list[str]:
    if not isinstance(schema, dict):
        return []
    found = [f"{where}: {key!r}" for key in schema if key not in SCHEMA_KEYWORDS and not str(key).startswith("x-")]
    for key, value in schema.items():
        if key in SUBSCHEMA:
            found += unknown_schema_keys(value, f"{where}.{key}")
        elif key in SUBSCHEMA_LISTS and isinstance(value, list):
            for index, item in enumerate(value):
                found += unknown_schema_keys(item, f"{where}.{key}[{index}]")
        elif key in SUBSCHEMA_MAPS and isinstance(value, dict):
            for name, item in value.items():
                found += unknown_schema_keys(item, f"{where}.{key}.{name}")
    return found


def schemas_in(node: object, where: str = "") -> list[tuple[str, object]]:
    """Every schema the document holds outside components.schemas: under `schema` keys."""
    found: list[tuple[str, object]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "schema":
                found.append((f"{where}.schema", value))
            else:
                found += schemas_in(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += schemas_in(item, f"{where}[{index}]")
    return found


def test_no_schema_of_the_contract_holds_an_unknown_keyword() -> None:
    contract = document()
    schemas = [(f"components.schemas.{name}", schema) for name, schema in contract["components"]["schemas"].items()]
    schemas += schemas_in({key: value for key, value in contract.items() if key != "components"})
    schemas += schemas_in({key: value for key, value in contract["components"].items() if key != "schemas"})
    assert [problem for where, schema in schemas for problem in unknown_schema_keys(schema, where)] == []


def test_every_operation_has_a_success_answer() -> None:
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "patch", "delete"}:
                assert any(code.startswith(("2", "3")) for code in operation["responses"]), f"{method} {path}"


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
        if is_page(rule.endpoint):
            assert declared == PUBLIC or str(declared).startswith(("console:", "portal:")), rule.rule
            continue
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


def test_the_contract_names_exactly_the_services_the_platform_runs() -> None:
    assert document()["components"]["schemas"]["ServiceCode"]["enum"] == list(SERVICE_TYPES)
