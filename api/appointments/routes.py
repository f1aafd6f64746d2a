"""/t/<tenant>/v1/offices, /slots and /appointments; /v1/slots: free visits at any counter in the
region that serves the citizen's municipality. Offices and slots are public; bookings need a token."""

import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, jsonify, request, url_for

from api.access import public
from api.database import session
from api.http import (
    bad_cursor,
    bad_parameter,
    id_cursor,
    json_body,
    json_object,
    page_params,
    paged,
    patched,
    require_if_match,
    version_etag,
    versioned,
)
from api.idempotent_requests import idempotent
from api.oauth.protect import requires
from api.platform.routes import platform_api
from api.principal import principal
from api.tenant_api import tenant_api, tenant_cache
from tenants.queries import slugs_by_id
from townhall.appointments.hours import CALENDAR_RANGE, LAST_DAY, in_calendar
from townhall.appointments.ics import calendar
from townhall.appointments.models import Appointment, Office, OfficeService
from townhall.appointments.operations import Booking, book, cancel, reschedule, save_office
from townhall.appointments.queries import (
    Counter,
    Slot,
    appointment_of,
    appointments_of,
    by_distance,
    by_time,
    counters_serving,
    day_at_office,
    distance_km,
    free_slots,
    office_of,
    office_zones,
    offices_of,
    served_slugs,
    zone_of,
)
from townhall.appointments.schemas import BookingInput, OfficeInput, RescheduleInput
from townhall.audit.writes import note_read
from townhall.auth.operations import require_user
from townhall.auth.principal import EVERYTHING, Viewer
from townhall.cases.queries import visible_case
from townhall.errors import Forbidden, InvalidInput, NotFound
from townhall.localisation import pick
from townhall.services.registry import service_type
from townhall.validation import load

MAX_SEARCH_DAYS = 31
MAX_SLOTS = 500  # per page


# --- offices ----------------------------------------------------------------------------------------

def office_view(office: Office, offers: list[OfficeService], served: dict[str, list[uuid.UUID]]) -> dict[str, Any]:
    slugs = slugs_by_id(session(), [t for tenants in served.values() for t in tenants])
    return {"id": str(office.id), "name": office.name, "address": office.address, "lat": office.lat,
            "long": office.long, "languages": office.languages, "accessibility": office.accessibility,
            "hours": office.weekly_hours, "exceptions": office.exceptions,
            "regional_holiday": office.regional_holiday, "time_zone": office.time_zone,
            "services": [{"service": o.service, "duration_minutes": o.duration_minutes, "counters": o.counters,
                          "lead_minutes": o.lead_minutes, "horizon_days": o.horizon_days,
                          "serves": sorted(slugs[t] for t in served.get(o.service, []))} for o in offers]}


def served_ids(values: dict[str, Any]) -> dict[str, list[uuid.UUID]]:
    served: dict[str, list[uuid.UUID]] = {}
    for entry in values["services"]:
        for slug in entry["serves"]:
            tenant = tenant_cache().tenant(session(), slug)
            if tenant is None:
                raise InvalidInput({"services": [f"No municipality '{slug[:63]}' on this platform."]})
            served.setdefault(entry["service"], []).append(tenant.id)
    return served


def _office_response(office: Office, status: int = 200) -> Response:
    offers = next((o for found, o in offices_of(session(), g.tenant.id) if found.id == office.id), [])
    return versioned(office_view(office, offers, served_slugs(session(), office)), office.version, status)


@tenant_api.get("/offices")
@public
def list_offices() -> Response:
    items = [office_view(office, offers, served_slugs(session(), office))
             for office, offers in offices_of(session(), g.tenant.id)]
    return jsonify(items=items, next=None)


@tenant_api.post("/offices")
@requires("config:write")
def create_office() -> Response:
    values = load(OfficeInput, json_object())
    office = save_office(session(), g.tenant.id, g.tenant.time_zone, values, served_ids(values),
                         actor=principal().actor)
    response = _office_response(office, 201)
    response.headers["Location"] = url_for("tenant_api.get_office", office_id=office.id)
    return response


