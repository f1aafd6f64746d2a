"""Rate limits on the municipalities' APIs: a token bucket per municipality and client, and one per
citizen, sized by the municipality's plan (tenants.plans). A client may burst its whole minute's
quota, then gets a token back every 60/quota seconds.

Buckets live in Redis when TOWNHALL_REDIS_URL is set (one script call per request, atomic, on Redis's
clock: every app node shares them and they survive a restart of the app), else in this process's
memory (the SQLite demo: limits hold per process, and /readyz says so). If Redis fails, this process's
memory takes over rather than refusing everyone. Keys carry the municipality, so one municipality's
burst never touches another's buckets.

Every limited answer carries the IETF RateLimit-Policy and RateLimit headers
(draft-ietf-httpapi-ratelimit-headers); a refusal is 429 problem+json with Retry-After."""

import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import redis
from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import TooManyRequests

from api.access import PUBLIC, access_of
from api.errors import http_error
from tenants.plans import DEFAULT_PLAN, PLANS
from townhall.auth.principal import Principal

WINDOW = 60  # seconds: quotas are per minute
PRUNE_AT = 10_000  # buckets a process keeps before it forgets the idle ones (one per citizen)

# KEYS[1] the bucket; ARGV: capacity, tokens per second. Returns {allowed, tokens left (string)}.
_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
"""


@dataclass(frozen=True)
class Taken:
    policy: str  # `client` or `person`
    quota: int  # per WINDOW
    allowed: bool
    tokens: float  # left after this request

    @property
    def remaining(self) -> int:
        return max(0, math.floor(self.tokens))

    @property
    def retry_after(self) -> int:
        """Seconds until one token is back."""
        return max(1, math.ceil((1 - self.tokens) * WINDOW / self.quota))

    @property
    def reset(self) -> int:
        """Seconds until the bucket is full again."""
        return max(0, math.ceil((self.quota - self.tokens) * WINDOW / self.quota))


class Buckets(Protocol):
    def take(self, key: str, capacity: int) -> tuple[bool, float]: ...


class MemoryBuckets:
    """This process's buckets (the embedded setup, and the fallback when Redis fails)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key: str, capacity: int) -> tuple[bool, float]:
        now = time.monotonic()
        with self._lock:
            if len(self._state) >= PRUNE_AT:  # a bucket idle for a window is full again: forget it
                self._state = {k: v for k, v in self._state.items() if now - v[1] < WINDOW}
            tokens, at = self._state.get(key, (float(capacity), now))
            tokens = min(capacity, tokens + (now - at) * capacity / WINDOW)
            allowed = tokens >= 1
            self._state[key] = (tokens - 1 if allowed else tokens, now)
            return allowed, self._state[key][0]


class RedisBuckets:
    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._take = self._client.register_script(_TAKE)
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._fallback = MemoryBuckets()

    def take(self, key: str, capacity: int) -> tuple[bool, float]:
        try:
            allowed, tokens = self._take(keys=[key], args=[capacity, capacity / WINDOW])
            return bool(allowed), float(tokens)
        except self._errors:
            return self._fallback.take(key, capacity)


def install_rate_limits(app: Flask) -> None:
    settings = app.config["TOWNHALL_SETTINGS"]
    app.extensions["townhall.rate_limits"] = RedisBuckets(settings.redis_url) if settings.redis_url \
        else MemoryBuckets()
    app.before_request_funcs.setdefault("tenant_api", []).append(check_public_rate)
    app.after_request(_headers)


def shared_across_processes(app: Flask) -> bool:
    return isinstance(app.extensions.get("townhall.rate_limits"), RedisBuckets)


def check_public_rate() -> None:
    """A municipality's routes that anyone may call (branding, catalogue, offices, slots, checking a
    certificate): one bucket per municipality and calling address, the size of a client's quota."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or access_of(view) != PUBLIC:
        return
    tenant = g.get("tenant")
    if tenant is None or not current_app.config["TOWNHALL_SETTINGS"].rate_limits:
        return
    plan = PLANS.get(getattr(tenant, "plan", DEFAULT_PLAN)) or PLANS[DEFAULT_PLAN]
    _take([("address", f"townhall:rl:{tenant.id}:address:{request.remote_addr}", plan.client_requests_per_minute)])


def check_rate(caller: Principal) -> None:
    """Count this request against its client's bucket in the municipality, and the citizen's; 429
    when either is empty. Platform tokens (no municipality) are the operators' and not limited."""
    tenant = g.get("tenant")
    if tenant is None or caller.tenant is None or not current_app.config["TOWNHALL_SETTINGS"].rate_limits:
        return
    plan = PLANS.get(getattr(tenant, "plan", DEFAULT_PLAN)) or PLANS[DEFAULT_PLAN]
    wanted = [("client", f"townhall:rl:{tenant.id}:client:{caller.client_id}", plan.client_requests_per_minute)]
    if not caller.is_client and not caller.roles:  # a citizen (staff act within their client's quota)
        wanted.append(("person", f"townhall:rl:{tenant.id}:person:{caller.subject}",
                       plan.person_requests_per_minute))
    _take(wanted)


def _take(wanted: list[tuple[str, str, int]]) -> None:
    """A token from each bucket in turn (policy, key, quota); 429 at the first that is empty."""
    buckets: Buckets = current_app.extensions["townhall.rate_limits"]
    taken = []
    for policy, key, quota in wanted:
        allowed, tokens = buckets.take(key, quota)
        taken.append(Taken(policy, quota, allowed, tokens))
        if not allowed:
            break
    g.rate_limits = taken
    refused = next((t for t in taken if not t.allowed), None)
    if refused is not None:
        raise http_error(TooManyRequests, f"Over this {refused.policy}'s quota of {refused.quota} requests a "
                         f"minute here; retry after {refused.retry_after} s.", "rate_limited",
                         [("Retry-After", str(refused.retry_after))])


def _headers(response: Response) -> Response:
    taken: list[Taken] | None = g.get("rate_limits")
    if taken:
        response.headers["RateLimit-Policy"] = ", ".join(f'"{t.policy}";q={t.quota};w={WINDOW}' for t in taken)
        response.headers["RateLimit"] = ", ".join(f'"{t.policy}";r={t.remaining};t={t.reset}' for t in taken)
    return response


def describe(app: Flask) -> dict[str, Any]:
    """What /readyz says of the limits: shared by every process, held per process, or off."""
    if not app.config["TOWNHALL_SETTINGS"].rate_limits:
        return {"rate_limits": "off"}
    return {"rate_limits": "shared (Redis)" if shared_across_processes(app) else "per process (no Redis)"}
