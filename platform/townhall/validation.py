"""Loading input through a marshmallow schema, with failures as one flat field → messages map."""

from collections.abc import Mapping
from functools import cache
from typing import Any

from marshmallow import Schema, ValidationError

from townhall.errors import InvalidInput

# An INTEGER column (version numbers, counters) holds no more on PostgreSQL; inputs naming one stop here.
INTEGER_COLUMN_MAX = 2**31 - 1
SLUG_PATTERN = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"  # a municipality's or a team's slug (a DNS label)


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow nests messages per field; problems list them as `field.sub: [messages]`."""
    if isinstance(messages, list):
        return {prefix or "_schema": [str(m) for m in messages]}
    if not isinstance(messages, dict):
        return {prefix or "_schema": [str(messages)]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


@cache
def schema_of(kind: type[Schema]) -> Schema:
    """One instance per schema: building one deep-copies its fields, which cost more than loading a
    small body. marshmallow 4 schemas keep no state between loads, so every request shares it."""
    return kind()


def load(schema: type[Schema], data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """The loaded data, or InvalidInput naming every failing field."""
    try:
        loaded: dict[str, Any] = schema_of(schema).load(data, partial=partial)
    except ValidationError as error:
        raise InvalidInput(flatten(error.messages)) from error
    return loaded
