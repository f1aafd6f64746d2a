"""Revoking a token, a grant or a client, and suspending a municipality, take effect in every process
within a second and never flip back (ADR 0010).

Two app instances share one database, as two gunicorn workers or two nodes do, with caches of 30 s:
only the change channel (PostgreSQL LISTEN/NOTIFY) or the one-second bound without it (SQLite) can
make the second one refuse in time.
"""

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import psycopg
import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from api.app import create_app
from api.database import database
from api.settings import Settings
from support import postgres
from support.oauth import REDIRECT, basic, bearer, code_from, data, pkce_pair, sign_in_and_consent
from support.oauth import authorize_url as authorize_path
from support.suite import ContractClient, empty_all_tables
from tenants.models import Tenant
from tenants.operations import create_tenant
from townhall.auth.keys import ensure_signing_key
from townhall.auth.operations import add_membership, create_client, create_platform_client, create_user
from townhall.auth.scopes import TENANT_ADMIN
from townhall.cache import Configured, TimedCache
from townhall.invalidation import UNHEARD_SECONDS, ChangeListener, Unheard
from townhall.tenancy import tenant_scope

pytestmark = pytest.mark.committed
CACHE_SECONDS = 30
PASSWORD = "correct horse battery"
ADMIN = "admin@aalst.example"
API = "/t/aalst/v1/clients"


@dataclass(frozen=True)
class Pair:
    writer: Flask  # where the change is made
    reader: Flask  # another process that must notice it
    tenant: Tenant
    partner: tuple[str, str]  # a confidential client with clients:manage
    other: tuple[str, str]
    portal: str  # a public client for the code flow
    platform: tuple[str, str]


def _stop(application: Flask) -> None:
    listener = application.extensions.get("townhall.changes")
    if isinstance(listener, ChangeListener):
        listener.stop()
    application.extensions["townhall.database"].engine.dispose()


@pytest.fixture
def pair(settings: Settings) -> Iterator[Pair]:
    cached = replace(settings, tenant_cache_seconds=CACHE_SECONDS, revocation_cache_seconds=CACHE_SECONDS)
    writer, reader = create_app(cached), create_app(cached)
    for application in (writer, reader):
        application.test_client_class = ContractClient
    try:
        with writer.app_context(), database().unit_of_work() as session:
            tenant = create_tenant(session, {"slug": "aalst", "nis_code": "41002", "default_language": "nl",
                                             "languages": ["nl"], "names": {"nl": "Aalst"}}, "test")
            ensure_signing_key(session, settings.access_token_lifetime)
            with tenant_scope(session, tenant.id):
                confidential = {"name": "Partner", "kind": "confidential", "grant_types": ["client_credentials"],
                                "scopes": ["clients:manage"]}
                partner, partner_secret = create_client(session, tenant.id, tenant.slug, confidential)
                other, other_secret = create_client(session, tenant.id, tenant.slug, confidential)
                portal, _ = create_client(session, tenant.id, tenant.slug, {
                    "name": "Portal", "kind": "public", "grant_types": ["authorization_code", "refresh_token"],
                    "redirect_uris": [REDIRECT], "scopes": ["clients:manage"]})
                admin = create_user(session, {"email": ADMIN, "display_name": "Admin", "password": PASSWORD})
                add_membership(session, tenant.id, admin, TENANT_ADMIN)
            platform, platform_secret = create_platform_client(session, {
                "name": "Operators", "kind": "confidential", "grant_types": ["client_credentials"],
                "scopes": ["platform:manage"]})
            assert partner_secret and other_secret and platform_secret
            made = Pair(writer, reader, tenant, (partner.client_id, partner_secret),
                        (other.client_id, other_secret), portal.client_id, (platform.client_id, platform_secret))
        yield made
    finally:
        _stop(writer)
        _stop(reader)
        empty_all_tables(settings)


def client_token(application: Flask, client: tuple[str, str], scope: str) -> str:
    answer = application.test_client().post("/oauth/token", data={"grant_type": "client_credentials", "scope": scope},
                                            headers=basic(*client))
    value: str = data(answer)["access_token"]
    return value


def user_tokens(pair: Pair) -> dict[str, str]:
    verifier, challenge = pkce_pair()
    browser = pair.writer.test_client()
    _, query = code_from(sign_in_and_consent(browser, authorize_path(pair.portal, challenge, "clients:manage"),
                                             ADMIN, PASSWORD))
    tokens: dict[str, str] = data(browser.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT,
        "client_id": pair.portal, "code_verifier": verifier}))
    return tokens


def hearing(application: Flask) -> None:
    """On PostgreSQL, wait until the app's listener hears the channel (else the test would only
    prove the one-second fallback)."""
    listener = application.extensions.get("townhall.changes")
    if not isinstance(listener, ChangeListener):
        return
    deadline = time.monotonic() + 10
    while not listener.hearing:
        assert time.monotonic() < deadline, "the listener never heard the channel"
        time.sleep(0.05)


