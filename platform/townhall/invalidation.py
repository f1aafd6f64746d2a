"""Telling every process that a fact it may have cached has changed (ADR 0010).

A write that others cache (a revocation, a disabled client, a suspended municipality) calls
`announce` in its own transaction. On PostgreSQL that is `pg_notify`, which the server delivers only
when the transaction commits, to every process of every node that listens (`ChangeListener`): the
API, the CLI and the worker all announce the same way, and nothing is said for a rolled-back change.

Caches (`townhall.cache.TimedCache`) keep an entry for their configured time only while their
listener proves, by a heartbeat, that it hears the channel; otherwise (SQLite, or the listening
connection is down) for at most `UNHEARD_SECONDS`.
"""

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable

import psycopg
from sqlalchemy import Connection, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, SessionTransaction

CHANNEL = "townhall_changes"
UNHEARD_SECONDS = 1.0
"""How long a cached fact may be trusted when no change could be heard (and how recent the
listener's last heartbeat must be for it to count as hearing)."""

log = logging.getLogger("townhall.invalidation")


_BEGAN = "townhall.transaction_began"


@event.listens_for(Session, "after_begin")
def _note_begin(session: Session, _transaction: SessionTransaction, _connection: Connection) -> None:
    session.info[_BEGAN] = time.monotonic()


def transaction_began(session: Session) -> float | None:
    """When the session's current transaction began (`time.monotonic`), if it has one."""
    began: float | None = session.info.get(_BEGAN) if session.in_transaction() else None
    return began


def announce(session: Session, subject: str) -> None:
    """Tell every process, once this transaction commits, that `subject` changed (PostgreSQL only;
    elsewhere caches are short-lived instead)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_notify(CHANNEL, subject)))


class Unheard:
    """No channel to hear changes on (SQLite: one machine, no NOTIFY): at most `UNHEARD_SECONDS`."""

    def lifetime(self, ttl: float) -> float:
        return min(ttl, UNHEARD_SECONDS)


_listeners: "weakref.WeakSet[ChangeListener]" = weakref.WeakSet()


def _after_fork() -> None:
    for listener in list(_listeners):
        listener._forked()


os.register_at_fork(after_in_child=_after_fork)


class ChangeListener:
    """Hears `announce`d changes on PostgreSQL (LISTEN on its own connection, in a daemon thread
    started at first use in each process, again after a fork) and hands them to its subscribers.

    A heartbeat every `HEARTBEAT_SECONDS` proves the connection alive, on the same server session:
    notifications committed before it have been received. While the last one is older than `UNHEARD_SECONDS`,
    caches trust their entries for that long only. After every (re)connection the subscribers drop
    everything, since changes may have been missed in between."""

    HEARTBEAT_SECONDS = 0.25
    RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)

    def __init__(self, database_url: str) -> None:
        self._conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._on_change: list[Callable[[str], None]] = []
        self._on_reset: list[Callable[[], None]] = []
        self._state_lock = threading.Lock()
        self._forked()
        _listeners.add(self)

    def _forked(self) -> None:
        self._alive_at = float("-inf")
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def subscribe(self, on_change: Callable[[str], None], on_reset: Callable[[], None]) -> None:
        self._on_change.append(on_change)
        self._on_reset.append(on_reset)

    def lifetime(self, ttl: float) -> float:
        if self._thread is None:
            self.start()
        return ttl if self.hearing else min(ttl, UNHEARD_SECONDS)

    @property
    def hearing(self) -> bool:
        return time.monotonic() - self._alive_at < UNHEARD_SECONDS

    def start(self) -> None:
        with self._state_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="townhall-changes", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
        self._alive_at = float("-inf")

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=2,
                                     application_name="townhall-changes") as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self._reset()  # whatever was cached before now may have missed a change
                    if failures:
                        log.warning("hearing changes again", extra={"channel": CHANNEL})
                    failures = 0
                    self._listen(connection)
            except Exception:  # any failure: caches fall back to the short bound, and we retry
                self._alive_at = float("-inf")
                if failures == 0:
                    log.warning("cannot hear changes; caches trust entries %.0f s at most", UNHEARD_SECONDS,
                                exc_info=True)
                self._stop.wait(self.RETRY_SECONDS[min(failures, len(self.RETRY_SECONDS) - 1)])
                failures += 1

    def _listen(self, connection: psycopg.Connection[tuple[object, ...]]) -> None:
        backend = connection.info.backend_pid
        while not self._stop.is_set():
            started = time.monotonic()
            if connection.execute("SELECT pg_backend_pid()").fetchone() != (backend,):
                # Another server session answered: a transaction-mode pooler is in between, and
                # LISTEN does not hold there (TOWNHALL_LISTEN_DATABASE_URL should bypass it).
                raise ConnectionError("the listening connection changed server session")
            for notice in connection.notifies(timeout=0):  # what arrived up to the heartbeat
                self._deliver(notice.channel, notice.payload)
            self._alive_at = started
            for notice in connection.notifies(timeout=self.HEARTBEAT_SECONDS):
                self._deliver(notice.channel, notice.payload)

    def _deliver(self, channel: str, subject: str) -> None:
        if channel != CHANNEL:
            return
        try:
            for handler in self._on_change:
                handler(subject)
        except Exception:  # a notice we cannot apply: forget everything rather than stop
            log.exception("cannot apply a change notice; dropping every cached entry")
            self._reset()

    def _reset(self) -> None:
        for handler in self._on_reset:
            handler()
