"""Validates real responses against openapi.yaml: path, method, status, media type and body."""

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT_URI = "urn:townhall:openapi"


@cache
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    return loaded


@cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(document(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)
    return registry


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@cache
def _path_patterns() -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    for template in document()["paths"]:
        regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        patterns.append((re.compile(f"^{regex}$"), template))
    # The most literal template first: `/appointments/{id}.ics` before `/appointments/{id}`.
    return sorted(patterns, key=lambda pair: -len(re.sub(r"\{[^}]+\}", "", pair[1])))


def _absolute_refs(node: Any) -> Any:
    """Point the document-local `$ref`s of an inline schema at the registered document."""
    if isinstance(node, dict):
        return {k: (DOCUMENT_URI + v if k == "$ref" and v.startswith("#") else _absolute_refs(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_absolute_refs(v) for v in node]
    return node


def schema_errors(schema_pointer: str, instance: Any) -> list[str]:
    validator = Draft202012Validator({"$ref": f"{DOCUMENT_URI}{schema_pointer}"}, registry=_registry())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status, valid against our Problem schema."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = json.loads(response.get_data())
    assert body["status"] == status
    errors = schema_errors("#/components/schemas/Problem", body)
    assert not errors, errors
    return body


def assert_oauth_error(response: TestResponse, status: int, error: str) -> dict[str, Any]:
    """The response is an RFC 6749 §5.2 error with this status and code, valid against OAuthError."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body: dict[str, Any] = json.loads(response.get_data())
    assert body["error"] == error, body
    errors = schema_errors("#/components/schemas/OAuthError", body)
    assert not errors, errors
    return body


# Pages for people: a municipality's console and portal (all under /t/<slug>/ but its API), the
# consortium's console, and their assets.
PAGES = re.compile(r"^/t/[a-z0-9-]+/(?!v1(/|$))|^/console(/|$)|^/assets/")


def validate_response(method: str, path: str, response: TestResponse) -> None:
    """Fail unless the contract documents this response and its body matches the schema."""
    if PAGES.match(path):
        # Pages for people, not the API: HTML or a redirect, never a crash.
        kinds = ("text/html", "text/css", "text/javascript", "application/problem+json",
                 "text/calendar", "application/pdf", "image/png", "image/jpeg")  # and a person's downloads
        assert response.status_code < 500, (path, response.status_code)
        assert response.status_code in (301, 302, 303, 304) or response.mimetype in kinds, path
        return
    template = next((t for pattern, t in _path_patterns() if pattern.match(path)), None)
    if template is None:
        # Unknown routes are not in the contract, but they still answer with a problem.
        assert_problem(response, response.status_code)
        return
    operation = document()["paths"][template].get(method.lower())
    if method.upper() == "HEAD":
        operation = document()["paths"][template].get("get")
    if operation is None:
        assert response.status_code == 405, f"{method} {template}: undocumented method answered {response.status_code}"
        assert "Allow" in response.headers
        # As the path's documented operations describe their 405 (RFC 6749 errors on OAuth endpoints).
        operation = next(op for name, op in document()["paths"][template].items()
                         if name in {"get", "put", "post", "patch", "delete"})
    responses = operation["responses"]
    documented = responses.get(str(response.status_code)) or responses.get("default")
    assert documented is not None, f"{method} {template}: status {response.status_code} is not in the contract"
    documented = _resolve(documented)
    for name, header in documented.get("headers", {}).items():
        if _resolve(header).get("required"):
            assert name in response.headers, f"{method} {template}: missing header {name}"
    content = documented.get("content")
    if not content or method.upper() == "HEAD" or response.status_code == 304:
        return
    assert response.mimetype in content, (
        f"{method} {template} {response.status_code}: {response.mimetype} not in {list(content)}")
    if (response.mimetype or "").endswith("json"):
        schema = _absolute_refs(content[response.mimetype]["schema"])
        body = json.loads(response.get_data())
        validator = Draft202012Validator(schema, registry=_registry())
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
        assert not problems, f"{method} {template} {response.status_code}: {problems}"
