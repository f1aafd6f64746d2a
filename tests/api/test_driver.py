"""The hottest prebuilt statements run on the driver itself on PostgreSQL (`townhall.cases.cards.driver`):
the same rows as SQLAlchemy's path gives, the same conversions both ways, the same listeners told,
and SQLAlchemy's errors when the database fails. Every test runs on both backends where it can (on
SQLite `rows` is SQLAlchemy's path, which the answers are compared with)."""

import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Select, bindparam, event, literal, select
from sqlalchemy.exc import DBAPIError, OperationalError

from api.database import database
from support import postgres
from tenants.models import Tenant
from townhall.cases.cards import driver

_tenants = Tenant.__table__
STATEMENT = (select(_tenants.c.id, _tenants.c.slug, _tenants.c.created_at, literal("a constant"))
             .where(_tenants.c.slug == bindparam("slug")))


def _on_the_driver(statement: Select[Any], dialect: str) -> bool:
    """Whether `rows` ran `statement` itself (PostgreSQL) rather than through SQLAlchemy."""
    return dialect == "postgresql" and driver._compiled.get(statement) is not None


def test_rows_are_the_ones_sqlalchemy_gives(app: Flask, make_tenant: object) -> None:
    make_tenant("gent", "44021")  # type: ignore[operator]
    with app.app_context(), database().sessions() as session:
        connection = session.connection()
        ours = [tuple(row) for _ in range(6) for row in driver.rows(connection, STATEMENT, {"slug": "gent"})]
        theirs = [tuple(row) for row in connection.execute(STATEMENT, {"slug": "gent"})]
        dialect = connection.dialect.name
    assert ours == theirs * 6 and ours[0][1:] == ("gent", ours[0][2], "a constant")
    assert ours[0][2].tzinfo == UTC  # through UTCDateTime's result processor, as SQLAlchemy reads it
    assert _on_the_driver(STATEMENT, dialect) == (dialect == "postgresql")


def test_columns_without_a_result_processor_come_as_the_driver_gives_them(app: Flask, make_tenant: object) -> None:
    make_tenant("gent", "44021")  # type: ignore[operator]
    plain = select(_tenants.c.slug, _tenants.c.nis_code).where(_tenants.c.slug == bindparam("slug"))
    with app.app_context(), database().sessions() as session:
        connection = session.connection()
        ours = [tuple(row) for row in driver.rows(connection, plain, {"slug": "gent"})]
        assert ours == [tuple(row) for row in connection.execute(plain, {"slug": "gent"})] == [("gent", "44021")]
        if connection.dialect.name == "postgresql":
            compiled = driver._compiled[plain]
            assert compiled is not None and compiled.results == ()  # nothing to convert: rows as the driver gives


def test_values_pass_their_type_s_bind_processor_and_listeners_are_told(app: Flask, make_tenant: object) -> None:
    """An aware moment in another zone is bound in UTC, as UTCDateTime binds it; the statement and
    its converted values reach `before_cursor_execute` (statement-count tests rely on it)."""
    make_tenant("gent", "44021")  # type: ignore[operator]
    since = (select(_tenants.c.slug).where(_tenants.c.created_at > bindparam("since"))
             .where(_tenants.c.slug == bindparam("slug")))
    engine = app.extensions["townhall.database"].engine
    told: list[tuple[str, Any]] = []

    def listen(_conn: object, _cursor: object, statement: str, parameters: Any, *_: object) -> None:
        if "tenants" in statement:
            told.append((statement, parameters))

    brussels = timezone(timedelta(hours=2))
    event.listen(engine, "before_cursor_execute", listen)
    try:
        with app.app_context(), database().sessions() as session:
            connection = session.connection()
            early = datetime.now(brussels) - timedelta(days=1)
            found = driver.rows(connection, since, {"since": early, "slug": "gent"})
            assert [tuple(row) for row in found] == [("gent",)]
            assert driver.rows(connection, since, {"since": early + timedelta(days=2), "slug": "gent"}) == []
            dialect = connection.dialect.name
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert len(told) == 2 and all("tenants" in statement for statement, _ in told)
    if dialect == "postgresql":
        assert _on_the_driver(since, dialect)
        assert told[0][1]["since"] == early and told[0][1]["since"].tzinfo == UTC  # converted before it was sent


def test_an_expanding_in_parameter_takes_sqlalchemy_s_path(app: Flask, make_tenant: object) -> None:
    make_tenant("gent", "44021")  # type: ignore[operator]
    make_tenant("aalst", "41002")  # type: ignore[operator]
    among = (select(_tenants.c.slug).where(_tenants.c.slug.in_(bindparam("slugs", expanding=True)))
             .order_by(_tenants.c.slug))
    with app.app_context(), database().sessions() as session:
        connection = session.connection()
        for slugs in (["gent"], ["aalst", "gent", "ninove"]):
            found = driver.rows(connection, among, {"slugs": slugs})
            assert [row[0] for row in found] == sorted(set(slugs) - {"ninove"})
        if connection.dialect.name == "postgresql":
            assert among in driver._compiled and driver._compiled[among] is None  # rendered anew each time


@pytest.mark.postgresql
def test_a_failing_statement_is_sqlalchemy_s_error_with_its_parameters_hidden(app: Flask) -> None:
    divided = select((literal(1) / bindparam("divisor")).label("quotient")).where(bindparam("secret") != "")
    with app.app_context(), database().sessions() as session:
        connection = session.connection()
        with pytest.raises(DBAPIError) as raised:
            driver.rows(connection, divided, {"divisor": 0, "secret": "secret-value"})
        assert not raised.value.connection_invalidated and not connection.invalidated
        assert "division by zero" in str(raised.value) and "secret-value" not in str(raised.value)
        assert raised.value.statement == driver._compiled[divided].sql  # type: ignore[union-attr]


@pytest.mark.postgresql
@pytest.mark.committed
def test_a_connection_lost_under_a_statement_is_sqlalchemy_s_error_and_is_replaced(live_app: Flask) -> None:
    with live_app.app_context(), database().sessions() as session:
        connection = session.connection()
        driver.rows(connection, STATEMENT, {"slug": "secret-slug"})
        assert postgres.terminate_connections(live_app.config["TOWNHALL_SETTINGS"].database_url) >= 1
        time.sleep(0.2)
        with pytest.raises(OperationalError) as raised:  # answered 503 by the API's error handler
            driver.rows(connection, STATEMENT, {"slug": "secret-slug"})
    assert raised.value.connection_invalidated and "secret-slug" not in str(raised.value)
    with live_app.app_context(), database().sessions() as session:
        assert driver.rows(session.connection(), STATEMENT, {"slug": "secret-slug"}) == []
