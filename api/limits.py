"""Abuse limits (Flask-Limiter) on the endpoints that check a client secret (token, revocation,
introspection) and on sign-in.

Failures, not attempts, are what a guesser produces and the holder does not: they are counted per
client and address at those endpoints (together) and per account and address at sign-in. A flood of wrong
secrets or passwords slows down that pair only (429 with Retry-After); the holder, from any other
address, is let through. While a pair is held back its requests are refused unchecked, a correct
secret or password included (else the limit would answer guesses all the same); it lifts as its
failures leave the moving window. Every attempt counts per address, against abuse.

Counters are shared: in Redis when TOWNHALL_REDIS_URL is set (every replica; required when
TOWNHALL_ENV=production), else in a SQLite file of the instance folder that every worker of the
machine uses (`SQLiteStorage`). When the storage fails, limits fall back to memory per process
rather than refusing everyone.
"""

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from authlib.oauth2.rfc6749.util import extract_basic_authorization
from flask import Flask, Response, request
from flask_limiter import Limiter
from limits.storage import MovingWindowSupport, Storage

from api.settings import Settings

SQLITE_SCHEME = "townhall-sqlite"


def _address() -> str:
    return request.remote_addr or "unknown"


def address_key() -> str:
    return "address:" + _address()


def client_address_key() -> str:
    """The client id the request claims, read as Authlib reads it (Basic auth first, else the form),
    and the address it comes from."""
    client_id, _ = extract_basic_authorization(request.headers)
    if client_id is None:
        client_id = request.form.get("client_id", "")
    return f"client:{str(client_id)[:120]}|{_address()}"


def account_address_key() -> str:
    """The account a sign-in names (as `user_by_email` reads it) and the address it comes from."""
    return f"account:{request.form.get('email', '').strip().lower()[:320]}|{_address()}"


def _token_failed(response: Response) -> bool:
    return response.status_code in (400, 401)  # a wrong secret, code, refresh token or request


def _sign_in_failed(response: Response) -> bool:
    return response.status_code == 401  # the sign-in page, told the e-mail and password do not match


def storage_uri(settings: Settings) -> str:
    if settings.redis_url:
        return settings.redis_url
    return f"{SQLITE_SCHEME}://{quote(str((settings.instance_path / 'limits.sqlite3').resolve()))}"


def install_limits(app: Flask, settings: Settings) -> Limiter:
    limiter = Limiter(
        key_func=address_key,
        app=app,
        storage_uri=storage_uri(settings),
        strategy="moving-window",
        headers_enabled=True,
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        key_prefix="townhall",
    )
    # Revocation and introspection check client secrets too: they count against the same limits,
    # or they would be a way to guess a secret around the token endpoint's.
    failures = limiter.shared_limit(settings.token_failure_limit, scope="client-failures",
                                    key_func=client_address_key, deduct_when=_token_failed)
    per_address = limiter.shared_limit(settings.token_rate_limit_per_address, scope="client-address",
                                       key_func=address_key)
    for endpoint in ("oauth.token", "oauth.revoke", "oauth.introspect"):
        # Flask-Limiter's decorators are typed for sync and async views alike; these are sync.
        app.view_functions[endpoint] = per_address(failures(app.view_functions[endpoint]))  # type: ignore[assignment]
    authorize_view = app.view_functions["oauth.authorize"]
    per_address_sign_in = limiter.limit(settings.login_rate_limit, key_func=address_key, methods=["POST"])
    sign_in_failures = limiter.limit(settings.login_failure_limit, key_func=account_address_key, methods=["POST"],
                                     deduct_when=_sign_in_failed)
    app.view_functions["oauth.authorize"] = per_address_sign_in(sign_in_failures(authorize_view))  # type: ignore[assignment]
    # Only the two views above are limited, and their wrappers check their own limits. The check
    # Flask-Limiter hooks before every request would look for default limits there are none of, on
    # every API call: unhook it. Its response-header (and failure-counting) and clean-up hooks serve
    # the OAuth blueprint alone.
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


class SQLiteStorage(Storage, MovingWindowSupport):
    """Counters in one SQLite file, for every process of one machine (`townhall-sqlite:///path`).

    Each operation opens its own connection (safe across threads and forks) and writes inside
    `BEGIN IMMEDIATE`, so that the count and the entry it allows are one step for all processes.
    Entries past their window are deleted as new ones come.
    """

    STORAGE_SCHEME = [SQLITE_SCHEME]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: float | str | bool) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = Path(unquote(urlsplit(uri).path))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=5, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer; kept by the file
        with self._transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS entries "
                       "(key TEXT NOT NULL, at REAL NOT NULL, expires REAL NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS entries_key ON entries (key, at)")
            db.execute("CREATE INDEX IF NOT EXISTS entries_expires ON entries (expires)")
            db.execute("CREATE TABLE IF NOT EXISTS counters "
                       "(key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires REAL NOT NULL)")

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=5, isolation_level=None)) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _read(self, sql: str, parameters: tuple[Any, ...]) -> Any:
        with closing(sqlite3.connect(self.path, timeout=5, isolation_level=None)) as db:
            return db.execute(sql, parameters).fetchone()

    # The moving window (the strategy Townhall uses).

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with self._transaction() as db:
            db.execute("DELETE FROM entries WHERE expires <= ?", (now,))
            (count,) = db.execute("SELECT count(*) FROM entries WHERE key = ? AND at > ?",
                                  (key, now - expiry)).fetchone()
            if count + amount > limit:
                return False
            db.executemany("INSERT INTO entries VALUES (?, ?, ?)", [(key, now, now + expiry)] * amount)
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        oldest, count = self._read("SELECT min(at), count(*) FROM entries WHERE key = ? AND at > ?",
                                   (key, now - expiry))
        return (oldest, count) if count else (now, 0)

    # Fixed-window counters, which the storage interface requires as well.

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._transaction() as db:
            db.execute("DELETE FROM counters WHERE key = ? AND expires <= ?", (key, now))
            db.execute("INSERT INTO counters VALUES (?, ?, ?) "
                       "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value", (key, amount, now + expiry))
            (value,) = db.execute("SELECT value FROM counters WHERE key = ?", (key,)).fetchone()
            return int(value)

    def get(self, key: str) -> int:
        row = self._read("SELECT value FROM counters WHERE key = ? AND expires > ?", (key, time.time()))
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._read("SELECT expires FROM counters WHERE key = ? AND expires > ?", (key, time.time()))
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        try:
            self._read("SELECT 1", ())
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        with self._transaction() as db:
            removed = db.execute("DELETE FROM entries").rowcount + db.execute("DELETE FROM counters").rowcount
        return int(removed)

    def clear(self, key: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM entries WHERE key = ?", (key,))
            db.execute("DELETE FROM counters WHERE key = ?", (key,))
