"""The APIs' quotas per municipality's plan: a token bucket per municipality and client, and one per
citizen; 429 problem+json with Retry-After and the IETF RateLimit headers; one municipality's burst
never slows another's; with Redis, every replica and a restarted app share the buckets."""

from collections.abc import Callable
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api.database import database
from api.rate_limits import PRUNE_AT, WINDOW, MemoryBuckets
from api.settings import Settings
from factories import PASSWORD, build_people
from support.contract import assert_problem
from support.oauth import REDIRECT, bearer, register, token, user_token
from support.suite import REDIS_URL, empty_all_tables
from tenants.models import Tenant
from tenants.plans import PLANS

pytestmark = pytest.mark.usefixtures("signing_key")
SMALL = PLANS["small"]


@pytest.fixture
def limited(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setitem(app.config, "TOWNHALL_SETTINGS", replace(app.config["TOWNHALL_SETTINGS"], rate_limits=True))
    return app


def _burst(client: FlaskClient, path: str, headers: dict[str, str], times: int) -> list[int]:
    return [client.get(path, headers=headers).status_code for _ in range(times)]


def _refusal(client: FlaskClient, path: str, headers: dict[str, str], quota: int) -> tuple[int, TestResponse]:
    """How many requests passed before the first 429, and that answer (the bucket refills while they
    run: a few more than the quota may pass, never twice as many; a token may be back right after)."""
    for passed in range(2 * quota):
        answer = client.get(path, headers=headers)
        if answer.status_code == 429:
            return passed, answer
    raise AssertionError(f"no 429 in {2 * quota} requests")


def _until_refused(client: FlaskClient, path: str, headers: dict[str, str], quota: int) -> int:
    return _refusal(client, path, headers, quota)[0]


def test_a_client_over_its_plan_s_quota_is_told_to_wait_and_others_are_not(
    limited: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]
) -> None:
    small = make_tenant("haaltert", "41024", plan="small")
    other = make_tenant("aalst", "41002", plan="small")
    partner = bearer(token(client, register(limited, small, ["webhooks:manage"])))
    second_partner = bearer(token(client, register(limited, small, ["webhooks:manage"])))
    neighbour = bearer(token(client, register(limited, other, ["webhooks:manage"])))

    first = client.get("/t/haaltert/v1/webhooks", headers=partner)
    assert first.headers["RateLimit-Policy"] == f'"client";q={SMALL.client_requests_per_minute};w=60'
    assert first.headers["RateLimit"].startswith(f'"client";r={SMALL.client_requests_per_minute - 1};t=')
    passed, refused = _refusal(client, "/t/haaltert/v1/webhooks", partner, SMALL.client_requests_per_minute)
    assert passed >= SMALL.client_requests_per_minute - 1  # the whole minute's quota at once, then no more
    body = assert_problem(refused, 429)
    assert body["code"] == "rate_limited" and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit"].startswith('"client";r=0;t=')
    # the municipality's other client, and another municipality's, are not slowed
    assert client.get("/t/haaltert/v1/webhooks", headers=second_partner).status_code == 200
    assert client.get("/t/aalst/v1/webhooks", headers=neighbour).status_code == 200


def test_a_citizen_has_a_quota_of_their_own_within_their_portal_s(
    limited: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]
) -> None:
    small = make_tenant("haaltert", "41024", plan="small")
    with limited.app_context(), database().unit_of_work() as session:
        build_people(session, ("jan", "an"))
    portal = register(limited, small, ["cases:read"], kind="public", grant_types=["authorization_code"],
                      redirect_uris=[REDIRECT]).client_id
    jan = bearer(user_token(limited, portal, "jan@example.org", PASSWORD, "cases:read"))
    an = bearer(user_token(limited, portal, "an@example.org", PASSWORD, "cases:read"))
    quota = SMALL.person_requests_per_minute
    passed, refused = _refusal(client, "/t/haaltert/v1/me/cases", jan, quota)
    assert passed >= quota
    assert refused.headers["RateLimit-Policy"].endswith(f'"person";q={quota};w=60')
    assert client.get("/t/haaltert/v1/me/cases", headers=an).status_code == 200  # the same portal, another citizen


def test_public_routes_are_limited_per_municipality_and_address(
    limited: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("haaltert", "41024", plan="small")
    make_tenant("aalst", "41002", plan="small")
    quota = SMALL.client_requests_per_minute
    passed, refused = _refusal(client, "/t/haaltert/v1/services", {}, quota)
    assert passed >= quota - 1
    assert assert_problem(refused, 429)["code"] == "rate_limited" and refused.headers["Retry-After"]
    assert refused.headers["RateLimit-Policy"] == f'"address";q={quota};w=60'
    assert client.get("/t/aalst/v1/services").status_code == 200  # another municipality: its own bucket
    other_address = client.get("/t/haaltert/v1/services", environ_overrides={"REMOTE_ADDR": "192.0.2.7"})
    assert other_address.status_code == 200


def test_without_redis_the_readiness_check_says_limits_hold_per_process(limited: Flask, client: FlaskClient) -> None:
    assert client.get("/readyz").json["rate_limits"] == "per process (no Redis)"  # type: ignore[index]


@pytest.mark.redis
@pytest.mark.committed
def test_with_redis_replicas_share_the_buckets_and_a_restart_keeps_them(
    settings: Settings, make_app: Callable[[Settings], Flask], make_tenant: Callable[..., Tenant]
) -> None:
    shared = replace(settings, redis_url=REDIS_URL, rate_limits=True)
    first, second = make_app(shared), make_app(shared)
    small = make_tenant("haaltert", "41024", plan="small")
    try:
        _share(first, second, make_app(shared), small)
    finally:
        empty_all_tables(settings)


def _share(first: Flask, second: Flask, restarted: Flask, small: Tenant) -> None:
    partner = bearer(token(first.test_client(), register(first, small, ["webhooks:manage"])))
    quota = SMALL.client_requests_per_minute
    half = quota // 2
    assert set(_burst(first.test_client(), "/t/haaltert/v1/webhooks", partner, half)) == {200}
    assert set(_burst(second.test_client(), "/t/haaltert/v1/webhooks", partner, quota - half)) == {200}
    # the third app starts where the others left off (a bucket of its own would let `quota` through)
    assert _until_refused(restarted.test_client(), "/t/haaltert/v1/webhooks", partner, quota) < quota // 4
    assert restarted.test_client().get("/readyz").json["rate_limits"] == "shared (Redis)"  # type: ignore[index]


def test_a_process_forgets_buckets_idle_for_a_window(monkeypatch: pytest.MonkeyPatch) -> None:
    buckets = MemoryBuckets()
    clock = iter([0.0] * PRUNE_AT + [WINDOW + 1.0])
    monkeypatch.setattr("api.rate_limits.time.monotonic", lambda: next(clock))
    for number in range(PRUNE_AT):
        buckets.take(f"citizen-{number}", 60)
    assert buckets.take("one-more", 60) == (True, 59.0)
    assert list(buckets._state) == ["one-more"]
