"""Fixtures: one migrated database per run (SQLite, or PostgreSQL with `--backend postgresql`),
each test inside a transaction that is rolled back, and a client that checks every response
against openapi.yaml."""

import os
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from api.app import create_app
from api.database import database, upgrade
from api.settings import Settings
from factories import build_tenant
from support import postgres
from support.suite import CHROMIUM, REDIS_URL, REQUIRE_BROWSER, ContractClient, empty_all_tables
from tenants.models import Tenant
from townhall.auth.keys import ensure_signing_key
from townhall.db import Database


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", choices=("sqlite", "postgresql"), default="sqlite",
                     help="database backend to run the suite on")


# Why a marked test cannot run here: it is reported as skipped with this reason (never silently
# deselected), so that the summary says what this run did not prove.
UNAVAILABLE = {
    "postgresql": "needs PostgreSQL: run with --backend postgresql",
    "redis": "needs Redis: set TOWNHALL_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)",
    "browser": f"needs Chromium at {CHROMIUM} (apt-get install chromium; TOWNHALL_TEST_CHROMIUM names another)",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests run in the PostgreSQL run; Redis tests when TOWNHALL_TEST_REDIS_URL is set."""
    unavailable = set()
    if config.getoption("--backend") != "postgresql":
        unavailable.add("postgresql")
    if not REDIS_URL:
        unavailable.add("redis")
    if not os.path.exists(CHROMIUM) and not REQUIRE_BROWSER:  # required (CI): the tests fail instead
        unavailable.add("browser")
    for item in items:
        for marker in sorted(unavailable):
            if item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=UNAVAILABLE[marker]))
                break


def pytest_report_header(config: pytest.Config) -> str:
    return f"townhall backend: {config.getoption('--backend')}"


@pytest.fixture(scope="session")
def backend(pytestconfig: pytest.Config) -> str:
    chosen: str = pytestconfig.getoption("--backend")
    return chosen


# Caches off (every test sees its own data at once); limits out of the way (their own tests set them).
TEST_SETTINGS: dict[str, Any] = {
    "base_url": "https://townhall.test",
    "tenant_cache_seconds": 0,
    "revocation_cache_seconds": 0,
    "verified_token_cache_seconds": 0,
    "token_failure_limit": "10000 per minute",
    "token_rate_limit_per_address": "10000 per minute",
    "login_rate_limit": "10000 per minute",
    "login_failure_limit": "10000 per minute",
    "rate_limits": False,
    "audit_reads_seconds": 0,  # reads' entries in their own transaction: each test sees them at once
}


@pytest.fixture(scope="session")
def settings(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings of a migrated database that lives as long as the run."""
    instance = tmp_path_factory.mktemp("instance")
    if backend == "sqlite":
        sqlite_settings = Settings(instance_path=instance, **TEST_SETTINGS)
        upgrade(sqlite_settings)
        yield sqlite_settings
        return
    if not postgres.reachable():
        pytest.exit(f"PostgreSQL is not reachable at {postgres.ADMIN_URL}", returncode=3)
    name, owner_url, app_url = postgres.create_database()
    try:
        postgres_settings = Settings(
            instance_path=instance,
            **TEST_SETTINGS,
            database_url=app_url.render_as_string(hide_password=False),
            migration_database_url=owner_url.render_as_string(hide_password=False),
        )
        upgrade(postgres_settings)
        yield postgres_settings
    finally:
        postgres.drop_database(name)


def _sqlite_savepoints(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself.
    @event.listens_for(engine, "connect")
    def _no_pysqlite_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    application.config["TESTING"] = True
    application.test_client_class = ContractClient
    db: Database = application.extensions["townhall.database"]
    if db.backend == "sqlite":
        _sqlite_savepoints(db.engine)
    yield application
    db.engine.dispose()


@pytest.fixture(autouse=True)
def _rolled_back(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test runs in one outer transaction that is rolled back; the app's commits are savepoints."""
    if request.node.get_closest_marker("committed") or "app" not in request.fixturenames:
        yield
        return
    application: Flask = request.getfixturevalue("app")
    db: Database = application.extensions["townhall.database"]
    with db.engine.connect() as connection:
        outer = connection.begin()
        with mock.patch.dict(db.sessions.kw, {"bind": connection, "join_transaction_mode": "create_savepoint"}):
            yield
        outer.rollback()


@pytest.fixture
def make_app() -> Iterator[Callable[[Settings], Flask]]:
    """Apps with settings of their own (their connections are closed after the test)."""
    made: list[Flask] = []

    def make(custom: Settings) -> Flask:
        made.append(create_app(custom))
        made[-1].test_client_class = ContractClient
        return made[-1]

    yield make
    for application in made:
        application.extensions["townhall.database"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_tenant(app: Flask) -> Callable[..., Tenant]:
    """Create a committed tenant: make_tenant("gent", "44021", languages=[...], ...)."""

    def make(slug: str, nis_code: str, **overrides: Any) -> Tenant:
        return build_tenant(app, slug, nis_code, **overrides)

    return make


@pytest.fixture
def signing_key(app: Flask) -> Iterator[None]:
    """A signing key in this test's transaction; the process's key cache is dropped around it."""
    keyring = app.extensions["townhall.keyring"]
    keyring.forget()
    with app.app_context(), database().unit_of_work() as session:
        ensure_signing_key(session, app.config["TOWNHALL_SETTINGS"].access_token_lifetime)
    yield
    keyring.forget()


@pytest.fixture
def live_app(settings: Settings) -> Iterator[Flask]:
    """An app that commits for real (for other connections, threads and processes to see);
    every table is emptied afterwards."""
    application = create_app(settings)
    application.test_client_class = ContractClient
    yield application
    application.extensions["townhall.database"].engine.dispose()
    empty_all_tables(settings)
