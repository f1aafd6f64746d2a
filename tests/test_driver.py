"""The hottest prebuilt statements run on the driver itself on PostgreSQL (`townhall.cases.cards.driver`): the
same rows as SQLAlchemy's path gives, and SQLAlchemy's errors when the database fails."""

import time
from datetime import UTC

import pytest
from flask import Flask
from sqlalchemy import bindparam, literal, select
from sqlalchemy.exc import OperationalError

import postgres
from api.database import database
from tenants.models import Tenant
from townhall.cases.cards import driver

_tenants = Tenant.__table__
STATEMENT = (select(_tenants.c.id, _tenants.c.slug, _tenants.c.created_at, literal("a constant"))
             .where(_tenants.c.slug == bindparam("slug")))


def test_rows_are_the_ones_sqlalchemy_gives(app: Flask, make_tenant: object) -> None:
    make_tenant("gent", "44021")  # type: ignore[operator]
    with app.app_context(), database().sessions() as session:
        connection = session.connection()
        ours = [tuple(row) for _ in range(6) for row in driver.rows(connection, STATEMENT, {"slug": "gent"})]
        theirs = [tuple(row) for row in connection.execute(STATEMENT, {"slug": "gent"})]
    assert ours == theirs * 6 and ours[0][1:] == ("gent", ours[0][2], "a constant")
    assert ours[0][2].tzinfo == UTC  # through UTCDateTime, as SQLAlchemy reads it


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
