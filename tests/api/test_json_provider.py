"""The app's JSON (orjson): compact UTF-8, ISO 8601 moments, and what orjson alone would refuse."""

import uuid
from datetime import UTC, date, datetime

import pytest
from flask import Flask


def test_answers_are_compact_utf8_with_iso_moments(app: Flask) -> None:
    moment = datetime(2026, 11, 29, 7, 30, tzinfo=UTC)
    text = app.json.dumps({"name": "Sint-Niklaas — Saint-Nicolas", "at": moment, "on": date(2026, 12, 1),
                           "id": uuid.UUID(int=1), 3: "three"})
    assert text == ('{"name":"Sint-Niklaas — Saint-Nicolas","at":"2026-11-29T07:30:00+00:00","on":"2026-12-01",'
                    '"id":"00000000-0000-0000-0000-000000000001","3":"three"}')


def test_an_integer_past_64_bits_is_written_not_refused(app: Flask) -> None:
    """orjson's limit; a document stored earlier may hold such a number."""
    assert app.json.dumps({"n": 2**70, "m": -(2**70)}) == '{"n":1180591620717411303424,"m":-1180591620717411303424}'


def test_a_value_json_has_no_type_for_is_still_a_programming_error(app: Flask) -> None:
    with pytest.raises(TypeError):
        app.json.dumps({"x": object()})
