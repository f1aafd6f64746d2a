"""Read-side: offices that serve a municipality, free slots, appointments. Offices of every
municipality are public reference data (ALL_TENANTS here; a read-only policy on PostgreSQL)."""

import heapq
import math
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cached_property
from itertools import chain, dropwhile, islice
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from townhall.appointments.hours import Schedule
from townhall.appointments.models import Appointment, Office, OfficeService, RegionalService, SlotSeat
from townhall.auth.principal import Viewer
from townhall.tenancy import ALL_TENANTS

PUBLIC = {ALL_TENANTS: True}


@dataclass(frozen=True)
class Counter:
    """An office offering a service, as a slot search sees it."""

    office: Office
    offer: OfficeService

    @cached_property
    def label(self) -> tuple[str, str]:
        """The office's name and id: how slots at the same time are ordered (made once per search)."""
        return self.office.name, str(self.office.id)

    @property
    def schedule(self) -> Schedule:
        office = self.office
        return Schedule(office.weekly_hours, office.exceptions, office.regional_holiday, office.time_zone)


@dataclass(frozen=True)
class Slot:
    counter: Counter
    start: datetime
    free: int


def counters_serving(session: Session, tenant_id: uuid.UUID, service: str,
                     office_id: uuid.UUID | None = None) -> list[Counter]:
    """The municipality's own offices offering the service, and regional ones that serve it."""
    regional = select(RegionalService.office_id).where(RegionalService.served_tenant_id == tenant_id,
                                                       RegionalService.service == service)
    query = (select(Office, OfficeService)
             .join(OfficeService, and_(OfficeService.tenant_id == Office.tenant_id,
                                       OfficeService.office_id == Office.id))
             .where(OfficeService.service == service,
                    or_(Office.tenant_id == tenant_id, Office.id.in_(regional)))
             .order_by(Office.name, Office.id).execution_options(**PUBLIC))
    if office_id is not None:
        query = query.where(Office.id == office_id)
    return [Counter(office, offer) for office, offer in session.execute(query).all()]


def offices_of(session: Session, tenant_id: uuid.UUID) -> list[tuple[Office, list[OfficeService]]]:
    offices = session.scalars(select(Office).where(Office.tenant_id == tenant_id).order_by(Office.name)).all()
    offers = session.scalars(select(OfficeService).where(OfficeService.tenant_id == tenant_id)
                             .order_by(OfficeService.service)).all()
    return [(office, [o for o in offers if o.office_id == office.id]) for office in offices]


def office_of(session: Session, tenant_id: uuid.UUID, office_id: uuid.UUID) -> Office | None:
    return session.scalars(select(Office).where(Office.tenant_id == tenant_id, Office.id == office_id)).first()


def served_slugs(session: Session, office: Office) -> dict[str, list[uuid.UUID]]:
    rows = session.execute(select(RegionalService.service, RegionalService.served_tenant_id)
                           .where(RegionalService.tenant_id == office.tenant_id,
                                  RegionalService.office_id == office.id)).all()
    found: dict[str, list[uuid.UUID]] = {}
    for service, tenant in rows:
        found.setdefault(service, []).append(tenant)
    return found


SlotKey = tuple[Any, ...]


def by_time(slot: Slot) -> SlotKey:
    return (int(slot.start.timestamp()), *slot.counter.label)


def free_slots(session: Session, counters: Sequence[Counter], first: date, last: date, now: datetime, *,
               limit: int, after: SlotKey | None = None,
               nearest: Callable[[Counter], float] | None = None) -> list[Slot]:
    """The first `limit` slots after `after` from `first` to `last` with a free counter, within each
    office's lead time and horizon: by time (`by_time`), or office by office nearest first
    (`by_distance`). Each office yields its slots in time order and only as many are made as the page
    needs; one query reads the taken seats of every office in the range."""
    if not counters:
        return []
    earliest_day, latest_day = first - timedelta(days=1), last + timedelta(days=1)
    taken_rows = session.execute(
        select(SlotSeat.office_id, SlotSeat.starts_at, func.count())
        .where(SlotSeat.office_id.in_([c.office.id for c in counters]),
               SlotSeat.starts_at >= datetime.combine(earliest_day, datetime.min.time(), tzinfo=now.tzinfo),
               SlotSeat.starts_at < datetime.combine(latest_day, datetime.min.time(), tzinfo=now.tzinfo))
        .group_by(SlotSeat.office_id, SlotSeat.starts_at)).all()
    taken = {(office_id, starts_at): count for office_id, starts_at, count in taken_rows}

    def free(counter: Counter) -> Iterator[Slot]:
        offer, zone = counter.offer, ZoneInfo(counter.office.time_zone)
        earliest = now + timedelta(minutes=offer.lead_minutes)
        latest = now + timedelta(days=offer.horizon_days)
        span_first = max(first, now.astimezone(zone).date())
        span_last = min(last, latest.astimezone(zone).date())
        for start in counter.schedule.starts(span_first, span_last, offer.duration_minutes):
            if earliest <= start <= latest:
                left = offer.counters - taken.get((counter.office.id, start), 0)
                if left > 0:
                    yield Slot(counter, start, left)

    if nearest is not None:
        key = by_distance(nearest)
        ordered: Iterator[Slot] = chain.from_iterable(
            free(c) for c in sorted(counters, key=lambda c: (nearest(c), str(c.office.id))))
    else:
        key = by_time
        ordered = heapq.merge(*(free(c) for c in counters), key=by_time)
    if after is not None:
        ordered = dropwhile(lambda slot: key(slot) <= after, ordered)
    return list(islice(ordered, limit))


