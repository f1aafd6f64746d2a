"""An application form: one marshmallow definition, two views of it. The JSON Schema (2020-12) that
the platform publishes is generated from the form's fields; every application is checked against that
same generated schema before the form loads, so that what the published schema refuses the server
refuses too, at the same field path. Rules across fields are written once, in JSON Schema
(`FormRule`): published inside the schema, checked as written.

What no schema can say (a date near today, a number plate's checksum-like shape) stays in the form's
own `@validates` methods; the published schema names those fields in `x-checked-by-server`.
Evidence a service requires (the photo of an identity card) is a field of the form too (`Upload`):
the file, base64-encoded, beside its media type, recognised by its first bytes (ADR 0013)."""

import base64
import binascii
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

import jsonschema_rs
from marshmallow import Schema, ValidationError, fields, missing, validate
from marshmallow.decorators import VALIDATES

from townhall.errors import InvalidInput
from townhall.storage import sniff
from townhall.validation import flatten, schema_of

DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class FormRule:
    """A rule across fields: `schema` is a JSON Schema the whole form must satisfy, reported at
    `field` with `message` when it does not."""

    schema: Mapping[str, Any]
    field: str
    message: str


class Form(Schema):
    """The base of every service's application form."""

    rules: ClassVar[tuple[FormRule, ...]] = ()


def required_when(field: str, when: str, values: tuple[str, ...], message: str) -> FormRule:
    """`field` must be given when `when` has one of `values`."""
    return FormRule({"if": {"properties": {when: {"enum": list(values)}}, "required": [when]},
                      "then": {"required": [field]}}, field, message)


PHOTO_TYPES = ("image/jpeg", "image/png")
MAX_PHOTO_BYTES = 524_288  # a passport photo is far smaller; base64 keeps the body under 1 MiB


@dataclass(frozen=True)
class Evidence:
    """A file sent with an application, checked: its media type is what its first bytes say."""

    media_type: str
    content: bytes


