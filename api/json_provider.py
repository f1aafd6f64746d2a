"""The app's JSON: orjson, in C, for every answer and request body. Most requests are small JSON
documents, and the standard library's encoder cost more per answer than several of our hooks.

Output is compact UTF-8. Values JSON has no type for are written as the standard provider would,
except moments and dates: ISO 8601, as the API writes them everywhere (the standard provider would
write an HTTP date)."""

import dataclasses
import decimal
import json
from typing import Any

import orjson
from flask.json.provider import JSONProvider


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class OrjsonProvider(JSONProvider):
    def dumps(self, obj: Any, **_kwargs: Any) -> str:
        try:
            return orjson.dumps(obj, default=_default, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:
            # orjson stops at 64-bit integers; a document stored before may hold a larger one. The
            # standard encoder writes it (and refuses what orjson refused for any other reason).
            return json.dumps(obj, default=_default, ensure_ascii=False, separators=(",", ":"))

    def loads(self, s: str | bytes, **_kwargs: Any) -> Any:
        return orjson.loads(s)
