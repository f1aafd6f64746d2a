"""Fault-injection suite (`make faults`; `make faults-short` in CI): real processes, no mocks.

16 clients open cases, each with an Idempotency-Key of its own, and retry the same key and body on
every error, while PostgreSQL is restarted in `immediate` mode twice and gunicorn workers and
outbox workers are killed with SIGKILL at random. Afterwards: exactly one case per key, every
outbox event delivered (repeats are allowed: receivers drop them by `webhook-id`), every audit chain
intact, nothing half-written. Prints the counts; exit code 1 on any violation or failure.

The suite never touches the shared cluster on port 5432: it runs its own PostgreSQL 15 cluster
(`faults`, port FAULTS_PG_PORT, default 5433; created once with pg_createcluster, reused after), and
a fresh database in it per run. `--report` writes docs/reliability.md.
"""

import argparse
import base64
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from types import FrameType
from typing import Any, LiteralString

import psycopg
import requests
from psycopg import sql
from standardwebhooks import Webhook, WebhookVerificationError

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.prefix) / "bin"  # the virtualenv running this script: gunicorn, townhall
REPORT = ROOT / "docs" / "reliability.md"
PG_VERSION = "15"
CLUSTER = "faults"
PG_PORT = int(os.environ.get("FAULTS_PG_PORT", "5433"))
APP_ROLE, OWNER_ROLE = "townhall_faults_app", "townhall_faults_owner"
CLIENTS = 16
GUNICORN_WORKERS = 3
OUTBOX_WORKERS = 2
PG_RESTARTS = 2
TOWNS = ("aalst", "denderleeuw", "ninove", "ronse")  # the demo municipalities that offer parking permits
CITIZEN = "citizen@demo.example"
DRAIN_SECONDS = 180  # after the load, for the workers to deliver what is left
KEY_SECONDS = 300  # one key that still has no answer after this long is a violation


class FaultsError(Exception):
    """The suite could not run (as opposed to a violation it found)."""


# --- the cluster and the database ---------------------------------------------------------------

def pg_ctlcluster(*args: str) -> None:
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, CLUSTER, *args], check=True,
                   capture_output=True, timeout=120)


def admin_conninfo(database: str = "postgres") -> str:
    return f"host=127.0.0.1 port={PG_PORT} user=postgres dbname={database} connect_timeout=5"


def wait_for_postgres(seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(admin_conninfo()):
                return
        except psycopg.OperationalError:
            time.sleep(0.2)
    raise FaultsError(f"PostgreSQL on port {PG_PORT} did not answer within {seconds:.0f} s")


def ensure_cluster() -> None:
    """The suite's own cluster: made once (trust on loopback, as the shared one), started if stopped."""
    if PG_PORT == 5432:
        raise FaultsError("port 5432 is the shared cluster's, which the suite must never restart")
    if not Path(f"/etc/postgresql/{PG_VERSION}/{CLUSTER}").exists():
        print(f"creating PostgreSQL cluster {PG_VERSION}/{CLUSTER} on port {PG_PORT}", flush=True)
        subprocess.run(["pg_createcluster", PG_VERSION, CLUSTER, "-p", str(PG_PORT), "--", "--auth=trust"],
                       check=True, capture_output=True, timeout=120)
    status = subprocess.run(["pg_ctlcluster", PG_VERSION, CLUSTER, "status"], capture_output=True, timeout=30)
    if status.returncode != 0:
        pg_ctlcluster("start")
    wait_for_postgres()


def create_database() -> tuple[str, str, str]:
    """A fresh database owned by the owner role; its name and the owner's and the app role's URLs."""
    name = f"townhall_faults_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_conninfo(), autocommit=True) as connection:
        for old, in connection.execute("SELECT datname FROM pg_database WHERE datname LIKE 'townhall_faults_%'"):
            connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(old)))
        for role in (OWNER_ROLE, APP_ROLE):
            if connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
                connection.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
                                   .format(sql.Identifier(role)))
        connection.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name),
                                                                         sql.Identifier(OWNER_ROLE)))
    url = f"postgresql+psycopg://{{}}@127.0.0.1:{PG_PORT}/{name}"
    return name, url.format(OWNER_ROLE), url.format(APP_ROLE)


