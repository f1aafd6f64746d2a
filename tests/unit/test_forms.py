"""Each service's published form schema and the server's check of an application agree, both ways:
what the schema accepts the server accepts (but for the checks the schema names as the server's),
and what the schema refuses the server refuses, at the same field path."""

import copy
from datetime import date
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema

from support.evidence import PHOTO
from townhall.errors import InvalidInput
from townhall.forms import json_schema, load_form
from townhall.services.registry import SERVICE_TYPES

FORMS = {code: service.form for code, service in SERVICE_TYPES.items()}
EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Instances of a published form schema, read from the schema alone (the keywords form schemas
    use); the rules across fields (`allOf`) filter them, as jsonschema-rs reads them."""
    strategy = _instances(schema)
    if "allOf" in schema:
        rules = [jsonschema_rs.validator_for(rule) for rule in schema["allOf"]]
        strategy = strategy.filter(lambda instance: all(rule.is_valid(instance) for rule in rules))
    return strategy


def _object(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    required = set(schema.get("required", []))
    optional = {name: _instances(field) for name, field in schema["properties"].items() if name not in required}
    return st.fixed_dictionaries({name: _instances(schema["properties"][name]) for name in required},
                                 optional=optional)


def _string(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if schema.get("format") == "date":
        return st.dates().map(date.isoformat)
    low, high = schema.get("minLength", 0), schema.get("maxLength", 50)
    if "pattern" in schema:
        return st.from_regex(schema["pattern"].rstrip("$").lstrip("^"), fullmatch=True).filter(
            lambda text: low <= len(text) <= high)
    return st.text(min_size=low, max_size=min(high, 50))


KINDS: dict[str, Any] = {
    "object": _object,
    "array": lambda schema: st.lists(_instances(schema["items"]), min_size=schema.get("minItems", 0),
                                     max_size=schema.get("maxItems", 5)),
    "boolean": lambda _schema: st.booleans(),
    "integer": lambda schema: st.integers(min_value=schema.get("minimum"), max_value=schema.get("maximum")),
    "number": lambda schema: st.floats(min_value=schema.get("minimum"), max_value=schema.get("maximum"),
                                       allow_nan=False, allow_infinity=False),
    "string": _string,
}


def _instances(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    strategy: st.SearchStrategy[Any] = KINDS[schema["type"]](schema)
    return strategy


def refusals(form: type[Schema], instance: Any) -> set[str]:
    try:
        load_form(form, instance)
    except InvalidInput as refused:
        return set(refused.errors)
    return set()


def places(schema: dict[str, Any], instance: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every (path, schema) of a field the instance holds, nested objects and list items included."""
    found = []
    for name, field in schema.get("properties", {}).items():
        if isinstance(instance, dict) and name in instance:
            found.append(((*path, name), field))
            value = instance[name]
            if field.get("type") == "object":
                found += places(field, value, (*path, name))
            if field.get("type") == "array" and value and field["items"].get("type") == "object":
                found += places(field["items"], value[0], (*path, name, "0"))
    return found


NEAR_MISSES = {"string": 12345, "integer": "7", "number": "1.5", "boolean": "true", "array": "x", "object": ["x"]}
"""A value of another JSON type that a lenient loader would take for the right one."""


def other_type(field: dict[str, Any]) -> Any:
    return NEAR_MISSES.get(field.get("type", "string"), 12345)


def put(instance: Any, path: tuple[str, ...], value: Any) -> Any:
    changed = copy.deepcopy(instance)
    target = changed
    for part in path[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[path[-1]] = value
    return changed


@pytest.mark.parametrize("code", sorted(FORMS))
def test_every_form_is_published_as_json_schema_2020_12(code: str) -> None:
    schema = json_schema(FORMS[code])
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object" and schema["additionalProperties"] is False and schema["properties"]


def test_the_eid_card_schema_states_the_police_report_rule() -> None:
    form = FORMS["eid-card"]
    assert refusals(form, {"reason": "stolen", "photo": PHOTO}) == {"form.police_report"}
    assert refusals(form, {"reason": "stolen", "police_report": "PV-123", "photo": PHOTO}) == set()


def test_the_photo_an_identity_card_needs_is_in_its_published_schema() -> None:
    schema = json_schema(FORMS["eid-card"])
    assert "photo" in schema["required"] and "photo" in schema["x-checked-by-server"]
    photo = schema["properties"]["photo"]
    assert photo["properties"]["content"]["contentEncoding"] == "base64"
    assert photo["properties"]["media_type"]["enum"] == ["image/jpeg", "image/png"]
    assert refusals(FORMS["eid-card"], {"reason": "renewal"}) == {"form.photo"}


@pytest.mark.parametrize("code", sorted(FORMS))
def test_what_the_schema_accepts_the_server_accepts(code: str) -> None:
    form = FORMS[code]
    schema = json_schema(form)
    checked = {f"form.{name}" for name in schema.get("x-checked-by-server", [])}

    @EXAMPLES
    @given(from_schema(schema))
    def accepted(instance: dict[str, Any]) -> None:
        assert refusals(form, instance) <= checked, instance

    accepted()


@pytest.mark.parametrize("code", sorted(FORMS))
def test_what_the_schema_refuses_the_server_refuses_at_the_same_field(code: str) -> None:
    form = FORMS[code]
    schema = json_schema(form)

    @EXAMPLES
    @given(from_schema(schema), st.data())
    def refused(instance: dict[str, Any], draw: st.DataObject) -> None:
        mutation = draw.draw(st.sampled_from(["unknown", "type", "missing"]))
        if mutation == "unknown":
            assert "form.zz_unknown" in refusals(form, instance | {"zz_unknown": 1})
            return
        fields = places(schema, instance)
        if mutation == "missing":
            fields = [(path, field) for path, field in fields if path[-1] in _required_at(schema, path)]
        if not fields:
            return
        path, field = draw.draw(st.sampled_from(fields))
        if mutation == "type":
            broken = put(instance, path, other_type(field))
        else:
            broken = copy.deepcopy(instance)
            parent = broken
            for part in path[:-1]:
                parent = parent[int(part)] if isinstance(parent, list) else parent[part]
            del parent[path[-1]]
        assert f"form.{'.'.join(path)}" in refusals(form, broken), broken

    refused()


def _required_at(schema: dict[str, Any], path: tuple[str, ...]) -> list[str]:
    """The required names of the object holding the field at `path`."""
    holder = schema
    for part in path[:-1]:
        holder = holder["items"] if part.isdigit() else holder["properties"][part]
    return list(holder.get("required", []))


def test_a_date_the_schema_accepts_may_still_be_refused_where_the_schema_says_so() -> None:
    form = FORMS["address-change"]
    assert json_schema(form)["x-checked-by-server"] == ["moved_on"]
    long_ago = {"new_address": {"street": "Markt", "number": "1", "postal_code": "9600", "municipality": "Ronse"},
                "moved_on": date(2000, 1, 1).isoformat()}
    assert refusals(form, long_ago) == {"form.moved_on"}
