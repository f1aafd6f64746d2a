"""The large demo: many municipalities with a year of cases, to measure the platform at scale.

Municipalities are made through the same operations as any other (one transaction each, so an
interrupted run resumes where it stopped); their cases and timelines are written in bulk — COPY on
PostgreSQL, multi-row INSERT on SQLite — under the municipality's row-level security like any write.
Historical cases carry no outbox events: there is nothing to tell partners about the past.
"""

import json
import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import sql
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from tenants.models import Tenant
from tenants.operations import create_tenant
from townhall.auth.models import User
from townhall.calendar import add_working_days
from townhall.cases.models import Case, CaseStep, ReferenceCounter
from townhall.db import Database, make_engine
from townhall.ids import new_id
from townhall.services.operations import configure_service
from townhall.services.registry import SERVICE_TYPES
from townhall.tenancy import tenant_scope

ACTOR = "demo-seed"
NIS_BASE = 90_000  # no Belgian NIS code starts with 9: the large demo never collides with a real one

# One valid form per service the large demo opens (certificates are issued with a PDF; none here).
EXAMPLE_FORMS: dict[str, dict[str, Any]] = {
    "eid-card": {"reason": "renewal"},
    "travel-document": {"reason": "renewal", "express": False},
    "address-change": {"new_address": {"street": "Kerkstraat", "number": "12", "postal_code": "9300",
                                       "municipality": "Aalst"}, "moved_on": "2026-03-01", "household": []},
    "public-space-report": {"category": "pothole", "description": "Deep hole in the cycle lane",
                            "lat": 50.94, "long": 4.04},
    "parking-permit": {"plate": "1-ABC-234", "zone": "A1", "starts_on": "2026-04-01"},
    "bulky-waste": {"items": [{"kind": "furniture", "quantity": 2}], "volume_m3": 1.5},
}


