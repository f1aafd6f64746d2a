"""Pooled PostgreSQL connections: a connection whose server went away is replaced before a request
uses it, without a round trip per request on busy connections."""

import time
import uuid
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError

from api.database import database
from api.settings import Settings
from support import postgres
from tenants.operations import create_tenant
from townhall.db import make_engine
from townhall.tenancy import tenant_scope

pytestmark = [pytest.mark.postgresql, pytest.mark.committed]


def _terminate_app_connections(app: Flask) -> int:
    """What a server restart or an administrator does to the app's idle connections."""
    return postgres.terminate_connections(app.config["TOWNHALL_SETTINGS"].database_url)


def _aalst(app: Flask) -> None:
    with app.app_context(), database().unit_of_work() as session:
        create_tenant(session, {"slug": "aalst", "nis_code": "41002", "default_language": "nl",
                                "languages": ["nl"], "names": {"nl": "Aalst"}}, "test")


def test_a_pooled_connection_whose_server_went_away_is_replaced_before_use(live_app: Flask) -> None:
    _aalst(live_app)
    client = live_app.test_client()
    assert client.get("/t/aalst/v1/branding").status_code == 200  # the pool now holds a connection

    assert _terminate_app_connections(live_app) >= 1
    time.sleep(0.2)  # the server's goodbye reaches the idle socket
    # Well within the second after its last use: no ping is due by age, the goodbye gives it away.
    assert client.get("/t/aalst/v1/branding").status_code == 200

    for _ in range(3):
        assert client.get("/t/aalst/v1/branding").status_code == 200
    assert _terminate_app_connections(live_app) >= 1
    time.sleep(1.2)  # rested past the second: pinged first
    assert client.get("/t/aalst/v1/branding").status_code == 200


@pytest.mark.parametrize(("prepared", "threshold"), [(True, 5), (False, None)])
def test_statements_are_prepared_on_the_server_unless_turned_off(settings: Settings, prepared: bool,
                                                                   threshold: int | None) -> None:
    engine = make_engine(settings.database_url, prepared_statements=prepared)
    try:
        with engine.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None and driver.prepare_threshold == threshold
    finally:
        engine.dispose()


def test_a_tenant_s_transaction_uses_generic_plans_and_leaves_nothing_behind(live_app: Flask) -> None:
    with live_app.app_context(), database().sessions() as session:
        with tenant_scope(session, uuid.uuid4()), session.begin():
            mode = session.execute(text("SHOW plan_cache_mode")).scalar_one()
        after = session.execute(text("SHOW plan_cache_mode")).scalar_one()  # the next transaction, no tenant
        session.rollback()
    assert (mode, after) == ("force_generic_plan", "auto")


def test_a_pooled_connection_closed_underneath_is_replaced_before_use(live_app: Flask) -> None:
    _aalst(live_app)
    client = live_app.test_client()
    assert client.get("/t/aalst/v1/branding").status_code == 200
    with live_app.app_context(), database().engine.connect() as connection:
        resting = connection.connection.driver_connection
    assert resting is not None
    resting.close()  # back in the pool, its socket gone
    assert client.get("/t/aalst/v1/branding").status_code == 200


def test_a_connection_lost_between_the_pool_s_check_and_the_tenant_s_begin_is_invalidated(live_app: Flask) -> None:
    """A restart can land after the pool checked a connection and before the tenant's one-round-trip
    BEGIN: that is a lost connection as SQLAlchemy raises it (the request answers 503), and the pool
    drops it instead of handing it out again (the fault suite saw a 500 and a failed rollback)."""
    engine = database_engine(live_app)
    killed: list[int] = []

    def kill_once(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if not killed:
            killed.append(dbapi_connection.info.backend_pid)
            with psycopg.connect(postgres._admin_conninfo(), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (killed[0],))
            time.sleep(0.2)  # the server's goodbye reaches the socket

    event.listen(engine, "checkout", kill_once)
    try:
        with live_app.app_context(), database().sessions() as session, tenant_scope(session, uuid.uuid4()):
            with pytest.raises(OperationalError) as lost:
                session.execute(text("SELECT 1"))
            assert lost.value.connection_invalidated
            session.rollback()
        with live_app.app_context(), database().sessions() as session, tenant_scope(session, uuid.uuid4()):
            assert session.execute(text("SELECT 1")).scalar_one() == 1  # a new connection
    finally:
        event.remove(engine, "checkout", kill_once)
    assert killed


def database_engine(app: Flask) -> Engine:
    with app.app_context():
        return database().engine
