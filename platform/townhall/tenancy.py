"""Tenant context, the kernel's view of a tenant (`Municipality`) and the two isolation layers the
kernel owns.

1. The ORM guard: every ORM query on tenant-owned rows gets the tenant criterion; new rows are
   stamped with the tenant and a foreign tenant is refused at flush. Without a tenant in context,
   querying tenant-owned rows raises instead of returning everyone's rows.
2. PostgreSQL row-level security: the tenant is put into the transaction with
   `set_config('app.tenant_id', …, true)`; the policies (see migrations) compare against it, so even
   raw SQL sees one tenant, and no tenant means zero rows. The setting ends with the transaction, so a
   pooled connection never carries a tenant over.

The caller (the API's tenant resolution, a CLI command, a worker) decides which tenant is current.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, event, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker, with_loader_criteria

from townhall.db import TenantOwned

ALL_TENANTS = "all_tenants"
"""Execution option / session.info key: an explicit, reviewed opt-out of the ORM guard for
platform-wide work. Row-level security still applies on PostgreSQL: such work sets each tenant in
turn (a job carries its tenant), it never sees every tenant at once."""

_current_tenant: ContextVar[uuid.UUID | None] = ContextVar("townhall_tenant", default=None)


class TenantContextMissing(RuntimeError):
    """Tenant-owned data was touched with no tenant in context."""


class CrossTenantWrite(RuntimeError):
    """A row of one tenant was written while another tenant is in context."""


@dataclass(frozen=True)
class Municipality:
    """What kernel operations need to know of the tenant they work for; the API (and the CLI) make it
    from the tenant registry, which the kernel does not import."""

    id: uuid.UUID
    slug: str
    name: str  # in the tenant's default language, as printed on documents
    api_url: str  # absolute URL of the tenant's API, e.g. https://townhall.example/t/aalst/v1
    time_zone: str = "Europe/Brussels"

    def now(self) -> datetime:
        """The moment in the municipality's time zone (what rules see as `now`)."""
        return datetime.now(ZoneInfo(self.time_zone))


def current_tenant_id() -> uuid.UUID | None:
    return _current_tenant.get()


@contextmanager
def tenant_scope(session: Session, tenant_id: uuid.UUID | None) -> Iterator[None]:
    """Make `tenant_id` current for this block and for the session's open transaction, if any."""
    token = _current_tenant.set(tenant_id)
    try:
        if session.in_transaction():
            _bind_connection(session.connection(), tenant_id)
        yield
    finally:
        _current_tenant.reset(token)
        if session.in_transaction() and not _aborted(session.connection()):
            _bind_connection(session.connection(), _current_tenant.get())


@contextmanager
def person_scope(session: Session, person_id: uuid.UUID) -> Iterator[None]:
    """Platform-wide reads of one person's rows (their own cases, their teams' delegated cases): on
    PostgreSQL the read-only policies of `townhall.rls.PERSON_POLICIES` let them through for this
    block. The queries still name the person themselves (SQLite has no row-level security)."""
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    statement = text("SELECT set_config('app.person_id', :person, true)")
    if postgresql:
        connection.execute(statement, {"person": str(person_id)})
    try:
        yield
    finally:
        if postgresql and not _aborted(connection):
            connection.execute(statement, {"person": ""})


def enter_tenant(session: Session | None, tenant_id: uuid.UUID) -> object:
    """Make `tenant_id` current until `leave_tenant(token)`; for request scopes that span hooks."""
    token = _current_tenant.set(tenant_id)
    if session is not None and session.in_transaction():
        _bind_connection(session.connection(), tenant_id)
    return token


def leave_tenant(token: object) -> None:
    _current_tenant.reset(token)  # type: ignore[arg-type]


def _bind_connection(connection: Connection, tenant_id: uuid.UUID | None) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT set_config('app.tenant_id', :tenant, true)"),
            {"tenant": str(tenant_id) if tenant_id else ""},
        )


def _aborted(connection: Connection) -> bool:
    """A failed PostgreSQL transaction accepts no statement; it ends in a rollback anyway."""
    if connection.dialect.name != "postgresql":
        return False
    from psycopg.pq import TransactionStatus  # noqa: PLC0415  (only on PostgreSQL)

    status: TransactionStatus = connection.connection.driver_connection.info.transaction_status  # type: ignore[union-attr]
    return status == TransactionStatus.INERROR