def _find_office(office_id: uuid.UUID) -> Office:
    office = office_of(session(), g.tenant.id, office_id)
    if office is None:
        raise NotFound("No such office here.")
    return office


@tenant_api.get("/offices/<uuid:office_id>")
@public
def get_office(office_id: uuid.UUID) -> Response:
    return _office_response(_find_office(office_id))


@tenant_api.put("/offices/<uuid:office_id>")
@requires("config:write")
def put_office(office_id: uuid.UUID) -> Response:
    office = _find_office(office_id)
    require_if_match(version_etag(office.version))
    values = load(OfficeInput, json_object())
    save_office(session(), g.tenant.id, g.tenant.time_zone, values, served_ids(values), office,
                actor=principal().actor)
    return _office_response(office)


@tenant_api.patch("/offices/<uuid:office_id>")
@requires("config:write")
def patch_office(office_id: uuid.UUID) -> Response:
    """JSON Merge Patch (RFC 7396) of what a PUT sends; `hours`, `exceptions` merge day by day,
    `services` (a list) is replaced whole. The merged office is checked as a PUT would be."""
    office = _find_office(office_id)
    offers = next((o for found, o in offices_of(session(), g.tenant.id) if found.id == office.id), [])
    view = office_view(office, offers, served_slugs(session(), office))
    current = {name: view[name] for name in OfficeInput().fields}
    values = load(OfficeInput, patched(current, version_etag(office.version)))
    save_office(session(), g.tenant.id, g.tenant.time_zone, values, served_ids(values), office,
                actor=principal().actor)
    return _office_response(office)


@tenant_api.get("/offices/<uuid:office_id>/day")
@requires("appointments:read")
def office_day(office_id: uuid.UUID) -> Response:
    """Staff: every visit at this office on `date`, whichever municipality the visitor lives in."""
    caller = principal()
    if not caller.is_staff:
        raise Forbidden("The day view is for the municipality's staff.")
    office = _find_office(office_id)
    day = _date("date")
    visits = day_at_office(session(), office, day, caller.viewer)
    zone = ZoneInfo(office.time_zone)
    return jsonify(office=str(office.id), date=day.isoformat(), items=[_appointment_view(a, zone) for a in visits])


# --- slots ------------------------------------------------------------------------------------------

def _date(name: str, default: date | None = None) -> date:
    """A date parameter within the calendar the date arithmetic can bear (400 otherwise)."""
    if name not in request.args and default is not None:
        return default
    try:
        day = date.fromisoformat(request.args.get(name, ""))
    except ValueError as error:
        raise bad_parameter(f"{name} is a date (YYYY-MM-DD) {CALENDAR_RANGE}.") from error
    if not in_calendar(day):
        raise bad_parameter(f"{name} is a date (YYYY-MM-DD) {CALENDAR_RANGE}.")
    return day


def _range() -> tuple[date, date]:
    first = _date("from", datetime.now(UTC).date())
    last = _date("to", min(first + timedelta(days=13), LAST_DAY))
    if last < first or (last - first).days >= MAX_SEARCH_DAYS:
        raise bad_parameter(f"to comes after from, at most {MAX_SEARCH_DAYS} days later.")
    return first, last


def _service() -> str:
    code = request.args.get("service", "")
    if service_type(code) is None:
        raise bad_parameter("service names one of /v1/service-types.")
    return code


TIME_KEY = (int, str, str)
DISTANCE_KEY = ((int, float), str, int)


def _page(kinds: tuple[type | tuple[type, ...], ...] = TIME_KEY) -> tuple[int, tuple[Any, ...] | None]:
    """Slots come a page at a time (100 by default): the cursor carries the last slot's sort key."""
    limit, cursor = page_params(default=100, maximum=MAX_SLOTS)
    if cursor is None:
        return limit, None
    try:
        after = json.loads(cursor)
    except ValueError as error:
        raise bad_cursor() from error
    well_formed = isinstance(after, list) and len(after) == len(kinds) and all(
        isinstance(part, kind) and not isinstance(part, bool) for part, kind in zip(after, kinds, strict=False))
    if not well_formed:
        raise bad_cursor()
    return limit, tuple(after)


