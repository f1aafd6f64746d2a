"""Database building blocks: declarative base, naming convention, column types, engine and sessions.

Operations only flush; the caller (one request, one CLI command, one job) owns the single commit.
"""

import select
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Engine, ForeignKey, MetaData, Uuid, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

# Stable constraint names: migrations can address them and autogenerate stays quiet.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def stored_utc(value: datetime) -> datetime:
    """A moment as the database stores it: in UTC, and never from a naive datetime."""
    if value.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite stores naive text, so restore the zone on load)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else stored_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JsonDocument,
        dict[str, str]: JsonDocument,
        list[str]: JsonDocument,
        list[dict[str, Any]]: JsonDocument,
    }


class TenantOwned:
    """Mixin for rows that belong to one tenant.

    `tenant_id` leads the primary key and every foreign key to tenant-owned rows, so a row can never
    point at another tenant's row, and the schema is ready to be distributed by tenant.
    The ORM guard (townhall.tenancy) filters and stamps it; PostgreSQL row-level security enforces it.
    """

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805  (declared_attr receives the class)
        return mapped_column(
            ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True, sort_order=-100
        )


def tenant_owned_tables() -> list[str]:
    """Names of every table whose rows belong to a tenant (the tables row-level security must cover)."""
    return sorted(
        mapper.tables[0].name
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, TenantOwned)
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers run beside one writer; NORMAL loses at most the last commits on power loss
    # (never on a process crash); the busy timeout waits for the writer instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


RESTED_SECONDS = 1.0


def _note_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["checked_in"] = time.monotonic()


def _has_input(dbapi_connection: Any) -> bool:
    """An idle PostgreSQL connection has nothing to say: readable means the server said goodbye
    (a restart or a terminated backend) or the socket is gone."""
    try:
        return bool(select.select([dbapi_connection.pgconn.socket], [], [], 0)[0])
    except Exception:  # closed, no socket (psycopg raises its own error): the ping decides
        return True


def _check_on_checkout(engine: Engine) -> Callable[[Any, ConnectionPoolEntry, Any], None]:
    """Pessimistic disconnect handling without a round trip per request: a connection that rested
    in the pool for more than a second, or whose server spoke while it was idle, is pinged first; a
    dead one is replaced before the request sees it (a restart during a busy second can still fail
    a request, answered 503 with Retry-After)."""

    def check(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        rested = time.monotonic() - record.info.get("checked_in", 0.0)
        if rested < RESTED_SECONDS and not _has_input(dbapi_connection):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError("stale pooled connection") from error  # the pool retries with a new one

    return check


def make_engine(url: str, *, prepared_statements: bool = True, **overrides: Any) -> Engine:
    """An engine with the settings this project relies on for each backend.

    On PostgreSQL, statements run often are prepared on the server (psycopg's default: from the
    fifth run): planning a join under row-level security costs more than running it. Turn it off
    only behind a pooler that cannot keep prepared statements (PgBouncer before 1.21 in transaction
    mode)."""
    parsed = make_url(url)
    options: dict[str, Any] = {}
    postgresql = parsed.get_backend_name() == "postgresql"
    if postgresql:
        connect_args: dict[str, Any] = {"connect_timeout": 2}
        if not prepared_statements:
            connect_args["prepare_threshold"] = None
        options = {"pool_timeout": 5, "connect_args": connect_args}
    options.update(overrides)
    if "poolclass" in options:  # a pool without a queue takes no queue settings
        options.pop("pool_timeout", None)
    engine = create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif postgresql and not options.get("pool_pre_ping"):
        event.listen(engine, "checkin", _note_checkin)
        event.listen(engine, "checkout", _check_on_checkout(engine))
    return engine


class Database:
    """An engine and the session factory bound to it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = sessionmaker(bind=engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: commit when the block ends normally, roll back on any exception."""
        with self.sessions() as session, session.begin():
            yield session