def drop_database(name: str) -> None:
    with psycopg.connect(admin_conninfo(), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- the webhook receiver -----------------------------------------------------------------------

class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """An outbox worker killed mid-request resets its connection: expected here, not worth a trace."""


class Receiver:
    """A partner's endpoint: checks each delivery's Standard Webhooks signature and counts its
    `webhook-id` (one path per municipality, each with its subscription's secret)."""

    def __init__(self) -> None:
        self.secrets: dict[str, Webhook] = {}
        self.seen: Counter[str] = Counter()
        self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender was killed mid-body: a broken delivery it sends again
                    self.close_connection = True
                    return
                hook = receiver.secrets.get(self.path.rsplit("/", 1)[-1])
                try:
                    if hook is None:
                        raise WebhookVerificationError("no subscription here")
                    hook.verify(body, {name.lower(): value for name, value in self.headers.items()})
                except WebhookVerificationError:
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    self.answer(400)
                    return
                with receiver.lock:
                    receiver.seen[self.headers["webhook-id"]] += 1
                self.answer(204)

            def answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the processes under test -------------------------------------------------------------------

@dataclass
class Platform:
    """gunicorn (its master respawns killed workers) and the outbox workers (respawned here)."""

    env: dict[str, str]
    work: Path
    base_url: str
    gunicorn: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def run(self, *args: str) -> str:
        done = subprocess.run([str(BIN / "townhall"), *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=300)
        if done.returncode != 0:
            raise FaultsError(f"townhall {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
        return done.stdout

    def start_gunicorn(self) -> None:
        with (self.work / "gunicorn.log").open("ab") as log:
            self.gunicorn = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"], cwd=ROOT,
                                             env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                             start_new_session=True)
        deadline = time.monotonic() + 30
        while not self.ready():
            if self.gunicorn.poll() is not None or time.monotonic() > deadline:
                raise FaultsError(f"gunicorn did not start:\n{tail(self.work / 'gunicorn.log')}")
            time.sleep(0.2)

    def ready(self) -> bool:
        try:
            return requests.get(f"{self.base_url}/readyz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def gunicorn_workers(self) -> list[int]:
        """The master's live children (a killed one stays a zombie until the master reaps it)."""
        assert self.gunicorn is not None
        children = Path(f"/proc/{self.gunicorn.pid}/task/{self.gunicorn.pid}/children")
        pids = [int(pid) for pid in children.read_text().split()] if children.exists() else []
        return [pid for pid in pids if _state(pid) not in {"Z", "X", None}]

    def start_worker(self) -> subprocess.Popen[bytes]:
        with (self.work / "workers.log").open("ab") as log:
            process = subprocess.Popen([str(BIN / "townhall"), "worker"], cwd=ROOT, env=self.env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.workers.append(process)
        return process

    def stop(self) -> None:
        for process in [*self.workers, *([self.gunicorn] if self.gunicorn else [])]:
            if process.poll() is None:
                process.terminate()
        for process in [*self.workers, *([self.gunicorn] if self.gunicorn else [])]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


# --- the clients --------------------------------------------------------------------------------

@dataclass
class Tally:
    """What the clients and the chaos did, shared by their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    done: int = 0
    attempts: int = 0
    replays: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    answers: dict[str, str] = field(default_factory=dict)  # key -> the case id its 201 named
    violations: list[str] = field(default_factory=list)
    outages: list[float] = field(default_factory=list)  # per PostgreSQL restart: seconds to the next 201

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] += 1


class Tokens:
    """Each municipality's partner token, taken again when it expires (or the answer says 401)."""

    def __init__(self, base_url: str, demo: Path) -> None:
        self.base_url = base_url
        self.clients = {c["client_id"]: c.get("client_secret", "") for c in json.loads(demo.read_text())["clients"]}
        self.tokens: dict[str, str] = {}
        self.lock = threading.Lock()

    def get(self, town: str, stale: str | None = None) -> str:
        with self.lock:
            if town in self.tokens and self.tokens[town] != stale:
                return self.tokens[town]
            client_id = f"{town}.demo-partner"
            credentials = base64.b64encode(f"{client_id}:{self.clients[client_id]}".encode()).decode()
            for pause in backoff():
                try:
                    answer = requests.post(f"{self.base_url}/oauth/token", timeout=30, headers={
                        "Authorization": f"Basic {credentials}"}, data={
                        "grant_type": "client_credentials", "scope": "cases:write webhooks:manage"})
                    if answer.status_code == 200:
                        self.tokens[town] = str(answer.json()["access_token"])
                        return self.tokens[town]
                except requests.RequestException:
                    pass
                time.sleep(pause)
            raise AssertionError("unreachable")


def backoff() -> Iterator[float]:
    """Pauses between retries: 50 ms doubling to 1 s, with jitter, for ever."""
    pause = 0.05
    while True:
        yield pause * random.uniform(0.5, 1.5)  # noqa: S311  (jitter, not secrecy)
        pause = min(pause * 2, 1.0)


def case_body(number: int) -> bytes:
    plate = f"1-{chr(65 + number % 26)}{chr(65 + number // 26 % 26)}{chr(65 + number // 676 % 26)}-{number % 1000:03d}"
    starts = (date.today() + timedelta(days=30)).isoformat()
    return json.dumps({"service": "parking-permit", "citizen": CITIZEN,
                       "form": {"plate": plate, "zone": "A1", "starts_on": starts}}).encode()


def open_case(http: requests.Session, base_url: str, tokens: Tokens, tally: Tally, key: str, number: int) -> None:
    """One intended case: the same key and body until a 201 (first or replayed) names the case."""
    town = TOWNS[number % len(TOWNS)]
    body, token = case_body(number), tokens.get(town)
    deadline = time.monotonic() + KEY_SECONDS
    for pause in backoff():
        with tally.lock:
            tally.attempts += 1
        try:
            answer = http.post(f"{base_url}/t/{town}/v1/cases", data=body, timeout=(5, 30), headers={
                "Authorization": f"Bearer {token}", "Idempotency-Key": key, "Content-Type": "application/json"})
        except requests.ConnectionError:
            tally.error("connection error")
        except requests.Timeout:
            tally.error("timeout")
        except requests.RequestException:  # an answer cut short: its worker died while sending it
            tally.error("broken answer")
        else:
            if answer.status_code == 201:
                with tally.lock:
                    tally.answers[key] = str(answer.json()["id"])
                    tally.replays += answer.headers.get("Idempotent-Replayed") == "true"
                    tally.done += 1
                return
            tally.error(f"HTTP {answer.status_code}")
            if answer.status_code == 401:
                token = tokens.get(town, stale=token)
            elif answer.status_code not in (409, 429) and answer.status_code < 500:
                with tally.lock:  # a refusal of the same key and body is never right
                    tally.violations.append(f"{key}: {answer.status_code} {answer.text[:200]}")
                    tally.done += 1
                return
        if time.monotonic() > deadline:
            with tally.lock:
                tally.violations.append(f"{key}: no answer after {KEY_SECONDS} s of retries")
                tally.done += 1
            return
        time.sleep(pause)


def client(base_url: str, tokens: Tokens, tally: Tally, run_id: str, numbers: range) -> None:
    with requests.Session() as http:
        for number in numbers:
            key = f"faults-{run_id}-{number}"
            try:
                open_case(http, base_url, tokens, tally, key, number)
            except Exception as error:  # the runner's own failure: counted, never a silently dead client
                with tally.lock:
                    tally.violations.append(f"{key}: the client failed: {error!r}")
                    tally.done += 1


# --- the chaos ----------------------------------------------------------------------------------

def chaos_plan(creations: int, seed: int) -> list[tuple[float, str]]:
    """When (as a share of the creations answered) to do what: two PostgreSQL restarts, one in each
    third, and SIGKILLs of gunicorn workers and outbox workers at random moments in between."""
    chance = random.Random(seed)  # noqa: S311  (a reproducible schedule, not secrecy)
    kills = max(6, creations // 400)
    plan = [(chance.uniform(0.25, 0.4), "restart postgresql"), (chance.uniform(0.6, 0.75), "restart postgresql")]
    plan += [(chance.uniform(0.05, 0.85), "kill gunicorn worker") for _ in range(kills)]
    plan += [(chance.uniform(0.05, 0.85), "kill outbox worker") for _ in range(kills)]
    return sorted(plan)


def chaos(served: Platform, tally: Tally, creations: int, plan: list[tuple[float, str]], stop: threading.Event,
          seed: int) -> None:
    chance = random.Random(seed + 1)  # noqa: S311
    pending = list(plan)
    while pending and not stop.is_set():
        with tally.lock:
            progress = tally.done / creations
        if progress < pending[0][0]:
            # Outbox workers killed earlier come back here, as a supervisor would bring them back.
            time.sleep(0.05)
            continue
        _, action = pending.pop(0)
        if action == "restart postgresql":
            with tally.lock:
                answered = tally.done
            began = time.monotonic()
            pg_ctlcluster("restart", "-m", "immediate")
            while not stop.is_set():  # the time until the next case is opened is the outage clients saw
                with tally.lock:
                    if tally.done > answered:
                        break
                time.sleep(0.02)
            with tally.lock:
                tally.outages.append(time.monotonic() - began)
        elif action == "kill gunicorn worker":
            pids = served.gunicorn_workers()
            if len(pids) < GUNICORN_WORKERS:
                pending.insert(0, (progress, action))  # the master is still booting one: wait for it
                time.sleep(0.1)
                continue
            os.kill(chance.choice(pids), signal.SIGKILL)
        else:
            alive = [process for process in served.workers if process.poll() is None]
            victim = chance.choice(alive)
            victim.kill()
            victim.wait()
            served.workers.remove(victim)
            served.start_worker()
        with tally.lock:
            tally.injected[action] += 1


# --- afterwards ---------------------------------------------------------------------------------

def scalar(connection: psycopg.Connection[tuple[Any, ...]], query: LiteralString) -> int:
    row = connection.execute(query).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def drain(database: str, receiver: Receiver, seconds: float) -> float:
    """Wait until no event waits for fan-out, no delivery is pending and the receiver saw every one."""
    started = time.monotonic()
    with psycopg.connect(admin_conninfo(database), autocommit=True) as connection:
        while time.monotonic() - started < seconds:
            waiting = scalar(connection, "SELECT count(*) FROM outbox_events WHERE delivered_at IS NULL")
            waiting += scalar(connection, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")
            ids = {f"msg_{row[0].hex}" for row in connection.execute("SELECT id FROM webhook_deliveries")}
            with receiver.lock:
                unseen = len(ids - set(receiver.seen))
            if waiting == 0 and unseen == 0:
                break
            time.sleep(1)
    return time.monotonic() - started


# Counts that must be zero once the run is over, read as the superuser (no row-level security).
ZERO: tuple[tuple[str, LiteralString], ...] = (
    ("idempotency records without their answer", "SELECT count(*) FROM idempotency_keys WHERE status_code <> 201"),
    ("cases without their first step", "SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_steps s "
     "WHERE s.tenant_id = c.tenant_id AND s.case_id = c.id AND s.kind = 'created')"),
    ("cases without exactly one case.created event", "SELECT count(*) FROM cases c LEFT JOIN (SELECT tenant_id, "
     "data->>'case' AS case_id, count(*) AS n FROM outbox_events WHERE type = 'case.created' GROUP BY 1, 2) e "
     "ON e.tenant_id = c.tenant_id AND e.case_id = c.id::text WHERE e.n IS DISTINCT FROM 1"),
    ("case.created events without their case", "SELECT count(*) FROM outbox_events e LEFT JOIN cases c ON "
     "c.tenant_id = e.tenant_id AND c.id::text = e.data->>'case' WHERE e.type = 'case.created' AND c.id IS NULL"),
    ("municipalities whose case references are not 1..n", "SELECT count(*) FROM (SELECT tenant_id FROM cases "
     "GROUP BY tenant_id HAVING max(right(reference, 6)::int) <> count(*) OR count(DISTINCT reference) <> count(*))"
     " AS numbered"),
    ("case creations without exactly one audit entry", "SELECT count(*) FROM cases c JOIN tenants t ON t.id = "
     "c.tenant_id LEFT JOIN (SELECT tenant_id, object, count(*) AS n FROM audit_entries GROUP BY 1, 2) a ON "
     "a.tenant_id = c.tenant_id AND a.object = '/t/' || t.slug || '/v1/cases/' || c.id::text "
     "WHERE a.n IS DISTINCT FROM 1"),
    ("events not fanned out", "SELECT count(*) FROM outbox_events WHERE delivered_at IS NULL"),
    ("case.created events without exactly one delivery", "SELECT count(*) FROM outbox_events e LEFT JOIN (SELECT "
     "tenant_id, event_id, count(*) AS n FROM webhook_deliveries GROUP BY 1, 2) d ON d.tenant_id = e.tenant_id "
     "AND d.event_id = e.id WHERE e.type = 'case.created' AND d.n IS DISTINCT FROM 1"),
    ("deliveries pending or dead", "SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'"),
)
TOTALS: tuple[tuple[str, LiteralString], ...] = (
    ("cases", "SELECT count(*) FROM cases"),
    ("outbox events", "SELECT count(*) FROM outbox_events"),
    ("webhook deliveries", "SELECT count(*) FROM webhook_deliveries"),
    ("audit entries", "SELECT count(*) FROM audit_entries"),
)


def verify(database: str, tally: Tally, receiver: Receiver, served: Platform, creations: int) -> dict[str, int]:
    """Every promise the platform made; violations go to the tally, the counts are returned."""
    problems = tally.violations
    with psycopg.connect(admin_conninfo(database), autocommit=True) as db:
        figures = {name: scalar(db, query) for name, query in TOTALS}
        zero = {name: scalar(db, query) for name, query in ZERO}
        stored = {str(row[0]) for row in db.execute("SELECT id FROM cases")}
        keys = {str(k): str(v) for k, v in db.execute("SELECT key, body->>'id' FROM idempotency_keys "
                                                      "WHERE key LIKE 'faults-%'")}
        expected = {f"msg_{row[0].hex}" for row in db.execute("SELECT id FROM webhook_deliveries")}
    answered = set(tally.answers.values())
    figures["keys answered 201"] = len(tally.answers)
    figures["idempotency records"] = len(keys)
    if not figures["cases"] == len(tally.answers) == len(answered) == len(keys) == creations:
        problems.append(f"{creations} keys: {figures['cases']} cases, {len(tally.answers)} keys answered 201 "
                        f"naming {len(answered)} cases, {len(keys)} idempotency records")
    if answered != stored or keys != tally.answers:
        problems.append("the cases the answers name, the cases stored and the idempotency records differ")
    problems += [f"{name}: {count}" for name, count in zero.items() if count]
    figures |= zero
    with receiver.lock:
        seen, bad = Counter(receiver.seen), receiver.bad_signatures
    figures |= {"deliveries received": sum(seen.values()), "distinct webhook-ids received": len(seen),
                "repeated deliveries (same webhook-id)": sum(seen.values()) - len(seen), "bad signatures": bad,
                "deliveries never received": len(expected - set(seen)),
                "webhook-ids the outbox does not know": len(set(seen) - expected)}
    problems += [f"{name}: {figures[name]}" for name in ("deliveries never received", "bad signatures",
                                                         "webhook-ids the outbox does not know") if figures[name]]
    audit = subprocess.run([str(BIN / "townhall"), "audit", "verify"], cwd=ROOT, env=served.env, capture_output=True,
                           text=True, timeout=300)
    figures["audit chains verified"] = len(re.findall(r": \d+ entries, intact", audit.stdout))
    figures["audit chains broken"] = len(re.findall("BROKEN", audit.stdout))
    if audit.returncode != 0:
        problems.append(f"townhall audit verify exited {audit.returncode}: {audit.stdout}{audit.stderr}")
    return figures


# --- the run ------------------------------------------------------------------------------------

@dataclass
class Outcome:
    creations: int
    started: datetime
    load_seconds: float
    drain_seconds: float
    total_seconds: float
    tally: Tally
    figures: dict[str, int]
    gunicorn_boots: int


def townhall_env(owner_url: str, app_url: str, work: Path, base_url: str, port: int) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("TOWNHALL_", "GUNICORN_"))}
    return kept | {
        "TOWNHALL_DATABASE_URL": app_url, "TOWNHALL_MIGRATION_DATABASE_URL": owner_url,
        "TOWNHALL_INSTANCE_PATH": str(work / "instance"), "TOWNHALL_BASE_URL": base_url,
        "TOWNHALL_LOG_LEVEL": "WARNING", "TOWNHALL_RATE_LIMITS": "0",  # 16 clients of 4 partners, flat out
        "TOWNHALL_WEBHOOKS_ALLOW_PRIVATE": "1",  # the receiver listens on loopback
        "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(GUNICORN_WORKERS),
    }


def free_port() -> int:
    import socket  # noqa: PLC0415  (only here)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def subscribe(base_url: str, tokens: Tokens, receiver: Receiver) -> None:
    for town in TOWNS:
        answer = requests.post(f"{base_url}/t/{town}/v1/webhooks", timeout=30, json={
            "url": receiver.url + town, "event_types": ["case.created"]}, headers={
            "Authorization": f"Bearer {tokens.get(town)}"})
        if answer.status_code != 201:
            raise FaultsError(f"could not subscribe the receiver for {town}: {answer.text[:300]}")
        receiver.secrets[town] = Webhook(answer.json()["secret"])


def load(served: Platform, tokens: Tokens, tally: Tally, creations: int, seed: int) -> float:
    """The clients' creations under the chaos; returns how long they took."""
    stop, plan = threading.Event(), chaos_plan(creations, seed)
    print(f"{creations} keyed creations by {CLIENTS} clients; chaos: {dict(Counter(a for _, a in plan))}", flush=True)
    run_id = uuid.uuid4().hex[:8]
    started = time.monotonic()
    chaos_thread = threading.Thread(target=chaos, args=(served, tally, creations, plan, stop, seed), daemon=True)
    chaos_thread.start()
    clients = [threading.Thread(target=client, args=(served.base_url, tokens, tally, run_id,
                                                     range(n, creations, CLIENTS)), daemon=True)
               for n in range(CLIENTS)]
    for thread in clients:
        thread.start()
    while any(thread.is_alive() for thread in clients):
        time.sleep(5)
        with tally.lock:
            print(f"  {tally.done}/{creations} answered, {tally.attempts} requests, injected {dict(tally.injected)}",
                  flush=True)
    seconds = time.monotonic() - started
    stop.set()
    chaos_thread.join(timeout=60)
    if tally.injected != Counter(action for _, action in plan):
        tally.violations.append(f"the chaos did not do all it planned: {dict(tally.injected)}")
    for process in served.workers:  # the ones killed were started again; any other death is a finding
        if process.poll() is not None:
            tally.violations.append(f"an outbox worker exited {process.returncode} by itself")
    return seconds


def run(creations: int, seed: int, work: Path) -> Outcome:
    started, clock = datetime.now(UTC), time.monotonic()
    ensure_cluster()
    name, owner_url, app_url = create_database()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    served = Platform(townhall_env(owner_url, app_url, work, base_url, port), work, base_url)
    receiver = Receiver()
    kept = False
    try:
        served.run("db", "upgrade")
        served.run("demo", "seed")
        served.start_gunicorn()
        tokens = Tokens(base_url, work / "instance" / "demo.json")
        subscribe(base_url, tokens, receiver)
        for _ in range(OUTBOX_WORKERS):
            served.start_worker()
        tally = Tally()
        print(f"database {name}", flush=True)
        load_seconds = load(served, tokens, tally, creations, seed)
        deadline = time.monotonic() + 60
        while not served.ready():
            if time.monotonic() > deadline:
                raise FaultsError("the platform did not answer /readyz within 60 s after the faults")
            time.sleep(0.5)
        drain_seconds = drain(name, receiver, DRAIN_SECONDS)
        served.stop()
        figures = verify(name, tally, receiver, served, creations)
        boots = (work / "gunicorn.log").read_text(errors="replace").count("Booting worker") - GUNICORN_WORKERS
        outcome = Outcome(creations, started, load_seconds, drain_seconds, time.monotonic() - clock, tally, figures,
                          boots)
        kept = bool(tally.violations)
        return outcome
    except BaseException:
        kept = True
        raise
    finally:
        served.stop()
        receiver.stop()
        if kept:
            print(f"kept database {name} (port {PG_PORT}) and logs in {work} for a look", file=sys.stderr)
            for log in ("gunicorn.log", "workers.log"):
                print(f"--- {log}\n{tail(work / log)}", file=sys.stderr)
        else:
            drop_database(name)
            shutil.rmtree(work, ignore_errors=True)


# --- the report ---------------------------------------------------------------------------------

def figure_lines(outcome: Outcome) -> list[str]:
    tally = outcome.tally
    injected = ", ".join(f"{action}: {count}" for action, count in sorted(tally.injected.items()))
    errors = ", ".join(f"{kind}: {count}" for kind, count in sorted(tally.errors.items())) or "none"
    return [
        f"keys (intended cases): {outcome.creations}",
        f"clients: {CLIENTS}; gunicorn workers: {GUNICORN_WORKERS}; outbox workers: {OUTBOX_WORKERS}",
        f"requests sent: {tally.attempts} ({tally.attempts - outcome.creations} retries); "
        f"replayed answers: {tally.replays}",
        f"errors seen by the clients: {errors}",
        f"injected: {injected}; gunicorn workers booted by the master: {outcome.gunicorn_boots}",
        "from each PostgreSQL restart to the next case opened: "
        + ", ".join(f"{seconds:.1f} s" for seconds in tally.outages),
        *(f"{name}: {value}" for name, value in outcome.figures.items()),
        f"elapsed: {outcome.total_seconds:.0f} s in all; load {outcome.load_seconds:.0f} s "
        f"({outcome.creations / outcome.load_seconds:.0f} creations/s under faults); "
        f"drain {outcome.drain_seconds:.0f} s",
        f"violations: {len(tally.violations)}",
    ]


def report(outcome: Outcome) -> str:
    machine = (f"{len(os.sched_getaffinity(0))} CPUs, Python {platform.python_version()}, PostgreSQL "
               f"{PG_VERSION}, " + ", ".join(f"{name} {version(name)}" for name in ("gunicorn", "Flask", "psycopg")))
    lines = "\n".join(f"- {line}" for line in figure_lines(outcome))
    return f"""# Reliability under faults

Last full run: {outcome.started:%Y-%m-%d %H:%M} UTC ({machine}). Written by `make faults`
(`bench/faults.py --creations 20000 --report`); CI runs `make faults-short` (1,000 creations) and
prints the same figures.

## What is injected

- {CLIENTS} client threads open cases (a parking permit, for the demo's citizen, spread over Aalst,
  Denderleeuw, Ninove and Ronse, each through its partner client) with a unique `Idempotency-Key`
  per intended case, and retry the same key and body on every error: a lost connection, a timeout,
  a 5xx, a 409 while the first request with the key still runs, a 401 (a new token first).
- PostgreSQL (its own cluster, `pg_ctlcluster 15 faults`, port 5433) is restarted in `immediate`
  mode ({PG_RESTARTS} times: no shutdown checkpoint, every connection cut, crash recovery on start).
- gunicorn workers (`gunicorn -c gunicorn.conf.py`, {GUNICORN_WORKERS} sync workers) are killed with
  SIGKILL at random moments, mid-request or not; the master boots new ones.
- outbox workers (`townhall worker`, {OUTBOX_WORKERS} processes sharing the outbox) are killed with
  SIGKILL at random moments, mid-delivery or not, and started again.
- A webhook receiver (in the runner) is subscribed through the API to `case.created` in each of the
  four municipalities; it checks every delivery's Standard Webhooks signature and counts its
  `webhook-id`.

## What is checked afterwards

Once the clients are done, the services answer again and the workers have drained the outbox:

- exactly one case per key: as many cases as keys, every key answered 201 (first or replayed) with a
  case of its own, and the idempotency records name the same cases, none left without its answer;
- nothing half-written: every case has its first step and exactly one `case.created` event, its
  municipality's references are numbered 1…n without gaps or repeats, and every case creation has
  exactly one audit entry;
- every event delivered: no event waiting for fan-out, no delivery pending or dead, every delivery's
  `webhook-id` received (repeats are allowed and counted: a worker killed after sending, before
  recording, sends again; receivers drop them by `webhook-id`), every signature valid;
- every audit chain verifies (`townhall audit verify`).

## Figures

{lines}

## Running it

```sh
make faults         # 20,000 keyed creations; writes this file
make faults-short   # 1,000 keyed creations, as in CI (.ci/run); prints the figures
.venv/bin/python bench/faults.py --creations 5000 --seed 7
```

It needs PostgreSQL 15's Debian tools (`pg_createcluster`, `pg_ctlcluster`) and root, as in CI: the
first run creates the cluster `15/faults` on port 5433 (`FAULTS_PG_PORT`), later runs reuse it;
each run uses a fresh database there and drops it when every check passed (it keeps it, and the
logs, when one failed). The shared cluster on port 5432 is never touched.
"""


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise FaultsError(f"stopped by signal {signal.Signals(signum).name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--creations", type=int, default=20_000, help="keyed case creations (default 20,000)")
    parser.add_argument("--seed", type=int, default=None, help="the chaos schedule's seed (default: random)")
    parser.add_argument("--report", action="store_true", help=f"write {REPORT.relative_to(ROOT)}")
    parser.add_argument("--timeout", type=int, default=3600, help="give up after this many seconds")
    options = parser.parse_args()
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(1_000_000)
    print(f"fault-injection run, seed {seed}", flush=True)
    signal.signal(signal.SIGALRM, _stop)
    signal.signal(signal.SIGTERM, _stop)
    signal.alarm(options.timeout)
    try:
        work = Path(tempfile.mkdtemp(prefix="townhall-faults-"))
        outcome = run(options.creations, seed, work)
    except (FaultsError, psycopg.Error, OSError, subprocess.SubprocessError) as error:
        print(f"fault-injection run failed: {error}", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
    print("\n".join(figure_lines(outcome)))
    for violation in outcome.tally.violations[:50]:
        print(f"VIOLATION {violation}", file=sys.stderr)
    if options.report:
        REPORT.write_text(report(outcome))
        print(f"written to {REPORT.relative_to(ROOT)}")
    return 1 if outcome.tally.violations else 0


if __name__ == "__main__":
    sys.exit(main())
