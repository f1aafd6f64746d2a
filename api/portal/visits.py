"""The portal's visits: a case's visit booked at any counter of the region that serves the
municipality for its service, moved or cancelled, in the office's own time, with its calendar file.
The kernel's booking operations do the work (townhall.appointments), as for the API."""

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, request, url_for
from sqlalchemy import select

from api.console.web import see_other
from api.database import session
from api.portal.routes import portal
from api.portal.web import citizen_page, own_case, page, refusal, service_name, signed_in, text
from tenants.queries import slugs_by_id
from townhall.appointments.ics import calendar
from townhall.appointments.models import Appointment, Office
from townhall.appointments.operations import Booking, book, cancel, reschedule
from townhall.appointments.queries import PUBLIC, appointment_of, counters_serving, free_slots, visits_for_case
from townhall.auth.principal import Viewer
from townhall.errors import TownhallError

DAYS = 30  # how far ahead the portal offers visits
SHOWN = 40  # the first free visits offered


def _mine(appointment_id: uuid.UUID) -> Appointment | None:
    return appointment_of(session(), g.tenant.id, appointment_id, Viewer(citizen_id=signed_in().user.id))


def _booked_for(case_id: uuid.UUID) -> Appointment | None:
    found = visits_for_case(session(), g.tenant.id, Viewer(citizen_id=signed_in().user.id), case_id)
    return next((a for a in found if a.status == "booked"), None)


@portal.route("/cases/<uuid:case_id>/visit", methods=["GET", "POST"])
@citizen_page
def visit(case_id: uuid.UUID) -> Response:
    """Free visits for the case's service at every counter that serves this municipality; choosing
    one books it (or moves the visit already booked)."""
    case = own_case(case_id)
    if case is None:
        return refusal(text()["no_case"], 404)
    counters = counters_serving(session(), g.tenant.id, case.service)
    now = datetime.now(UTC)
    problem = None
    if request.method == "POST":
        office_id, _, start = request.form.get("slot", "").partition("|")
        try:
            chosen_office, chosen_start = uuid.UUID(office_id), datetime.fromisoformat(start)
        except ValueError:
            problem = text()["choose_visit"]
        else:
            booked = _booked_for(case.id)
            try:
                with session().begin_nested():
                    if booked is not None:
                        reschedule(session(), booked, chosen_start, chosen_office, now)
                    else:
                        book(session(), Booking(g.tenant.id, signed_in().user.id, case.service, chosen_office,
                                                chosen_start, case, g.principal.actor), now,
                             current_app.config["TOWNHALL_SETTINGS"].appointments_per_citizen)
                return see_other(url_for("portal.case_page", case_id=case.id))
            except TownhallError as error:
                problem = error.detail
    today = now.date()
    slots = free_slots(session(), counters, today, today + timedelta(days=DAYS), now, limit=SHOWN)
    slugs = slugs_by_id(session(), [c.office.tenant_id for c in counters])
    offered = [{"value": f"{s.counter.office.id}|{s.start.isoformat()}", "office": s.counter.office.name,
                "municipality": slugs.get(s.counter.office.tenant_id, ""),
                "at": s.start.astimezone(ZoneInfo(s.counter.office.time_zone))} for s in slots]
    return page("visit.html", status=422 if problem else 200, case=case, service=service_name(case.service),
                slots=offered, problem=problem)


@portal.post("/visits/<uuid:appointment_id>/cancel")
@citizen_page
def cancel_visit(appointment_id: uuid.UUID) -> Response:
    appointment = _mine(appointment_id)
    if appointment is None:
        return refusal(text()["no_visit"], 404)
    case = own_case(appointment.case_id) if appointment.case_id else None
    cancel(session(), appointment, case, datetime.now(UTC))
    return see_other(url_for("portal.case_page", case_id=case.id) if case else url_for("portal.my_cases"))


@portal.get("/visits/<uuid:appointment_id>.ics")
@citizen_page
def visit_calendar(appointment_id: uuid.UUID) -> Response:
    appointment = _mine(appointment_id)
    office = session().scalars(select(Office).where(  # offices are public, the region's too
        Office.tenant_id == appointment.office_tenant_id, Office.id == appointment.office_id)
        .execution_options(**PUBLIC)).first() if appointment else None
    if appointment is None or office is None:
        return refusal(text()["no_visit"], 404)
    host = urlsplit(current_app.config["TOWNHALL_SETTINGS"].base_url).hostname or "townhall"
    body = calendar(appointment, office, f"{service_name(appointment.service)} — {office.name}", host)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="appointment-{appointment.id}.ics"'
    return response
