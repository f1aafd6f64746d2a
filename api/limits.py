"""Abuse limits (Flask-Limiter): the token endpoint per client and per address, sign-in attempts
per address.

Counters live in memory per process by default, in Redis when TOWNHALL_REDIS_URL is set (shared by
every replica). When Redis fails, limits fall back to memory rather than refusing everyone.
"""

import base64
import binascii
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask, request
from flask_limiter import Limiter

from api.settings import Settings


def client_key() -> str:
    """The client id the request claims (Basic auth or form): attempts against one client are counted
    together, whoever makes them."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            return "client:" + base64.b64decode(header[6:], validate=True).decode().split(":", 1)[0][:120]
        except (binascii.Error, UnicodeDecodeError):
            return "client:malformed"
    return "client:" + str(request.form.get("client_id", ""))[:120]


def sign_in_client_key() -> str:
    """Sign-in attempts through one front-end are counted together, from whatever address."""
    return "sign-in-client:" + str(request.args.get("client_id", ""))[:120]


def address_key() -> str:
    return "address:" + (request.remote_addr or "unknown")


def install_limits(app: Flask, settings: Settings) -> Limiter:
    limiter = Limiter(
        key_func=address_key,
        app=app,
        storage_uri=settings.redis_url or "memory://",
        strategy="moving-window",
        headers_enabled=True,
        swallow_errors=True,
        in_memory_fallback_enabled=settings.redis_url is not None,
        key_prefix="townhall",
    )
    token_view = app.view_functions["oauth.token"]
    per_client = limiter.limit(settings.token_rate_limit_per_client, key_func=client_key)
    per_address = limiter.limit(settings.token_rate_limit_per_address, key_func=address_key)
    # Flask-Limiter's decorators are typed for sync and async views alike; this one is sync.
    app.view_functions["oauth.token"] = per_address(per_client(token_view))  # type: ignore[assignment]
    authorize_view = app.view_functions["oauth.authorize"]
    per_address_sign_in = limiter.limit(settings.login_rate_limit, key_func=address_key, methods=["POST"])
    per_client_sign_in = limiter.limit(settings.login_rate_limit_per_client, key_func=sign_in_client_key,
                                       methods=["POST"])
    app.view_functions["oauth.authorize"] = per_address_sign_in(per_client_sign_in(authorize_view))  # type: ignore[assignment]
    # Only the two views above are limited, and their wrappers check their own limits. The check
    # Flask-Limiter hooks before every request would look for default limits there are none of, on
    # every API call: unhook it. Its response-header and clean-up hooks serve the OAuth blueprint alone.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    _move_hooks(app.after_request_funcs, lambda hook: isinstance(hook, partial) and hook.args == (limiter,))
    _move_hooks(app.teardown_request_funcs, lambda hook: getattr(hook, "__self__", None) is limiter)
    return limiter


def _move_hooks(hooks: dict[str | None, list[Callable[..., Any]]], ours: Callable[[Callable[..., Any]], bool]) -> None:
    """Move the app-wide hooks `ours` picks to the OAuth blueprint."""
    moved = [hook for hook in hooks[None] if ours(hook)]
    if not moved:
        raise RuntimeError("Flask-Limiter's hooks are not where they were: review install_limits")
    for hook in moved:
        hooks[None].remove(hook)
    hooks.setdefault("oauth", []).extend(moved)
