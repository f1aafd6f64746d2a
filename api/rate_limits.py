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

# KEYS[1] the bucket; ARGV: capacity, tokens per second, tokens wanted, tokens given back (a lapsed
# lease's). Returns {tokens granted (0 to wanted), tokens left (string)}.
_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate + tonumber(ARGV[4]))
local granted = math.min(wanted, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return {granted, tostring(tokens)}
"""
LEASE_SECONDS = 1.0  # how long a process keeps tokens it took ahead
LEASE_MAX = 100  # tokens taken ahead at most: one Redis call per hundred requests of a busy client


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


@dataclass
class _Lease:
    held: int  # tokens taken from the shared bucket and not used yet
    left: float  # what the shared bucket held after the last take
    until: float  # monotonic time the held tokens lapse
    size: int  # tokens this lease wanted: twice as many next time if they run out before it lapses


class RedisBuckets:
    """The shared buckets in Redis. A client that calls often takes its tokens a few at a time
    (one, then twice as many each time they run out within LEASE_SECONDS, at most 1 % of its quota
    and LEASE_MAX) and spends them here until they lapse, so a busy client costs one Redis call per batch, not per
    request; the tokens are taken before they are spent, so all processes together never pass
    more than the quota, and a lapsed lease's tokens go back to the bucket with the next take."""

    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._take = self._client.register_script(_TAKE)
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._fallback = MemoryBuckets()
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()

    def take(self, key: str, capacity: int) -> tuple[bool, float]:
        now = time.monotonic()
        with self._lock:
            lease = self._leases.get(key)
            if lease is not None and lease.held > 0 and now < lease.until:
                lease.held -= 1
                return True, lease.left + lease.held
            if len(self._leases) >= PRUNE_AT:
                self._leases = {k: v for k, v in self._leases.items() if now < v.until}
            busy = lease is not None and now < lease.until  # its tokens ran out before they lapsed
            given_back = lease.held if lease is not None else 0
            wanted = max(1, min(2 * lease.size if lease is not None and busy else 1, capacity // 100, LEASE_MAX))
            try:
                granted, left = self._take(keys=[key], args=[capacity, capacity / WINDOW, wanted, given_back])
            except self._errors:
                self._leases.pop(key, None)
                return self._fallback.take(key, capacity)
            granted, left = int(granted), float(left)
            self._leases[key] = _Lease(max(0, granted - 1), left, now + LEASE_SECONDS, wanted)
            return granted > 0, left + max(0, granted - 1)


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
