"""The write that opens a case: its number, the case, its decisions, its first step, its event and
the documents of the evidence sent with it.

Every value of the new rows is known before they are written (ids, times, version 1), so they go
as Core statements built once: no ORM unit of work on the platform's most frequent write. The
reference is made in SQL on both backends, from the number the counter's upsert returns.
"""

from dataclasses import replace
from datetime import date, datetime
from functools import cache
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Insert, Select, Table, Text, bindparam, cast, column, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from townhall.audit.writes import mark_written
from townhall.cases.cards import CASE_COLUMNS, STEP_COLUMNS, CaseCard, Step
from townhall.cases.cards.driver import rows
from townhall.cases.models import Case, CaseDocument, CaseStep, ReferenceCounter
from townhall.db import Base, stored_utc
from townhall.outbox.models import OutboxEvent
from townhall.outbox.operations import event_row
from townhall.rules.models import CaseDecision
from townhall.tenancy import check_tenant


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


@cache
def _insert(model: type[Base]) -> Insert:
    return insert(_table(model))


@cache
def _counter_upsert(dialect: str) -> Any:
    """The next number from the counter of a municipality and year, in one atomic upsert: concurrent
    creations each get their own. Returns the reference made from it: `prefix` followed by what
    `f"{number:06d}"` makes (six digits at least, more past 999,999)."""
    counters = _table(ReferenceCounter)
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = (builder(counters).values(tenant_id=bindparam("tenant"), year=bindparam("year"), last=1)
              .on_conflict_do_update(index_elements=["tenant_id", "year"], set_={"last": counters.c.last + 1}))
    if dialect == "postgresql":
        digits = cast(counters.c.last, Text)
        number = func.lpad(digits, func.greatest(6, func.length(digits)), "0")
    else:
        number = func.printf("%06d", counters.c.last, type_=Text)
    return upsert.returning((bindparam("prefix", type_=Text) + number).label("reference"))


# The tables a new case writes to, in this order.
_OPENING = (Case, CaseDecision, CaseStep, OutboxEvent, CaseDocument)


@cache
def _opening_in_one() -> Select[Any]:
    """PostgreSQL: a new case in one round trip, returning its reference. The counter's upsert and
    the INSERTs are data-modifying CTEs of one statement (foreign keys are checked at its end); the
    reference the upsert returns goes into the case row and its event's data. Each table's rows
    travel as one JSON array that `jsonb_to_recordset` turns back into typed rows: a short statement
    with one parameter per table, parsed and prepared once."""
    taken = _counter_upsert("postgresql").cte("taken")
    reference = select(taken.c.reference).scalar_subquery()
    inserts = []
    for index, model in enumerate(_OPENING):
        table = _table(model)
        table_rows = func.jsonb_to_recordset(cast(bindparam(f"rows_{index}"), JSONB)).table_valued(
            *(column(c.name, c.type) for c in table.c)).render_derived(with_types=True)
        values: list[ColumnElement[Any]] = list(table_rows.c)
        if model is Case:
            values[list(table.c.keys()).index("reference")] = reference
        if model is OutboxEvent:
            values[list(table.c.keys()).index("data")] = table_rows.c.data.op("||")(
                func.jsonb_build_object("reference", reference))
        inserts.append(insert(table).from_select(list(table.c.keys()), select(*values)).cte(f"insert_{index}"))
    return select(taken.c.reference).add_cte(*inserts)


def _json_rows(table_rows: list[dict[str, Any]]) -> str:
    return orjson.dumps(table_rows, default=_json_value, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()


def _json_value(value: object) -> str:
    """Moments and dates, which orjson leaves to us: written as PostgreSQL reads them (moments as
    `UTCDateTime` binds them; a naive one is refused)."""
    if isinstance(value, datetime):
        return str(stored_utc(value))
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a column value")


def _opening_rows(case: CaseCard, decisions: list[dict[str, Any]], created: Step, event_data: dict[str, Any],
                  documents: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], ...]:
    """The rows of `_OPENING`, every column given; the tenant checked as the ORM guard checks it at
    flush (it does not see Core writes; row-level security checks again on PostgreSQL)."""
    step = {name: getattr(created, name) for name in STEP_COLUMNS}
    table_rows: tuple[list[dict[str, Any]], ...] = (
        [{name: getattr(case, name) for name in CASE_COLUMNS}], decisions,
        [{"tenant_id": case.tenant_id, "case_id": case.id, **step}],
        [event_row(case.tenant_id, "case.created", str(case.id), {**event_data, "reference": case.reference},
                   created.at)], documents)
    for row in (row for table in table_rows for row in table):
        check_tenant(row["tenant_id"])
    return table_rows


def write_new_case(session: Session, case: CaseCard, decisions: list[dict[str, Any]], created: Step,
                   event_data: dict[str, Any], slug: str, year: int,
                   documents: list[dict[str, Any]] | None = None) -> CaseCard:
    """Take the case's number from the counter of its municipality and year and write the case, its
    decision rows, its first step and its `case.created` event (`event_data`, which gets the
    reference), and the rows of its evidence's `documents`. Returns the case with its reference. The
    counter's row stays locked until the transaction ends."""
    connection = session.connection()
    mark_written(session)  # its statements bypass the session: the request's audit entry must know
    numbering = {"tenant": case.tenant_id, "year": year, "prefix": f"{slug.upper()}-{year}-"}
    if connection.dialect.name == "postgresql":
        tables = _opening_rows(case, decisions, created, event_data, documents or [])
        values = {f"rows_{index}": _json_rows(table_rows) for index, table_rows in enumerate(tables)}
        [(reference,)] = rows(connection, _opening_in_one(), {**numbering, **values})
        return replace(case, reference=reference)
    case = replace(case, reference=connection.execute(_counter_upsert(connection.dialect.name), numbering).scalar_one())
    tables = _opening_rows(case, decisions, created, event_data, documents or [])
    for model, table_rows in zip(_OPENING, tables, strict=True):
        if table_rows:
            connection.execute(_insert(model), table_rows)
    return case