@dataclass(frozen=True)
class Answer:
    started: float
    ended: float
    status: int


def watch(reader: Flask, access_token: str, change: Callable[[], None], refused: int) -> tuple[float, list[Answer]]:
    """Hammer the reader with the token from several threads while `change` runs elsewhere; returns
    when the change was committed and every answer seen."""
    warm = reader.test_client().get(API, headers=bearer(access_token))
    assert warm.status_code == 200, warm.get_data(as_text=True)  # the reader has cached the good news
    hearing(reader)
    answers: list[Answer] = []
    stop = threading.Event()

    def hammer() -> None:
        browser = reader.test_client()
        while not stop.is_set():
            started = time.monotonic()
            status = browser.get(API, headers=bearer(access_token)).status_code
            answers.append(Answer(started, time.monotonic(), status))

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.2)
        began = time.monotonic()
        change()
        done = time.monotonic()
        time.sleep(UNHEARD_SECONDS + 1.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert {a.status for a in answers} <= {200, refused}, answers
    before = [a for a in answers if a.ended < began]
    assert before and all(a.status == 200 for a in before)  # it worked until the change
    return done, answers


def assert_refused_in_time_and_for_good(done: float, answers: list[Answer], refused: int) -> None:

    late = [a for a in answers if a.started > done + UNHEARD_SECONDS]
    assert len(late) > 10 and all(a.status == refused for a in late), "not refused within a second"
    first_refusal = min(a.ended for a in answers if a.status == refused)
    flipped = [a for a in answers if a.started > first_refusal and a.status == 200]
    assert not flipped, f"answered 200 again after refusing: {flipped[:3]}"


def test_a_revoked_access_token_is_refused_by_the_other_process(pair: Pair) -> None:
    access = client_token(pair.writer, pair.partner, "clients:manage")

    def revoke() -> None:
        assert pair.writer.test_client().post("/oauth/revoke", data={"token": access},
                                              headers=basic(*pair.partner)).status_code == 200

    done, answers = watch(pair.reader, access, revoke, 401)
    assert_refused_in_time_and_for_good(done, answers, 401)


def test_a_revoked_grant_stops_its_access_tokens_in_the_other_process(pair: Pair) -> None:
    tokens = user_tokens(pair)

    def revoke_grant() -> None:  # revoking the refresh token revokes the whole grant
        assert pair.writer.test_client().post("/oauth/revoke", data={
            "token": tokens["refresh_token"], "client_id": pair.portal}).status_code == 200

    done, answers = watch(pair.reader, tokens["access_token"], revoke_grant, 401)
    assert_refused_in_time_and_for_good(done, answers, 401)


def test_a_disabled_clients_tokens_are_refused_by_the_other_process(pair: Pair) -> None:
    access = client_token(pair.writer, pair.other, "clients:manage")
    admin = bearer(client_token(pair.writer, pair.partner, "clients:manage"))
    writer = pair.writer.test_client()
    location = f"{API}/{pair.other[0]}"

    def disable() -> None:
        etag = writer.get(location, headers=admin).headers["ETag"]
        changed = writer.patch(location, json={"status": "disabled"}, headers=admin | {"If-Match": etag})
        assert changed.status_code == 200, changed.get_data(as_text=True)

    done, answers = watch(pair.reader, access, disable, 401)
    assert_refused_in_time_and_for_good(done, answers, 401)
    # Introspection in the other process says so too.
    introspected = pair.reader.test_client().post("/oauth/introspect", data={"token": access},
                                                  headers=basic(*pair.partner))
    assert data(introspected) == {"active": False}


def test_a_suspended_municipality_is_refused_by_the_other_process(pair: Pair) -> None:
    access = client_token(pair.writer, pair.partner, "clients:manage")
    operator = bearer(client_token(pair.writer, pair.platform, "platform:manage"))
    writer = pair.writer.test_client()

    def suspend() -> None:
        etag = writer.get("/v1/tenants/aalst", headers=operator).headers["ETag"]
        changed = writer.patch("/v1/tenants/aalst", json={"status": "suspended"}, headers=operator | {"If-Match": etag})
        assert changed.status_code == 200, changed.get_data(as_text=True)

    done, answers = watch(pair.reader, access, suspend, 403)
    assert_refused_in_time_and_for_good(done, answers, 403)
    # The token endpoint of the other process refuses the municipality's clients as well.
    refused = pair.reader.test_client().post("/oauth/token", data={"grant_type": "client_credentials"},
                                             headers=basic(*pair.partner))
    assert refused.status_code == 401


def superuser(settings: Settings) -> psycopg.Connection[tuple[object, ...]]:
    """A connection that changes rows behind Townhall's back (no announcement, no row-level security)."""
    url = make_url(postgres.ADMIN_URL).set(drivername="postgresql", database=make_url(settings.database_url).database)
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


@pytest.mark.postgresql
def test_on_postgresql_the_channel_not_the_short_bound_carries_the_change(pair: Pair, settings: Settings) -> None:
    """While the listener hears, entries are trusted for the whole cache time: a change written
    without being announced stays unseen, an announced one is seen at once."""
    access = client_token(pair.writer, pair.partner, "clients:manage")
    reader = pair.reader.test_client()
    assert reader.get(API, headers=bearer(access)).status_code == 200
    hearing(pair.reader)
    with superuser(settings) as connection:
        connection.execute("UPDATE oauth_clients SET status = 'disabled' WHERE client_id = %s", (pair.partner[0],))
    time.sleep(UNHEARD_SECONDS + 0.5)
    assert reader.get(API, headers=bearer(access)).status_code == 200  # the cache was trusted
    with superuser(settings) as connection:
        connection.execute("SELECT pg_notify('townhall_changes', %s)", (f"revocations:{pair.tenant.id}",))
    deadline = time.monotonic() + 0.5
    while reader.get(API, headers=bearer(access)).status_code == 200:
        assert time.monotonic() < deadline, "the announced change was not heard"
        time.sleep(0.01)


@pytest.mark.postgresql
def test_a_lost_listening_connection_drops_what_it_held_and_hears_again(pair: Pair, settings: Settings) -> None:
    access = client_token(pair.writer, pair.partner, "clients:manage")
    reader = pair.reader.test_client()
    assert reader.get(API, headers=bearer(access)).status_code == 200
    hearing(pair.reader)
    hearing(pair.writer)
    with superuser(settings) as connection:
        connection.execute("UPDATE oauth_clients SET status = 'disabled' WHERE client_id = %s", (pair.partner[0],))
        assert reader.get(API, headers=bearer(access)).status_code == 200  # unannounced: not seen yet
        killed = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'townhall-changes' "
            "AND datname = current_database()").fetchall()
    assert len(killed) == 2  # the writer's and the reader's listener
    # While it cannot hear, the reader trusts its cache a second at most; once back, it drops it all
    # (a change may have been missed in between).
    deadline = time.monotonic() + UNHEARD_SECONDS + 0.5
    while reader.get(API, headers=bearer(access)).status_code == 200:
        assert time.monotonic() < deadline, "a lost listener kept trusting its cache"
        time.sleep(0.02)
    hearing(pair.reader)