def _slot_page(views: list[dict[str, Any]], slots: list[Slot], limit: int,
               key: Callable[[Slot], tuple[Any, ...]]) -> Response:
    """Only the page's last slot needs its sort key: the next page starts after it."""
    if len(slots) > limit:
        views[limit - 1]["cursor_key"] = json.dumps(key(slots[limit - 1]))
    return paged(views, limit, key="cursor_key", hide=("cursor_key",))


def _slot_view(slot: Slot, slugs: dict[uuid.UUID, str], distance: float | None = None) -> dict[str, Any]:
    office = slot.counter.office
    body: dict[str, Any] = {"office": str(office.id), "office_name": office.name,
                            "municipality": slugs[office.tenant_id], "start": slot.start.isoformat(),
                            "duration_minutes": slot.counter.offer.duration_minutes, "free": slot.free}
    if distance is not None:
        body["distance_km"] = round(distance, 2)
    return body


@tenant_api.get("/slots")
@public
def tenant_slots() -> Response:
    """Free visits for this municipality's citizens: its own counters and regional ones."""
    service, (first, last) = _service(), _range()
    office_id = None
    if "office" in request.args:
        try:
            office_id = uuid.UUID(request.args["office"])
        except ValueError as error:
            raise bad_parameter("office is an office id.") from error
    limit, after = _page()
    counters = counters_serving(session(), g.tenant.id, service, office_id)
    slots = free_slots(session(), counters, first, last, datetime.now(UTC), limit=limit + 1, after=after)
    slugs = slugs_by_id(session(), [c.office.tenant_id for c in counters])
    return _slot_page([_slot_view(s, slugs) for s in slots], slots, limit, by_time)


@platform_api.get("/slots")
@public
def region_slots() -> Response:
    """Region-wide: every counter that serves the citizen's municipality (`tenant`) for the service,
    sorted by time, or by distance from `near=lat,long`."""
    service, (first, last) = _service(), _range()
    tenant = tenant_cache().tenant(session(), request.args.get("tenant", "")[:63])
    if tenant is None or not tenant.is_active:
        raise bad_parameter("tenant names the citizen's municipality (its slug).")
    near = None
    if "near" in request.args:
        try:
            lat, long = (float(part) for part in request.args["near"].split(","))
        except ValueError as error:
            raise bad_parameter("near is lat,long.") from error
        if not (-90 <= lat <= 90 and -180 <= long <= 180):
            raise bad_parameter("near is lat,long.")
        near = (lat, long)
    sort = request.args.get("sort", "distance" if near else "time")
    if sort not in ("time", "distance") or (sort == "distance" and near is None):
        raise bad_parameter("sort is time, or distance with near.")
    limit, after = _page(DISTANCE_KEY if sort == "distance" else TIME_KEY)
    counters = counters_serving(session(), tenant.id, service)

    def away(counter: Counter) -> float:
        return distance_km(*near, counter.office.lat, counter.office.long) if near else 0.0

    nearest = away if sort == "distance" else None
    key = by_distance(away) if nearest else by_time
    slots = free_slots(session(), counters, first, last, datetime.now(UTC), limit=limit + 1, after=after,
                       nearest=nearest)
    slugs = slugs_by_id(session(), [c.office.tenant_id for c in counters])
    return _slot_page([_slot_view(s, slugs, away(s.counter) if near else None) for s in slots], slots, limit, key)


# --- appointments -----------------------------------------------------------------------------------

def _appointment_view(appointment: Appointment, zone: tzinfo) -> dict[str, Any]:
    """Every moment with the office's offset, as its slots are offered (stored in UTC)."""
    note_read(session(), appointment.tenant_id, appointment.citizen_id)  # staff's reads are audited
    return {"id": str(appointment.id), "service": appointment.service, "office": str(appointment.office_id),
            "start": appointment.starts_at.astimezone(zone).isoformat(),
            "end": appointment.ends_at.astimezone(zone).isoformat(),
            "status": appointment.status, "citizen_id": str(appointment.citizen_id),
            "case": str(appointment.case_id) if appointment.case_id else None,
            "created_at": appointment.created_at.astimezone(zone).isoformat()}


