"""An HTML form made from a service's published JSON Schema, and the posted form turned back into
the JSON the schema describes: the kernel then checks it exactly as it checks the API's (its
messages are shown at the fields). Nothing here knows a service."""

import base64
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict

ROWS = 5  # the rows offered for a list of objects (bulky waste's items)


@dataclass(frozen=True)
class Field:
    name: str  # dotted path in the form: new_address.street, items.0.kind
    key: str  # the property's name, whose label is shown (a row of a list: the list's)
    kind: str  # text, date, number, select, checkbox, lines, file, group
    required: bool
    choices: tuple[str, ...] = ()
    maximum_length: int | None = None
    fields: tuple["Field", ...] = ()  # a group's

    @property
    def id(self) -> str:
        return "field-" + self.name.replace(".", "-")


def _is_evidence(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "object" and set(schema.get("properties", {})) == {"media_type", "content"}


def _kind(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if _is_evidence(schema):
        found = "file"
    elif "enum" in schema:
        found = "select"
    elif kind == "boolean":
        found = "checkbox"
    elif kind in ("number", "integer"):
        found = "number"
    elif kind == "object":
        found = "group"
    elif kind == "array":
        found = "rows" if schema.get("items", {}).get("type") == "object" else "lines"
    else:
        found = "date" if schema.get("format") == "date" else "text"
    return found


def _field(name: str, schema: Mapping[str, Any], required: bool) -> Field:
    key, kind = name.rsplit(".", 1)[-1], _kind(schema)
    if kind == "group":
        return Field(name, key, kind, required, fields=tuple(fields_of(schema, name + ".")))
    if kind == "rows":
        rows = tuple(Field(f"{name}.{row}", key, "group", False,
                           fields=tuple(fields_of(schema["items"], f"{name}.{row}.", row_optional=True)))
                     for row in range(ROWS))
        return Field(name, key, kind, required, fields=rows)
    return Field(name, key, kind, required and kind != "checkbox",
                 tuple(str(value) for value in schema.get("enum", ())), schema.get("maxLength"))


def fields_of(schema: Mapping[str, Any], prefix: str = "", row_optional: bool = False) -> list[Field]:
    required = set(schema.get("required", ()))
    return [_field(prefix + name, property_schema, name in required and not row_optional)
            for name, property_schema in schema.get("properties", {}).items()]


def walk(fields: list[Field] | tuple[Field, ...]) -> Iterator[Field]:
    for found in fields:
        yield found
        yield from walk(found.fields)


def _number(raw: str) -> float | int | str:
    try:
        number = float(raw.replace(",", "."))
    except ValueError:
        return raw  # the schema names it at the field
    return int(number) if number.is_integer() and "." not in raw and "," not in raw else number


def posted(fields: list[Field] | tuple[Field, ...], form: MultiDict[str, str],
           files: MultiDict[str, FileStorage]) -> dict[str, Any]:
    """The JSON object of the posted fields: empty fields left out (the schema says which are
    required), numbers as numbers, a file as evidence (its type, its bytes in base64)."""
    data: dict[str, Any] = {}
    for found in fields:
        value: Any = None
        if found.kind == "group":
            value = posted(found.fields, form, files) or None
        elif found.kind == "rows":
            value = [row for row in (posted(r.fields, form, files) for r in found.fields) if row] or None
        elif found.kind == "file":
            upload = files.get(found.name)
            content = upload.read() if upload is not None else b""
            if content:
                value = {"media_type": upload.mimetype if upload is not None else "",
                         "content": base64.b64encode(content).decode()}
        elif found.kind == "checkbox":
            value = found.name in form
        elif found.kind == "lines":
            value = [line.strip() for line in form.get(found.name, "").splitlines() if line.strip()] or None
        else:
            raw = form.get(found.name, "").strip()
            value = (_number(raw) if found.kind == "number" else raw) if raw else None
        if value is not None:
            data[found.name.rsplit(".", 1)[-1]] = value
    return data