def test_without_a_channel_entries_live_one_second_at_most(settings: Settings) -> None:
    """SQLite (one machine, no NOTIFY): the one-second bound is what keeps processes in step."""
    cached = replace(settings, tenant_cache_seconds=CACHE_SECONDS, revocation_cache_seconds=CACHE_SECONDS)
    application = create_app(cached)
    try:
        expected = "townhall.changes" in application.extensions
        assert expected == (settings.database_backend == "postgresql")
    finally:
        _stop(application)
    now = [100.0]
    entries: TimedCache[str, int] = TimedCache(CACHE_SECONDS, Unheard(), clock=lambda: now[0])
    entries.put("aalst", 1, entries.begin())
    now[0] += UNHEARD_SECONDS - 0.01
    assert entries.get("aalst") == 1
    now[0] += 0.02
    assert entries.get("aalst") is None


def test_a_read_that_began_before_an_invalidation_is_not_kept() -> None:
    entries: TimedCache[uuid.UUID, str] = TimedCache(CACHE_SECONDS, Configured())
    key = uuid.uuid4()
    stale = entries.begin()  # a request reads the list ...
    entries.forget(key)  # ... while another process's revocation is announced
    entries.put(key, "not revoked", stale)
    assert entries.get(key) is None  # the next request reads again and sees the revocation


def test_a_read_is_dated_from_its_transaction() -> None:
    """A SQLite transaction reads the database as it was at its start, however late the read."""
    now = [100.0]
    entries: TimedCache[str, str] = TimedCache(CACHE_SECONDS, Configured(), clock=lambda: now[0])
    began = now[0]  # the request's transaction starts
    now[0] += 0.1
    entries.forget("aalst")  # a change is announced
    now[0] += 0.1
    entries.put("aalst", "not revoked", entries.begin(since=began))  # read after it, from the old snapshot
    assert entries.get("aalst") is None


def test_an_older_read_never_replaces_a_newer_one() -> None:
    now = [100.0]
    entries: TimedCache[str, str] = TimedCache(CACHE_SECONDS, Configured(), clock=lambda: now[0])
    older = entries.begin()
    now[0] += 0.1
    newer = entries.begin()
    entries.put("aalst", "revoked", newer)
    entries.put("aalst", "not revoked", older)  # a slow request that read before the change
    assert entries.get("aalst") == "revoked"
