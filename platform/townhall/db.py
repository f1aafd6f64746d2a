"""Database building blocks: declarative base, naming convention, column types, engine and sessions.

Operations only flush; the caller (one request, one CLI command, one job) owns the single commit.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Engine, ForeignKey, MetaData, Uuid, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
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


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite stores naive text, so restore the zone on load)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(UTC)

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


def make_engine(url: str, **overrides: Any) -> Engine:
    """An engine with the settings this project relies on for each backend."""
    parsed = make_url(url)
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        options = {
            "pool_pre_ping": True,
            "pool_timeout": 5,
            # prepare_threshold=None keeps PgBouncer in transaction mode safe.
            "connect_args": {"connect_timeout": 2, "prepare_threshold": None},
        }
    options.update(overrides)
    if "poolclass" in options:  # a pool without a queue takes no queue settings
        options.pop("pool_timeout", None)
    engine = create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
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
