"""What an office and a booking look like on input."""

import re
from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from townhall.appointments.hours import CALENDAR_RANGE, REGIONAL_HOLIDAYS, WEEKDAYS, in_calendar
from townhall.localisation import LANGUAGES

_HOUR = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def _intervals(value: Any) -> None:
    """A day's hours: [["08:30", "12:00"], ["13:00", "16:00"]], in order, not overlapping."""
    if not isinstance(value, list) or len(value) > 6:
        raise ValidationError("A list of at most six [opens, closes] pairs.")
    previous = ""
    for pair in value:
        if (not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(t, str) and _HOUR.match(t)
                                                                      for t in pair)):
            raise ValidationError("Each pair is [\"HH:MM\", \"HH:MM\"].")
        if not previous <= pair[0] < pair[1]:
            raise ValidationError("Pairs run forward in time and do not overlap.")
        previous = pair[1]


def _in_calendar(value: datetime) -> None:
    """Checked on the date as written, before any time zone conversion can overflow (years 1, 9999)."""
    if not in_calendar(value.date()):
        raise ValidationError(f"A date {CALENDAR_RANGE}.")


class OfficeServiceInput(Schema):
    service = fields.String(required=True, validate=validate.Length(min=1, max=63))
    duration_minutes = fields.Integer(required=True, validate=validate.Range(min=5, max=240))
    counters = fields.Integer(load_default=1, validate=validate.Range(min=1, max=50))
    lead_minutes = fields.Integer(load_default=120, validate=validate.Range(min=0, max=10_080),
                                  metadata={"description": "How soon, at the earliest, one may book."})
    horizon_days = fields.Integer(load_default=60, validate=validate.Range(min=1, max=366),
                                  metadata={"description": "How far ahead one may book."})
    serves = fields.List(fields.String(validate=validate.Length(min=1, max=63)), load_default=list,
                         validate=validate.Length(max=100),
                         metadata={"description": "Other municipalities (slugs) whose citizens may book it here."})


class OfficeInput(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    address = fields.String(required=True, validate=validate.Length(min=3, max=300))
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90), allow_nan=False)
    long = fields.Float(required=True, validate=validate.Range(min=-180, max=180), allow_nan=False)
    languages = fields.List(fields.String(validate=validate.OneOf(LANGUAGES)), load_default=lambda: ["nl"],
                            validate=validate.Length(min=1))
    accessibility = fields.String(load_default="", validate=validate.Length(max=2000))
    hours = fields.Dict(keys=fields.String(validate=validate.OneOf(WEEKDAYS)), values=fields.Raw(validate=_intervals),
                        required=True)
    exceptions = fields.Dict(keys=fields.Date(), values=fields.Raw(validate=_intervals), load_default=dict,
                             metadata={"description": "A date's own hours; [] closes the office that day."})
    regional_holiday = fields.String(load_default=None, allow_none=True,
                                     validate=validate.OneOf(tuple(REGIONAL_HOLIDAYS)))
    services = fields.List(fields.Nested(OfficeServiceInput), required=True, validate=validate.Length(max=50))

    @validates_schema
    def _services_once(self, data: dict[str, Any], **_: Any) -> None:
        codes = [entry["service"] for entry in data.get("services", [])]
        if len(codes) != len(set(codes)):
            raise ValidationError("Each service once.", "services")


class BookingInput(Schema):
    service = fields.String(required=True, validate=validate.Length(min=1, max=63))
    office = fields.UUID(required=True)
    start = fields.AwareDateTime(required=True, validate=_in_calendar,
                                 metadata={"description": "A slot's start, ISO 8601 with offset."})
    case = fields.UUID(metadata={"description": "The case this visit is for (an eID pickup moves it on)."})
    citizen = fields.Email(metadata={"description": "Only when booking on someone's behalf."})


class RescheduleInput(Schema):
    start = fields.AwareDateTime(required=True, validate=_in_calendar)
    office = fields.UUID()
