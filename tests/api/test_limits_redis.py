"""With Redis, every replica counts against the same limits."""

from collections.abc import Callable
from dataclasses import replace

import pytest
from flask import Flask

from api.settings import Settings
from support.contract import assert_oauth_error
from support.oauth import Registered, token_response
from support.suite import REDIS_URL

pytestmark = pytest.mark.redis


def test_two_replicas_share_the_token_limit(settings: Settings, make_app: Callable[[Settings], Flask]) -> None:
    shared = replace(settings, redis_url=REDIS_URL, token_failure_limit="2 per minute")
    first, second = make_app(shared), make_app(shared)
    with first.app_context():
        first.extensions["townhall.limiter"].reset()
    someone = Registered("aalst", "aalst.sharedlimit1", "wrong")
    statuses = [token_response(app.test_client(), someone).status_code for app in (first, second, first, second)]
    assert statuses[:2] == [401, 401]
    assert statuses[2] == 429
    assert_oauth_error(token_response(second.test_client(), someone), 429, "slow_down")


def test_production_starts_with_redis(tmp_path: object) -> None:
    production = Settings.from_env({"TOWNHALL_INSTANCE_PATH": str(tmp_path), "TOWNHALL_ENV": "production",
                                    "TOWNHALL_REDIS_URL": str(REDIS_URL)})
    assert production.environment == "production" and production.redis_url == REDIS_URL
