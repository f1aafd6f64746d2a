"""Offices: opening hours per weekday and closures (a date's own hours, or closed), and the services
offered there (visit length, counters, how soon and how far ahead one may book, the other
municipalities whose citizens may book them). Each form changes its part through the same
validation and operation as `PUT /offices/{id}` and keeps the rest as it is."""

import re
import uuid
from typing import Any

from flask import Response, g, request, url_for

from api.appointments.routes import office_view, served_ids
from api.console.routes import console, refused
from api.console.web import console_page, page, see_other, text
from api.database import session
from api.principal import principal
from tenants.queries import all_tenants
from townhall.appointments.hours import WEEKDAYS
from townhall.appointments.models import Office
from townhall.appointments.operations import save_office
from townhall.appointments.queries import offices_of, served_slugs
from townhall.appointments.schemas import OfficeInput
from townhall.errors import InvalidInput, NotFound, StaleVersion, TownhallError
from townhall.services.registry import SERVICE_TYPES
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
                 errors: dict[str, list[str]] | None = None, offers: dict[str, dict[str, Any]] | None = None
                 ) -> Response:
    neighbours = [t for t in all_tenants(session()) if t.id != g.tenant.id and t.is_active]
    return page("office.html", status=status, section="offices", office=office, view=view, shown=shown,
                weekdays=WEEKDAYS, errors=errors, types=SERVICE_TYPES, neighbours=neighbours,
                offers=offers if offers is not None else {o["service"]: o for o in view["services"]})


def _kept(view: dict[str, Any]) -> dict[str, Any]:
    """The office as a PUT would send it, from what it is now."""
    return {key: view[key] for key in OfficeInput().fields}


def _hours_shown(view: dict[str, Any]) -> dict[str, str]:
    """The hours form's fields for the office as it is."""
    shown = {day: hours_text(view["hours"].get(day, [])) for day in WEEKDAYS}
    shown["exceptions"] = "\n".join(f"{day} {hours_text(hours) or 'closed'}"
                                    for day, hours in sorted(view["exceptions"].items()))
    return shown


@console.get("/offices/<uuid:office_id>")
@console_page("config:write")
def office(office_id: uuid.UUID) -> Response:
    found, view = _office(office_id)
    return _office_page(found, view, _hours_shown(view))


@console.post("/offices/<uuid:office_id>")
@console_page("config:write")
def save_hours(office_id: uuid.UUID) -> Response:
    found, view = _office(office_id)
    shown = {day: request.form.get(f"hours.{day}", "")[:200] for day in WEEKDAYS}
    shown["exceptions"] = request.form.get("exceptions", "")[:5000]
    version = request.form.get("version", "")
    try:
        hours = {day: pairs for day in WEEKDAYS if (pairs := _intervals(shown[day], f"hours.{day}"))}
        values = load(OfficeInput, _kept(view) | {"hours": hours, "exceptions": _closures(shown["exceptions"])})
        with session().begin_nested():
            save_office(session(), g.tenant.id, g.tenant.time_zone, values, served_ids(values), found,
                        int(version) if version.isdigit() and len(version) < 10 else 0, actor=principal().actor)
    except StaleVersion:
        return _office_page(found, view, shown, 409, {"": [text()["stale"]]})
    except TownhallError as error:
        return _office_page(found, view, shown, 422, refused(error))
    return see_other(url_for("console.office", office_id=office_id, done="saved"))


NUMBERS = ("duration_minutes", "counters", "lead_minutes", "horizon_days")


def _offers_form() -> dict[str, dict[str, Any]]:
    """service → what the form says of it (ticked services only); what is not a number is sent as
    it was typed, so the checks name it at its field."""
    form = request.form
    offers: dict[str, dict[str, Any]] = {}
    for code in SERVICE_TYPES:
        if form.get(f"{code}.offered") != "on":
            continue
        entry: dict[str, Any] = {"service": code, "serves": form.getlist(f"{code}.serves")}
        for name in NUMBERS:
            raw = form.get(f"{code}.{name}", "").strip()[:12]
            entry[name] = int(raw) if raw.isdigit() else raw
        offers[code] = entry
    return offers


def _by_service(errors: dict[str, list[str]], codes: list[str]) -> dict[str, list[str]]:
    """`services.2.counters` as `<code>.counters`: the form has one row per service, not a list."""
    named: dict[str, list[str]] = {}
    for key, messages in errors.items():
        parts = key.split(".", 2)
        row = len(parts) == 3 and parts[0] == "services" and parts[1].isdigit() and int(parts[1]) < len(codes)
        named.setdefault(f"{codes[int(parts[1])]}.{parts[2]}" if row else key, []).extend(messages)
    return named


@console.post("/offices/<uuid:office_id>/services")
@console_page("config:write")
def save_offers(office_id: uuid.UUID) -> Response:
    found, view = _office(office_id)
    offers, shown = _offers_form(), _hours_shown(view)
    version = request.form.get("version", "")
    try:
        values = load(OfficeInput, _kept(view) | {"services": list(offers.values())})
        with session().begin_nested():
            save_office(session(), g.tenant.id, g.tenant.time_zone, values, served_ids(values), found,
                        int(version) if version.isdigit() and len(version) < 10 else 0, actor=principal().actor)
    except StaleVersion:
        return _office_page(found, view, shown, 409, {"": [text()["stale"]]}, offers)
    except TownhallError as error:
        return _office_page(found, view, shown, 422, _by_service(refused(error), list(offers)), offers)
    return see_other(url_for("console.office", office_id=office_id, done="saved"))