def by_distance(nearest: Callable[[Counter], float]) -> Callable[[Slot], SlotKey]:
    def key(slot: Slot) -> SlotKey:
        return round(nearest(slot.counter), 6), slot.counter.label[1], int(slot.start.timestamp())

    return key


def distance_km(lat1: float, long1: float, lat2: float, long2: float) -> float:
    a, b, c, d = map(math.radians, (lat1, long1, lat2, long2))
    h = math.sin((c - a) / 2) ** 2 + math.cos(a) * math.cos(c) * math.sin((d - b) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


def _visible(query: Select[Appointment], viewer: Viewer) -> Select[Appointment]:
    """What the caller may see: a citizen their own visits, a delegated team those of its services."""
    if viewer.citizen_id is not None:
        query = query.where(Appointment.citizen_id == viewer.citizen_id)
    if viewer.only_services is not None:
        query = query.where(Appointment.service.in_(sorted(viewer.only_services)))
    return query


def appointment_of(session: Session, tenant_id: uuid.UUID, appointment_id: uuid.UUID,
                   viewer: Viewer) -> Appointment | None:
    query = select(Appointment).where(Appointment.tenant_id == tenant_id, Appointment.id == appointment_id)
    return session.scalars(_visible(query, viewer)).first()


def visits_for_case(session: Session, tenant_id: uuid.UUID, viewer: Viewer,
                    case_id: uuid.UUID) -> Sequence[Appointment]:
    """The visits booked for one case that the viewer may see, oldest first."""
    query = _visible(select(Appointment).where(Appointment.tenant_id == tenant_id, Appointment.case_id == case_id),
                     viewer)
    return session.scalars(query.order_by(Appointment.id)).all()


def appointments_of(session: Session, tenant_id: uuid.UUID, viewer: Viewer,
                    after: uuid.UUID | None, limit: int) -> Sequence[Appointment]:
    query = _visible(select(Appointment).where(Appointment.tenant_id == tenant_id), viewer)
    if after is not None:
        query = query.where(Appointment.id > after)
    return session.scalars(query.order_by(Appointment.id).limit(limit)).all()


OfficeKey = tuple[uuid.UUID, uuid.UUID]  # (the office's municipality, the office)


def office_zones(session: Session, appointments: Iterable[Appointment]) -> dict[OfficeKey, tzinfo]:
    """The time zone of each appointment's office (one query), in which its moments are written."""
    wanted = {(a.office_tenant_id, a.office_id) for a in appointments}
    if not wanted:
        return {}
    rows = session.execute(select(Office.tenant_id, Office.id, Office.time_zone)
                           .where(Office.id.in_([office for _, office in wanted]))
                           .execution_options(**PUBLIC)).all()
    return {(tenant, office): ZoneInfo(zone) for tenant, office, zone in rows if (tenant, office) in wanted}


def zone_of(zones: dict[OfficeKey, tzinfo], appointment: Appointment) -> tzinfo:
    return zones.get((appointment.office_tenant_id, appointment.office_id), UTC)


def day_at_office(session: Session, office: Office, day: date, viewer: Viewer) -> Sequence[Appointment]:
    """Every booked visit at one office on one day that the staff member may see, whichever
    municipality the citizen lives in (the office's municipality reads them through a read-only
    policy on PostgreSQL)."""
    zone = ZoneInfo(office.time_zone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)  # 23 or 25 h on DST days
    visits = select(Appointment).where(
        Appointment.office_tenant_id == office.tenant_id, Appointment.office_id == office.id,
        Appointment.status == "booked", Appointment.starts_at >= start, Appointment.starts_at < end)
    return session.scalars(
        _visible(visits, viewer).order_by(Appointment.starts_at, Appointment.id).execution_options(**PUBLIC)).all()
