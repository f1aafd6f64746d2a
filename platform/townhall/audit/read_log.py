"""The entries for reads of people's data, appended in batches beside the requests (PostgreSQL).

A read changes nothing, so its entry need not commit with it. Appended inside every GET it would
turn the read into a write: the chain's head locked and the WAL flushed per request, which took GET
one case to 0.43 x of itself unaudited. So a read's entry is queued in the process, with the time of
the read, and a thread appends the queue every few seconds: one short transaction per municipality,
the head locked once and the entries inserted in one statement, in the order of the reads. Stopping
the process appends what is queued (atexit); a process killed outright loses at most its last few
seconds of read entries, never a change's entry (those commit with the change) and never a link."""

import atexit
import logging
import os
import threading
import time
import uuid

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from townhall.audit.operations import Entry, append_many
from townhall.db import Database
from townhall.tenancy import tenant_scope

log = logging.getLogger("townhall.audit")

LIMIT = 100_000  # entries queued while the database is away; past this the oldest go, logged


class ReadLog:
    def __init__(self, database: Database, seconds: int) -> None:
        self._database = database
        self._seconds = seconds
        self._queued: list[tuple[uuid.UUID, Entry]] = []
        self._lock = threading.Lock()  # the queue
        self._appending = threading.Lock()  # one batch at a time: the thread's, or a stop's
        self._pid: int | None = None
        atexit.register(self.flush)  # inherited by forked workers: each appends its own queue

    def add(self, tenant_id: uuid.UUID, entry: Entry) -> None:
        with self._lock:
            if self._pid != os.getpid():  # the first read in this process (a forked worker has its own)
                self._pid, self._queued = os.getpid(), []
                threading.Thread(target=self._run, name="audit-reads", daemon=True).start()
            if len(self._queued) >= LIMIT:
                del self._queued[0]
                log.error("audit read entry lost: the queue is full (the database is unreachable)")
            self._queued.append((tenant_id, entry))

    def flush(self) -> int:
        """Append every queued entry now; how many were appended. What the database refused for
        a passing reason (its connection) is queued again, in order, for the next round."""
        with self._appending:
            with self._lock:
                taken, self._queued = self._queued, []
            by_tenant: dict[uuid.UUID, list[Entry]] = {}
            for tenant_id, entry in taken:
                by_tenant.setdefault(tenant_id, []).append(entry)
            appended = 0
            again: list[tuple[uuid.UUID, Entry]] = []
            for tenant_id, entries in by_tenant.items():
                try:
                    with self._database.unit_of_work() as session, tenant_scope(session, tenant_id):
                        append_many(session, tenant_id, entries)
                    appended += len(entries)
                except OperationalError:
                    log.warning("audit read entries wait: the database is unreachable")
                    again += [(tenant_id, entry) for entry in entries]
                except SQLAlchemyError:
                    log.exception("audit read entries lost: the database refused them",
                                  extra={"tenant_id": str(tenant_id), "count": len(entries)})
            if again:
                with self._lock:
                    self._queued[:0] = again[-LIMIT:]
            return appended

    def _run(self) -> None:
        while True:
            time.sleep(self._seconds)
            try:
                self.flush()
            except Exception:  # the thread must outlive any one round
                log.exception("audit read entries: a round failed")
