"""The app's JSON: orjson, in C, for every answer and request body. Most requests are small JSON
documents, for which encoding and decoding is a large part of the Python work (ADR 0009).

Output is compact UTF-8; moments, dates, UUIDs and dataclasses are written by orjson itself (ISO
8601 for moments and dates, as the API writes them everywhere). Any other type is a programming
error, as with the standard encoder."""

import json
from typing import Any

import orjson
from flask.json.provider import JSONProvider


class OrjsonProvider(JSONProvider):
    def dumps(self, obj: Any, **_kwargs: Any) -> str:
        try:
            return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:
            # orjson stops at 64-bit integers; a document stored before may hold a larger one. The
            # standard encoder writes it (and refuses what orjson refused for any other reason).
            return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

    def loads(self, s: str | bytes, **_kwargs: Any) -> Any:
        return orjson.loads(s)