class Upload(fields.Field):  # type: ignore[type-arg]
    """Evidence in the form: `{"media_type": "image/jpeg", "content": "<base64>"}`."""

    def __init__(self, media_types: tuple[str, ...], max_bytes: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.media_types, self.max_bytes = media_types, max_bytes

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": False, "required": ["media_type", "content"],
                "properties": {"media_type": {"enum": list(self.media_types)},
                               "content": {"type": "string", "contentEncoding": "base64", "minLength": 4,
                                           "maxLength": 4 * -(-self.max_bytes // 3)}}}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Evidence:
        if not isinstance(value, dict) or not isinstance(value.get("content"), str):
            raise ValidationError("An object with media_type and content (base64).")
        try:
            content = base64.b64decode(value["content"], validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("The content is not valid base64.") from None
        media_type = value.get("media_type")
        if media_type not in self.media_types or sniff(content) != media_type:
            raise ValidationError(f"The file is not {' or '.join(self.media_types)} (by its first bytes).")
        if len(content) > self.max_bytes:
            raise ValidationError(f"At most {self.max_bytes} bytes.")
        return Evidence(media_type, content)


def uploads(form: type[Schema]) -> tuple[str, ...]:
    """The form's evidence fields."""
    return tuple(name for name, field in form._declared_fields.items() if isinstance(field, Upload))


def _bounds(validator: Any, kind: str) -> dict[str, Any]:
    if isinstance(validator, validate.Length):
        low, high = ("minItems", "maxItems") if kind == "array" else ("minLength", "maxLength")
        if validator.equal is not None:
            return {low: validator.equal, high: validator.equal}
        return {k: v for k, v in ((low, validator.min), (high, validator.max)) if v is not None}
    if isinstance(validator, validate.Range):
        found: dict[str, Any] = {}
        if validator.min is not None:
            found["minimum" if validator.min_inclusive else "exclusiveMinimum"] = validator.min
        if validator.max is not None:
            found["maximum" if validator.max_inclusive else "exclusiveMaximum"] = validator.max
        return found
    if isinstance(validator, validate.OneOf):
        return {"enum": list(validator.choices)}
    if isinstance(validator, validate.Regexp):
        pattern = str(validator.regex.pattern)
        if not (pattern.startswith("^") and pattern.endswith("$")):
            raise TypeError(f"anchor form patterns at both ends (JSON Schema searches): {pattern}")
        return {"pattern": pattern}
    raise TypeError(f"no JSON Schema for the validator {type(validator).__name__}")


_SIMPLE: tuple[tuple[type[fields.Field[Any]], Mapping[str, str]], ...] = (
    (fields.Boolean, {"type": "boolean"}), (fields.Integer, {"type": "integer"}), (fields.Float, {"type": "number"}),
    (fields.Date, {"type": "string", "format": "date"}), (fields.Email, {"type": "string", "format": "email"}),
    (fields.String, {"type": "string"}),
)
"""Field kinds and their JSON Schema, the more specific first (Email is a String)."""


def _field_schema(field: fields.Field[Any]) -> dict[str, Any]:
    schema: dict[str, Any]
    if isinstance(field, Upload):
        schema = field.json_schema()
    elif isinstance(field, fields.Nested):
        nested = field.nested
        if not (isinstance(nested, type) and issubclass(nested, Schema)):
            raise TypeError("nest form schemas by class")
        schema = _object_schema(nested)
    elif isinstance(field, fields.List):
        schema = {"type": "array", "items": _field_schema(field.inner)}
    else:
        schema = next((dict(simple) for kind, simple in _SIMPLE if isinstance(field, kind)), {})
        if not schema:
            raise TypeError(f"no JSON Schema for the field {type(field).__name__}")
    for validator in field.validators:
        schema.update(_bounds(validator, schema.get("type", "object")))
    if field.allow_none:
        schema["type"] = [schema["type"], "null"]
    if "description" in field.metadata:
        schema["description"] = field.metadata["description"]
    default = field.load_default
    if default is not None and not callable(default) and default is not missing:
        schema["default"] = default
    return schema


def _object_schema(form: type[Schema]) -> dict[str, Any]:
    declared = form._declared_fields
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {name: _field_schema(field) for name, field in declared.items()},
        "additionalProperties": False,
    }
    required = [name for name, field in declared.items() if field.required]
    if required:
        schema["required"] = required
    checked = server_checked(form)
    if checked:
        schema["x-checked-by-server"] = checked
    rules = getattr(form, "rules", ())
    if rules:
        schema["allOf"] = [dict(rule.schema) for rule in rules]
    return schema


def server_checked(form: type[Schema]) -> list[str]:
    """The fields that the form's own `@validates` methods check beyond the schema."""
    return sorted({name for _attribute, _many, options in form._hooks[VALIDATES]
                   for name in options["field_names"]} | set(uploads(form)))


@cache
def json_schema(form: type[Schema]) -> dict[str, Any]:
    """The published JSON Schema of `form`."""
    return {"$schema": DIALECT} | _object_schema(form)


@cache
def _validators(form: type[Schema]) -> tuple[Any, tuple[tuple[FormRule, Any], ...]]:
    """The compiled checks of `form`'s fields and of each of its rules (jsonschema-rs: about a
    microsecond per form, where a pure-Python validator costs more than loading the form)."""
    fields_only = {key: value for key, value in json_schema(form).items() if key != "allOf"}
    return (jsonschema_rs.validator_for(fields_only, validate_formats=True),
            tuple((rule, jsonschema_rs.validator_for(dict(rule.schema), validate_formats=True))
                  for rule in getattr(form, "rules", ())))


MISSING = "Missing data for required field."
_TYPES = {"string": "a string", "integer": "a whole number", "number": "a number", "boolean": "true or false",
          "array": "a list", "object": "an object", "null": "null"}
_LIMITS = {"minLength": "Shorter than minimum length {}.", "maxLength": "Longer than maximum length {}.",
           "minItems": "Give at least {} items.", "maxItems": "Give at most {} items.",
           "minimum": "Must be at least {}.", "maximum": "Must be at most {}.",
           "exclusiveMinimum": "Must be more than {}.", "exclusiveMaximum": "Must be less than {}."}
_FORMATS = {"date": "Not a valid date (YYYY-MM-DD).", "email": "Not a valid e-mail address."}


def _messages(error: Any) -> Iterator[tuple[str, str]]:
    """(field path, message) for one failed keyword, worded as the API's other field messages."""
    path = ".".join(str(part) for part in error.instance_path)

    def below(name: str) -> str:
        return f"{path}.{name}" if path else name

    keyword, facts = error.kind.name, error.kind.as_dict()
    if keyword == "required":
        yield below(str(facts["property"])), MISSING
    elif keyword == "additionalProperties":
        for name in facts["unexpected"]:
            yield below(str(name)), "Unknown field."
    elif keyword == "type":
        kinds = facts["types"] if isinstance(facts["types"], list) else [facts["types"]]
        yield path or "_schema", f"Must be {' or '.join(_TYPES.get(str(kind), str(kind)) for kind in kinds)}."
    elif keyword == "enum":
        yield path, f"Must be one of: {', '.join(str(choice) for choice in facts['options'])}."
    elif keyword == "format":
        yield path, _FORMATS.get(facts["format"], f"Not a valid {facts['format']}.")
    elif keyword == "pattern":
        yield path, "Does not have the expected form."
    elif keyword in _LIMITS:
        yield path, _LIMITS[keyword].format(facts["limit"])
    else:
        yield path or "_schema", "Is not valid."


def load_form(form: type[Schema], data: Mapping[str, Any], prefix: str = "form",
              later: tuple[str, ...] = ()) -> dict[str, Any]:
    """The loaded form, or InvalidInput naming each failing field as `<prefix>.<path>`: first what
    the published schema refuses, then (once the schema holds) what the form's own checks refuse.
    The fields in `later` may be missing (the evidence of a case the platform opens itself)."""
    fields_check, rules = _validators(form)
    errors: dict[str, list[str]] = {}
    if not fields_check.is_valid(data):
        for error in fields_check.iter_errors(data):
            for path, message in _messages(error):
                if path not in later or message != MISSING:
                    errors.setdefault(f"{prefix}.{path}", []).append(message)
    for rule, check in rules:
        if not check.is_valid(data):
            errors.setdefault(f"{prefix}.{rule.field}", []).append(rule.message)
    if errors:
        raise InvalidInput(errors)
    try:
        loaded: dict[str, Any] = schema_of(form).load(data, partial=later or None)
    except ValidationError as error:
        raise InvalidInput(flatten(error.messages, prefix)) from error
    return loaded
