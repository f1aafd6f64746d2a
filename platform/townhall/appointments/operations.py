"""Write use-cases for offices and appointments. They validate, change and flush; the caller commits."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from townhall.appointments.models import Appointment, Office, OfficeService, RegionalService, SlotSeat
from townhall.appointments.queries import Counter, counters_serving, office_zones, zone_of
from townhall.cases.models import Case
from townhall.cases.operations import move_case
from townhall.changes.diff import differences
from townhall.changes.operations import record
from townhall.errors import Conflict, InvalidInput, Refused, StaleVersion
from townhall.ids import new_id
from townhall.outbox.operations import emit
from townhall.services.base import SYSTEM
from townhall.services.registry import service_type

PICKUP_SERVICES = frozenset({"eid-card", "travel-document"})


class SlotFull(Conflict):
    code = "slot_full"


class TooManyAppointments(Refused):
    title = "Too many appointments"
    code = "appointment_limit"


OFFICE_FIELDS = ("name", "address", "hours", "exceptions", "regional_holiday", "services")
"""What the history shows of an office."""


def _office_settings(session: Session, office: Office) -> dict[str, Any]:
    offers = session.scalars(select(OfficeService).where(OfficeService.tenant_id == office.tenant_id,
                                                         OfficeService.office_id == office.id)
                             .order_by(OfficeService.service)).all()
    return {"name": office.name, "address": office.address, "hours": dict(office.weekly_hours),
            "exceptions": dict(office.exceptions), "regional_holiday": office.regional_holiday,
            "services": [{"service": o.service, "duration_minutes": o.duration_minutes, "counters": o.counters}
                         for o in offers]}


def save_office(session: Session, tenant_id: uuid.UUID, time_zone: str, values: Mapping[str, Any],
                served: Mapping[str, Sequence[uuid.UUID]], office: Office | None = None,
                expected_version: int | None = None, *, actor: str = "platform") -> Office:
    """Create or replace an office with its services and regional reach (`values` loaded by
    OfficeInput; `served`: service → the other municipalities it serves)."""
    unknown = [entry["service"] for entry in values["services"] if service_type(entry["service"]) is None]
    if unknown:
        raise InvalidInput({"services": [f"The platform offers no service '{code}'." for code in unknown]})
    if office is None:
        before: dict[str, Any] = {}
        office = Office(tenant_id=tenant_id, time_zone=time_zone)
        session.add(office)
    elif expected_version is not None and expected_version != office.version:
        raise StaleVersion("The office changed since you read it.")
    else:
        before = _office_settings(session, office)
    office.name, office.address, office.lat, office.long = (values["name"], values["address"], values["lat"],
                                                            values["long"])
    office.languages, office.accessibility = list(values["languages"]), values["accessibility"]
    office.weekly_hours = dict(values["hours"])
    office.exceptions = {day.isoformat(): hours for day, hours in values["exceptions"].items()}
    office.regional_holiday = values["regional_holiday"]
    row_changed = session.is_modified(office)
    session.flush()
    session.execute(delete(OfficeService).where(OfficeService.tenant_id == tenant_id,
                                                OfficeService.office_id == office.id))
    session.execute(delete(RegionalService).where(RegionalService.tenant_id == tenant_id,
                                                  RegionalService.office_id == office.id))
    for entry in values["services"]:
        session.add(OfficeService(tenant_id=tenant_id, office_id=office.id, service=entry["service"],
                                  duration_minutes=entry["duration_minutes"], counters=entry["counters"],
                                  lead_minutes=entry["lead_minutes"], horizon_days=entry["horizon_days"]))
        for other in dict.fromkeys(served.get(entry["service"], [])):
            if other != tenant_id:
                session.add(RegionalService(tenant_id=tenant_id, office_id=office.id, service=entry["service"],
                                            served_tenant_id=other))
    session.flush()
    after = _office_settings(session, office)
    changes = differences(before, after, OFFICE_FIELDS)
    if before and changes and not row_changed:
        flag_modified(office, "name")  # only its services changed: the office's version (its ETag) moves on too
        session.flush()
    record(session, tenant_id, actor, "offices", {f"{office.id}.{name}": change for name, change in changes.items()})
    return office


def _event(session: Session, appointment: Appointment, kind: str, zone: tzinfo) -> None:
    """`start` with the office's offset, as the slot was offered (and as e-mails quote it)."""
    emit(session, appointment.tenant_id, f"appointment.{kind}", str(appointment.id),
         {"appointment": str(appointment.id), "office": str(appointment.office_id), "service": appointment.service,
          "start": appointment.starts_at.astimezone(zone).isoformat(), "status": appointment.status,
          "citizen": str(appointment.citizen_id), "case": str(appointment.case_id) if appointment.case_id else None})


def _counter(session: Session, tenant_id: uuid.UUID, service: str, office_id: uuid.UUID) -> Counter:
    found = counters_serving(session, tenant_id, service, office_id)
    if not found:
        raise InvalidInput({"office": ["This office does not offer this service to this municipality's citizens."]})
    return found[0]


def _check_slot(counter: Counter, start: datetime, now: datetime) -> datetime:
    """The start must be one of the office's slots, within its lead time and horizon."""
    offer, zone = counter.offer, ZoneInfo(counter.office.time_zone)
    local = start.astimezone(zone)
    if not now + timedelta(minutes=offer.lead_minutes) <= start <= now + timedelta(days=offer.horizon_days):
        raise InvalidInput({"start": [f"Book between {offer.lead_minutes} minutes and {offer.horizon_days} days "
                                      "ahead."]})
    if all(candidate != local for candidate in counter.schedule.starts(local.date(), local.date(),
                                                                          offer.duration_minutes)):
        raise InvalidInput({"start": ["Not a slot of this office: see /slots."]})
    return start.astimezone(UTC)