def _one(appointment: Appointment, status: int = 200) -> Response:
    calendar_url = url_for("tenant_api.appointment_calendar", appointment_id=appointment.id)
    zone = zone_of(office_zones(session(), [appointment]), appointment)
    return versioned(_appointment_view(appointment, zone) | {"calendar": calendar_url}, appointment.version, status)


@tenant_api.post("/appointments")
@requires("appointments:write")
def create_appointment() -> Response:
    return idempotent(_create_appointment)


def _create_appointment() -> Response:
    data = json_body(BookingInput)
    caller = principal()
    citizen = caller.viewer.citizen_id
    if citizen is None:
        if "citizen" not in data:
            raise InvalidInput({"citizen": ["Whom is this visit for? Their e-mail address."]})
        if not caller.handles(data["service"]):
            raise Forbidden("This service is not delegated to your team here.")
        citizen = require_user(session(), data["citizen"]).id
    elif "citizen" in data:
        raise InvalidInput({"citizen": ["You book for yourself; leave this out."]})
    case = None
    if "case" in data:
        case = visible_case(session(), g.tenant.id, Viewer(citizen_id=citizen), data["case"])
        if case is None:
            raise InvalidInput({"case": ["No such case of this person here."]})
    settings = current_app.config["TOWNHALL_SETTINGS"]
    appointment = book(session(), Booking(g.tenant.id, citizen, data["service"], data["office"], data["start"], case,
                                          caller.actor), datetime.now(UTC), settings.appointments_per_citizen)
    response = _one(appointment, 201)
    response.headers["Location"] = url_for("tenant_api.get_appointment", appointment_id=appointment.id)
    return response


@tenant_api.get("/appointments")
@requires("appointments:read")
def list_appointments() -> Response:
    limit, after = page_params()
    found = appointments_of(session(), g.tenant.id, principal().viewer, id_cursor(after), limit + 1)
    zones = office_zones(session(), found)
    return paged([_appointment_view(a, zone_of(zones, a)) for a in found], limit, key="id")


def _find(appointment_id: uuid.UUID) -> Appointment:
    appointment = appointment_of(session(), g.tenant.id, appointment_id, principal().viewer)
    if appointment is None:
        raise NotFound("No such appointment for you here.")
    return appointment


@tenant_api.get("/appointments/<uuid:appointment_id>")
@requires("appointments:read")
def get_appointment(appointment_id: uuid.UUID) -> Response:
    return _one(_find(appointment_id))


@tenant_api.post("/appointments/<uuid:appointment_id>/reschedule")
@requires("appointments:write")
def reschedule_appointment(appointment_id: uuid.UUID) -> Response:
    appointment = _find(appointment_id)
    require_if_match(version_etag(appointment.version))
    data = json_body(RescheduleInput)
    reschedule(session(), appointment, data["start"], data.get("office"), datetime.now(UTC))
    return _one(appointment)


@tenant_api.post("/appointments/<uuid:appointment_id>/cancel")
@requires("appointments:write")
def cancel_appointment(appointment_id: uuid.UUID) -> Response:
    appointment = _find(appointment_id)
    require_if_match(version_etag(appointment.version))
    case = visible_case(session(), g.tenant.id, EVERYTHING, appointment.case_id) if appointment.case_id else None
    cancel(session(), appointment, case, datetime.now(UTC))
    return _one(appointment)


@tenant_api.get("/appointments/<uuid:appointment_id>.ics")
@requires("appointments:read")
def appointment_calendar(appointment_id: uuid.UUID) -> Response:
    appointment = _find(appointment_id)
    office = session().get(Office, (appointment.office_tenant_id, appointment.office_id))
    if office is None:
        raise NotFound("The office of this appointment is gone.")
    service = service_type(appointment.service)
    name = pick(service.names, [*request.accept_languages.values(), g.tenant.default_language])[1] if service else ""
    host = urlsplit(current_app.config["TOWNHALL_SETTINGS"].base_url).hostname or "townhall"
    body = calendar(appointment, office, f"{name} — {office.name}", host)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="appointment-{appointment.id}.ics"'
    return response