def _after_begin(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    tenant_id = _current_tenant.get()
    if tenant_id is None:
        return
    if connection.dialect.name == "postgresql" and _begin_with_tenant(connection, tenant_id):
        return
    _bind_connection(connection, tenant_id)


def _begin_with_tenant(connection: Connection, tenant_id: uuid.UUID) -> bool:
    """Open the database transaction and set its tenant in one round trip instead of two (psycopg
    would send BEGIN on its own first). Every request pays this, so it is worth the low-level call.
    The id is a UUID we hold, so writing it into the statement is safe."""
    from psycopg import OperationalError  # noqa: PLC0415  (only on PostgreSQL)
    from psycopg.pq import ExecStatus, TransactionStatus  # noqa: PLC0415

    driver = connection.connection.driver_connection
    pgconn = driver.pgconn  # type: ignore[union-attr]
    if driver.autocommit or pgconn.transaction_status != TransactionStatus.IDLE:  # type: ignore[union-attr]
        return False
    tenant = str(uuid.UUID(str(tenant_id)))
    # Generic plans for this transaction's prepared statements: every query of a tenant's request is
    # keyed by tenant first, so one plan serves every tenant. Left to choose, PostgreSQL compares
    # per-tenant row estimates and keeps planning anew (policies and their subqueries included) on
    # every execution once a database holds many tenants, which cost more than running the query.
    statement = (f"BEGIN; SELECT set_config('app.tenant_id', '{tenant}', true), "
                 f"set_config('plan_cache_mode', 'force_generic_plan', true)")
    result = pgconn.exec_(statement.encode())
    if result.status != ExecStatus.TUPLES_OK:
        # Raised as SQLAlchemy raises driver errors: a connection the server dropped (a restart
        # between the pool's check and this BEGIN) is invalidated, not handed back to the pool, and
        # the request is answered 503 with Retry-After like any other lost connection, not 500.
        error = OperationalError(result.error_message.decode(errors="replace"))
        lost = connection.dialect.is_disconnect(error, driver, None)  # type: ignore[arg-type]  # a DB-API error
        if lost:
            connection.invalidate(error)
        raise DBAPIError.instance(statement, None, error, OperationalError, hide_parameters=True,
                                  connection_invalidated=lost, dialect=connection.dialect) from error
    return True


def _touches_tenant_owned(state: ORMExecuteState) -> bool:
    return any(issubclass(mapper.class_, TenantOwned) for mapper in state.all_mappers)


def _add_tenant_criteria(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    # Loader criteria propagate to lazy and column loads by themselves.
    if state.is_column_load or state.is_relationship_load:
        return
    if state.execution_options.get(ALL_TENANTS) or state.session.info.get(ALL_TENANTS):
        return
    if not _touches_tenant_owned(state):
        return
    tenant_id = _current_tenant.get()
    if tenant_id is None:
        raise TenantContextMissing("tenant-owned rows queried with no tenant in context")
    state.statement = state.statement.options(
        with_loader_criteria(TenantOwned, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)
    )


def _stamp_and_check(session: Session, _context: Any, _instances: Any) -> None:
    tenant_id = _current_tenant.get()
    platform_wide = bool(session.info.get(ALL_TENANTS))
    for obj in session.new:
        if not isinstance(obj, TenantOwned):
            continue
        if obj.tenant_id is None:
            if tenant_id is None:
                raise TenantContextMissing(f"new {type(obj).__name__} with no tenant in context")
            obj.tenant_id = tenant_id
        elif tenant_id is not None and obj.tenant_id != tenant_id:
            raise CrossTenantWrite(f"{type(obj).__name__} of another tenant")
        elif tenant_id is None and not platform_wide:
            raise TenantContextMissing(f"new {type(obj).__name__} with no tenant in context")
    for obj in list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantOwned):
            continue
        history = inspect(obj).attrs.tenant_id.history
        if history.has_changes():
            raise CrossTenantWrite(f"tenant_id of {type(obj).__name__} cannot change")
        if tenant_id is not None and obj.tenant_id != tenant_id:
            raise CrossTenantWrite(f"{type(obj).__name__} of another tenant")


def check_tenant(tenant_id: uuid.UUID) -> None:
    """The flush check for a row written with a Core statement, which the ORM guard does not see."""
    current = _current_tenant.get()
    if current is None:
        raise TenantContextMissing("a tenant-owned row written with no tenant in context")
    if tenant_id != current:
        raise CrossTenantWrite("a row of another tenant")


def install_guard(sessions: sessionmaker[Session]) -> None:
    """Attach the ORM guard and the row-level security binding to every session of this factory."""
    event.listen(sessions, "after_begin", _after_begin)
    event.listen(sessions, "do_orm_execute", _add_tenant_criteria)
    event.listen(sessions, "before_flush", _stamp_and_check)