@dataclass(frozen=True)
class LargeDemo:
    tenants: int = 1_000
    cases: int = 1_000_000
    seed: int = 2026

    @property
    def citizens(self) -> int:
        """One citizen per hundred cases, at most 10,000: most people have several cases."""
        return max(1, min(10_000, self.cases // 100))

    def slug(self, number: int) -> str:
        return f"demo-{number:04d}"


def citizen_email(number: int) -> str:
    return f"citizen-{number:05d}@large.demo.example"


def seed_large_demo(database: Database, plan: LargeDemo, advance: Callable[[int], None]) -> tuple[int, int]:
    """Create what is missing; `advance(n)` after every n cases written. Returns the municipalities
    and cases created by this run."""
    randomness = random.Random(plan.seed)  # noqa: S311  (demo data, repeatable on purpose)
    citizens = _citizens(database, plan.citizens)
    made_tenants = made_cases = 0
    for number in range(1, plan.tenants + 1):
        share = plan.cases // plan.tenants + (1 if number <= plan.cases % plan.tenants else 0)
        with database.unit_of_work() as session:
            if session.scalar(select(Tenant.id).where(Tenant.slug == plan.slug(number))) is not None:
                advance(share)  # made by an earlier run
                continue
            tenant = create_tenant(session, {
                "slug": plan.slug(number), "nis_code": str(NIS_BASE + number), "default_language": "nl",
                "languages": ["nl", "fr", "en"], "names": {"nl": f"Demogemeente {number:04d}"}}, ACTOR)
            with tenant_scope(session, tenant.id):
                for code in SERVICE_TYPES:
                    configure_service(session, tenant.id, code, {"channels": ["online", "counter"]})
                _write_cases(session, tenant, share, citizens, randomness)
        advance(share)
        made_tenants, made_cases = made_tenants + 1, made_cases + share
    return made_tenants, made_cases


def _citizens(database: Database, wanted: int) -> list[uuid.UUID]:
    """The people the demo cases are for: made once, found again on later runs."""
    with database.unit_of_work() as session:
        found = list(session.scalars(select(User.id).where(User.email_key.like("citizen-%@large.demo.example"))))
        if len(found) >= wanted:
            return found
        known = set(session.scalars(select(User.email_key).where(User.email_key.like("%@large.demo.example"))))
        rows = [{"id": new_id(), "email": citizen_email(n), "email_key": citizen_email(n),
                 "display_name": f"Demo Citizen {n:05d}", "password_hash": None, "is_platform_operator": False,
                 "preferred_language": "nl", "created_at": datetime.now(UTC)}
                for n in range(1, wanted + 1) if citizen_email(n) not in known]
        if rows:
            session.execute(insert(User), rows)
        return list(session.scalars(select(User.id).where(User.email_key.like("citizen-%@large.demo.example"))))


def _write_cases(session: Session, tenant: Tenant, count: int, citizens: Sequence[uuid.UUID],
                 randomness: random.Random) -> None:
    """`count` cases spread over the past year, numbered per year in the order they were opened, each
    with its timeline (created, and the step to where it stands now)."""
    services = list(EXAMPLE_FORMS)
    moments = sorted(randomness.uniform(0, 365 * 86_400) for _ in range(count))
    now = datetime.now(UTC)
    cases: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    last_number: dict[int, int] = {}
    for seconds_ago in reversed(moments):
        opened = now - timedelta(seconds=seconds_ago)
        year = opened.year
        last_number[year] = last_number.get(year, 0) + 1
        code = randomness.choice(services)
        workflow = SERVICE_TYPES[code].workflow
        status = randomness.choice(workflow.states)
        case_id = new_id(at=opened)
        due_on = add_working_days(opened.date(), SERVICE_TYPES[code].processing_days)
        cases.append({"tenant_id": tenant.id, "id": case_id, "reference": f"{tenant.slug.upper()}-{year}-"
                      f"{last_number[year]:06d}", "service": code, "status": status, "form": EXAMPLE_FORMS[code],
                      "citizen_id": randomness.choice(citizens), "created_by": ACTOR, "created_at": opened,
                      "updated_at": opened, "due_on": due_on, "fee_cents": SERVICE_TYPES[code].fee_cents,
                      "possible_duplicate_of": None, "version": 1})
        steps.append(_step(tenant.id, case_id, opened, "created", None, workflow.initial))
        if status != workflow.initial:
            steps.append(_step(tenant.id, case_id, opened + timedelta(hours=4), "transition", workflow.initial,
                               status))
    _bulk(session, Case.__table__, cases)  # type: ignore[arg-type]
    _bulk(session, CaseStep.__table__, steps)  # type: ignore[arg-type]
    for year, last in last_number.items():
        session.add(ReferenceCounter(tenant_id=tenant.id, year=year, last=last))
    session.flush()


def _step(tenant_id: uuid.UUID, case_id: uuid.UUID, at: datetime, kind: str, source: str | None,
          target: str) -> dict[str, Any]:
    return {"tenant_id": tenant_id, "id": new_id(at=at), "case_id": case_id, "at": at, "actor": ACTOR, "kind": kind,
            "from_status": source, "to_status": target, "note": None, "visible_to_citizen": True}


def _bulk(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    # COPY refuses tables under row-level security: copy into a scratch table, then one INSERT … SELECT,
    # which the policies check like any insert.
    names = list(rows[0])
    columns = sql.SQL(", ").join(map(sql.Identifier, names))
    target, scratch = sql.Identifier(table.name), sql.Identifier(f"scratch_{table.name}")
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(sql.SQL("CREATE TEMPORARY TABLE {} (LIKE {}) ON COMMIT DROP").format(scratch, target))
    with cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(scratch, columns)) as copy:
        for row in _copy_rows(rows, names):
            copy.write_row(row)
    cursor.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(target, columns, columns, scratch))
    cursor.execute(sql.SQL("DROP TABLE {}").format(scratch))


def _copy_rows(rows: list[dict[str, Any]], columns: list[str]) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        yield tuple(json.dumps(value) if isinstance(value, dict) else value for value in (row[c] for c in columns))


BULK_TABLES = ("users", "cases", "case_steps")


def refresh_statistics(owner_url: str) -> None:
    """After a bulk load, PostgreSQL's planner statistics and visibility map are stale until autovacuum
    catches up (and it would compete with whatever runs next): VACUUM ANALYZE now, as the owner."""
    engine = make_engine(owner_url)
    try:
        if engine.dialect.name != "postgresql":
            return
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(BULK_TABLES)}")
    finally:
        engine.dispose()
