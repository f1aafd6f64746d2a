"""Offices: opening hours per weekday and closures (a date's own hours, or closed), changed through
the same validation and operation as `PUT /offices/{id}`; what the form does not show (services,
counters, the other municipalities served) is kept as it is."""

import re
import uuid
from typing import Any

from flask import Response, g, request, url_for

from api.appointments.routes import office_view, served_ids
from api.console.routes import console, refused
from api.console.web import console_page, page, see_other, text
from api.database import session
from api.principal import principal
from townhall.appointments.hours import WEEKDAYS
from townhall.appointments.models import Office
from townhall.appointments.operations import save_office
from townhall.appointments.queries import offices_of, served_slugs
from townhall.appointments.schemas import OfficeInput
from townhall.errors import InvalidInput, NotFound, StaleVersion, TownhallError
from townhall.validation import load

INTERVAL = re.compile(r"\s*(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})\s*")
CLOSURE = re.compile(r"\s*(\d{4}-\d{2}-\d{2})\s+(.+?)\s*")


def hours_text(intervals: list[list[str]]) -> str:
    return ", ".join(f"{opens}-{closes}" for opens, closes in intervals)


def _intervals(raw: str, field: str) -> list[list[str]]:
    """'09:00-12:00, 13:30-16:00' as the API's pairs; blank: closed."""
    pairs = []
    for part in filter(None, (piece.strip() for piece in raw.split(","))):
        found = INTERVAL.fullmatch(part)
        if found is None:
            raise InvalidInput({field: [text()["hours_format"]]})
        pairs.append([found.group(1), found.group(2)])
    return pairs


def _closures(raw: str) -> dict[str, list[list[str]]]:
    """One line per date: '2026-12-25 closed' or '2026-12-24 09:00-12:00'."""
    found: dict[str, list[list[str]]] = {}
    for line in filter(None, (line.strip() for line in raw.splitlines())):
        match = CLOSURE.fullmatch(line)
        if match is None:
            raise InvalidInput({"exceptions": [text()["closures_format"]]})
        day, hours = match.groups()
        found[day] = [] if hours.lower() in CLOSED_WORDS else _intervals(hours, "exceptions")
    return found


CLOSED_WORDS = {"closed", "gesloten", "fermé", "ferme", "geschlossen", "-"}


def _offices() -> list[tuple[Office, dict[str, Any]]]:
    return [(office, office_view(office, offers, served_slugs(session(), office)))
            for office, offers in offices_of(session(), g.tenant.id)]


def _office(office_id: uuid.UUID) -> tuple[Office, dict[str, Any]]:
    found = next(((office, view) for office, view in _offices() if office.id == office_id), None)
    if found is None:
        raise NotFound("No such office here.")
    return found


@console.get("/offices")
@console_page("config:write")
def offices() -> Response:
    return page("offices.html", section="offices", offices=_offices(), weekdays=WEEKDAYS, hours_text=hours_text)


def _office_page(office: Office, view: dict[str, Any], shown: dict[str, str], status: int = 200,
                 errors: dict[str, list[str]] | None = None) -> Response:
    return page("office.html", status=status, section="offices", office=office, view=view, shown=shown,
                weekdays=WEEKDAYS, errors=errors)


@console.get("/offices/<uuid:office_id>")
@console_page("config:write")
def office(office_id: uuid.UUID) -> Response:
    found, view = _office(office_id)
    shown = {day: hours_text(view["hours"].get(day, [])) for day in WEEKDAYS}
    shown["exceptions"] = "\n".join(f"{day} {hours_text(hours) or 'closed'}"
                                    for day, hours in sorted(view["exceptions"].items()))
    return _office_page(found, view, shown)


@console.post("/offices/<uuid:office_id>")
@console_page("config:write")
def save_hours(office_id: uuid.UUID) -> Response:
    found, view = _office(office_id)
    shown = {day: request.form.get(f"hours.{day}", "")[:200] for day in WEEKDAYS}
    shown["exceptions"] = request.form.get("exceptions", "")[:5000]
    version = request.form.get("version", "")
    try:
        hours = {day: pairs for day in WEEKDAYS if (pairs := _intervals(shown[day], f"hours.{day}"))}
        wanted = {key: view[key] for key in ("name", "address", "lat", "long", "languages", "accessibility",
                                             "regional_holiday", "services")}
        values = load(OfficeInput, wanted | {"hours": hours, "exceptions": _closures(shown["exceptions"])})
        with session().begin_nested():
            save_office(session(), g.tenant.id, g.tenant.time_zone, values, served_ids(values), found,
                        int(version) if version.isdigit() and len(version) < 10 else 0, actor=principal().actor)
    except StaleVersion:
        return _office_page(found, view, shown, 409, {"": [text()["stale"]]})
    except TownhallError as error:
        return _office_page(found, view, shown, 422, refused(error))
    return see_other(url_for("console.office", office_id=office_id, done="saved"))