def _take_seat(session: Session, counter: Counter, start: datetime, appointment_id: uuid.UUID) -> None:
    """Insert the first free seat of the slot; every seat taken is a full slot (409). The primary
    key decides between concurrent bookings; nobody waits on a lock."""
    builder = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for seat in range(counter.offer.counters):
        taken = session.execute(
            builder(SlotSeat).values(office_id=counter.office.id, starts_at=start, seat=seat,
                                     appointment_id=appointment_id)
            .on_conflict_do_nothing().returning(SlotSeat.seat)).first()
        if taken is not None:
            return
    raise SlotFull("This slot is fully booked; choose another one.")


def _free_seat(session: Session, appointment: Appointment) -> None:
    session.execute(delete(SlotSeat).where(SlotSeat.appointment_id == appointment.id))


@dataclass(frozen=True)
class Booking:
    tenant_id: uuid.UUID
    citizen_id: uuid.UUID
    service: str
    office_id: uuid.UUID
    start: datetime
    case: Case | None
    actor: str


def book(session: Session, booking: Booking, now: datetime, per_citizen: int) -> Appointment:
    counter = _counter(session, booking.tenant_id, booking.service, booking.office_id)
    start = _check_slot(counter, booking.start, now)
    upcoming = session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.tenant_id == booking.tenant_id, Appointment.citizen_id == booking.citizen_id,
        Appointment.status == "booked", Appointment.starts_at >= now)) or 0
    if upcoming >= per_citizen:
        raise TooManyAppointments(f"At most {per_citizen} upcoming appointments per person here; cancel one first.")
    case = booking.case
    if case is not None and (case.service != booking.service or case.citizen_id != booking.citizen_id):
        raise InvalidInput({"case": ["That case is not this person's case for this service."]})
    appointment = Appointment(tenant_id=booking.tenant_id, office_tenant_id=counter.office.tenant_id,
                              office_id=counter.office.id, service=booking.service, starts_at=start,
                              ends_at=start + timedelta(minutes=counter.offer.duration_minutes),
                              citizen_id=booking.citizen_id, case_id=case.id if case else None,
                              created_by=booking.actor, created_at=now, changed_at=now)
    appointment.id = new_id()  # the seat names it before the row exists
    _take_seat(session, counter, start, appointment.id)
    session.add(appointment)
    session.flush()
    if case is not None and case.service in PICKUP_SERVICES and case.status == "ready_for_pickup":
        move_case(session, case, "pickup_booked", SYSTEM, "system",
                  note=f"Pickup on {start.astimezone(ZoneInfo(counter.office.time_zone)):%Y-%m-%d %H:%M} "
                       f"at {counter.office.name}.")
    _event(session, appointment, "booked", ZoneInfo(counter.office.time_zone))
    return appointment


def reschedule(session: Session, appointment: Appointment, start: datetime, office_id: uuid.UUID | None,
               now: datetime, expected_version: int | None = None) -> Appointment:
    """Take the new slot's seat first, then free the old one: never without a seat."""
    if expected_version is not None and expected_version != appointment.version:
        raise StaleVersion("The appointment changed since you read it.")
    if appointment.status != "booked":
        raise Conflict("A cancelled appointment cannot be moved; book a new one.")
    counter = _counter(session, appointment.tenant_id, appointment.service, office_id or appointment.office_id)
    new_start = _check_slot(counter, start, now)
    _free_seat(session, appointment)
    _take_seat(session, counter, new_start, appointment.id)
    appointment.office_id, appointment.office_tenant_id = counter.office.id, counter.office.tenant_id
    appointment.starts_at = new_start
    appointment.ends_at = new_start + timedelta(minutes=counter.offer.duration_minutes)
    appointment.reminded_at = None
    appointment.changed_at, appointment.sequence = now, appointment.sequence + 1
    session.flush()
    _event(session, appointment, "rescheduled", ZoneInfo(counter.office.time_zone))
    return appointment


def cancel(session: Session, appointment: Appointment, case: Case | None, now: datetime,
           expected_version: int | None = None) -> Appointment:
    if expected_version is not None and expected_version != appointment.version:
        raise StaleVersion("The appointment changed since you read it.")
    if appointment.status == "cancelled":
        return appointment
    _free_seat(session, appointment)
    appointment.status = "cancelled"
    appointment.changed_at, appointment.sequence = now, appointment.sequence + 1
    session.flush()
    if case is not None and case.status == "pickup_booked":
        move_case(session, case, "ready_for_pickup", SYSTEM, "system", note="Pickup appointment cancelled.")
    _event(session, appointment, "cancelled", zone_of(office_zones(session, [appointment]), appointment))
    return appointment


def remind(session: Session, tenant_id: uuid.UUID, now: datetime, ahead: timedelta = timedelta(hours=24)) -> int:
    """A reminder event for each visit within `ahead`, once (moving an appointment allows another)."""
    due = session.scalars(select(Appointment).where(
        Appointment.tenant_id == tenant_id, Appointment.status == "booked", Appointment.reminded_at.is_(None),
        Appointment.starts_at >= now, Appointment.starts_at <= now + ahead)).all()
    zones = office_zones(session, due)
    for appointment in due:
        appointment.reminded_at = now
        _event(session, appointment, "reminder", zone_of(zones, appointment))
    session.flush()
    return len(due)
