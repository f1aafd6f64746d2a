"""Benchmark harness (`make bench`): Townhall endpoints against a bare baseline app, in one run.

Absolute numbers vary ±20-40 % between runs and machines, so every endpoint is reported as a ratio
to the baseline measured in the same run, with the same gunicorn settings (2 sync workers) and wrk
settings; server and load generator share the machine's cores. Writes docs/benchmarks.md.
Exit code 0 when the measurements ran (a missed goal is a finding, not a failure), 1 otherwise.
Benchmarks never gate tests.
"""

import base64
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from types import FrameType
from urllib.parse import urlencode, urlsplit

import psycopg
import redis
from databases import ADMIN_URL, conninfo, create_database, drop_database, server_version
from sqlalchemy.engine import URL, make_url

from townhall.rules.engine import compile_rule, evaluate

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.prefix) / "bin"  # the virtualenv running this script: gunicorn, townhall
REPORT = ROOT / "docs" / "benchmarks.md"
AUDIT_SECTION = "## Audit verification"  # the last section, bench/audit_verify.py's
WRK_ARGS = ["-t2", "-c32", "-d10s", "--latency"]
WARM_UP_ARGS = ["-t2", "-c32", "-d3s"]
RUNS = 3
BASELINE_ROWS = 1000
GOAL_RATIO = 0.75
JWT_GOAL_RATIO = 0.7
CASE_GET_GOAL_RATIO = 0.75
CASE_POST_GOAL_RATIO = 0.5
TOTAL_SECONDS = 1800  # the whole run must end within 30 minutes, cleanup included
LARGE_P50_GOAL = 1.2  # p50 on the large demo ÷ p50 on the small demo
START_SECONDS = 20
BUSY_LOAD = 0.5


class BenchError(Exception):
    """Something failed to run: the measurements are incomplete."""


@dataclass(frozen=True)
class Endpoint:
    label: str
    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    script: str | None = None  # a wrk script in bench/ that sets the method and body
    body: bytes | None = None  # the same body, for the one request before the load
    connections: int = 32  # wrk's open connections (2: one request per server worker, a latency view)


@dataclass(frozen=True)
class WrkRun:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad_status: int  # non-2xx/3xx responses
    socket_errors: tuple[int, int, int, int]  # connect, read, write, timeout


@dataclass(frozen=True)
class Result:
    endpoint: Endpoint
    runs: list[WrkRun]

    @property
    def rps(self) -> float:
        return statistics.median(run.rps for run in self.runs)

    @property
    def p50_ms(self) -> float:
        return statistics.median(run.p50_ms for run in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(run.p99_ms for run in self.runs)

    @property
    def errors(self) -> int:
        return sum(run.bad_status + sum(run.socket_errors) for run in self.runs)


BASELINE_GET = Endpoint("baseline GET `/rows/1` (Core SELECT by PK)", "/rows/1")
BASELINE_POST = Endpoint("baseline POST `/rows` (INSERT + COMMIT)", "/rows", "POST", script="post.lua",
                         body=b'{"name": "bench"}')
# The smallest JPEG as the application's photo: the identity card needs it, and the case keeps it.
PHOTO = ("/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////"
         "////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=")
CASE_BODY = ('{"service": "eid-card", "form": {"reason": "renewal", "photo": {"media_type": "image/jpeg", '
             f'"content": "{PHOTO}"}}}}, "citizen": "citizen@demo.example"}}').encode()
CASE_GET_LABEL = "Townhall GET `/t/aalst/v1/cases/{id}` (JWT, one case + its timeline under RLS)"
CASE_POST_LABEL = "Townhall POST `/t/aalst/v1/cases` (open a case: reference, timeline, outbox, its photo kept)"
CASE_POST_RULES_LABEL = ("Townhall POST `/t/ninove/v1/cases` with four rules active (eligibility, fee, deadline, "
                         "routing)")
RULES_GOAL = 0.9  # case creation with four rules ÷ without
RULE_EVALUATION_GOAL_US = 20.0
FOUR_RULES = (
    {"kind": "eligibility", "service": "eid-card", "expression": "!applicant.known || applicant.age >= 12",
     "reason": {"nl": "Pas vanaf 12 jaar.", "en": "From the age of 12."}},
    {"kind": "fee", "service": "eid-card", "expression": 'request.reason == "lost" ? 3500 : 2500'},
    {"kind": "deadline", "service": "eid-card", "expression": "applicant.resident ? 10 : 15"},
    {"kind": "routing", "service": "eid-card", "expression": '""'},
)
SLOTS_LABEL = "Townhall GET `/t/aalst/v1/slots` (public: 30 days, 10 offices)"
SLOTS_LATENCY_LABEL = SLOTS_LABEL + ", 2 connections (one request per server worker)"
SLOTS_P50_GOAL_MS = 50.0
CONSOLE_P50_GOAL_MS = 30.0  # a console page, server-side (issue 17)
CONSOLE_QUEUE_LABEL = ("Townhall console: Aalst's work queue page (HTML, signed-in case worker), "
                       "2 connections (one request per server worker)")
CONSOLE_BRANDING_LABEL = ("Townhall console: Aalst's branding page (HTML, signed-in tenant admin), "
                          "2 connections (one request per server worker)")
WEBHOOKS_GOAL = 500.0
QUEUE_LABEL = "Townhall GET `/t/aalst/v1/cases` (work queue, first page of 20)"
QUEUE_PATH = "/t/aalst/v1/cases?limit=20"
QUEUE_CASES = 25  # opened before the reads: the queue's first page is full on the small demo too
LARGE = " — large demo (1,000 more municipalities, 1,000,000 more cases)"
UNTRUSTED = " — without audit trail and rate limits"
TRUST_GOAL = 0.9  # issue 18: auditing and rate limits cost at most 10 % of GET one case and of a creation
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
BRANDING = Endpoint("Townhall GET `/t/aalst/v1/branding` (public)", "/t/aalst/v1/branding")
LIVEZ = Endpoint("Townhall GET `/livez` (no database)", "/livez")
JWT_GET_LABEL = "Townhall GET `/t/aalst/v1/me` (JWT: signature, audience, tenant, revocation list)"
JWT_ROW_LABEL = "Townhall GET `/t/aalst/v1/clients/{id}` (JWT, scope check, one row read under RLS)"
BRANDING_UNCACHED = Endpoint("Townhall GET `/t/aalst/v1/branding`, tenant cache off", "/t/aalst/v1/branding")


def run(command: list[str], timeout: float, env: dict[str, str] | None = None) -> str:
    """Run a command to completion; its output goes into the error if it fails."""
    try:
        done = subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"{' '.join(command)}: no result within {timeout:.0f} s") from error
    if done.returncode != 0:
        raise BenchError(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


# --- wrk --------------------------------------------------------------------------------------------

def ensure_wrk() -> str:
    if found := shutil.which("wrk"):
        return found
    print("wrk is missing; installing it with apt-get", flush=True)
    apt_env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "wrk"]
    try:
        # The package lists may be missing or stale on a fresh machine: update only when the install fails.
        if subprocess.run(install, check=False, env=apt_env, timeout=180).returncode != 0:
            subprocess.run(["apt-get", "update"], check=False, env=apt_env, timeout=180)
            subprocess.run(install, check=False, env=apt_env, timeout=180)
    except (OSError, subprocess.SubprocessError) as error:  # no apt-get, or it hung
        print(f"apt-get failed: {error}", file=sys.stderr)
    if found := shutil.which("wrk"):
        return found
    raise BenchError("wrk is not installed and apt-get could not install it: run `apt-get install wrk` as root")


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _number(pattern: str, output: str) -> str:
    match = re.search(pattern, output, re.MULTILINE)
    if match is None:
        raise BenchError(f"unexpected wrk output (no match for {pattern!r}):\n{output}")
    return match.group(1)


def _latency_ms(percentile: str, output: str) -> float:
    match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
    if match is None:
        raise BenchError(f"unexpected wrk output (no {percentile}% latency):\n{output}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def parse_wrk(output: str) -> WrkRun:
    # Both lines are absent when there were none.
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return WrkRun(
        rps=float(_number(r"^Requests/sec:\s+([\d.]+)", output)),
        p50_ms=_latency_ms("50", output),
        p99_ms=_latency_ms("99", output),
        requests=int(_number(r"(\d+) requests in", output)),
        bad_status=int(bad.group(1)) if bad else 0,
        socket_errors=(int(sockets[1]), int(sockets[2]), int(sockets[3]), int(sockets[4])) if sockets else (0, 0, 0, 0),
    )


def wrk(wrk_path: str, base_url: str, endpoint: Endpoint, args: list[str]) -> str:
    args = [arg.replace("-c32", f"-c{endpoint.connections}") for arg in args]
    script = ["-s", str(ROOT / "bench" / endpoint.script)] if endpoint.script else []
    headers = [item for name, value in endpoint.headers for item in ("-H", f"{name}: {value}")]
    return run([wrk_path, *args, *script, *headers, base_url + endpoint.path], timeout=30)


def measure(wrk_path: str, base_url: str, endpoint: Endpoint) -> Result:
    probe(base_url, endpoint)
    print(f"  {endpoint.label}: warm-up, then {RUNS} runs", flush=True)
    wrk(wrk_path, base_url, endpoint, WARM_UP_ARGS)  # fills connection pools, lazy imports and caches
    runs = [parse_wrk(wrk(wrk_path, base_url, endpoint, WRK_ARGS)) for _ in range(RUNS)]
    for number, one in enumerate(runs, 1):
        connect, read, write, timeout = one.socket_errors
        errors = (f", {one.bad_status} non-2xx/3xx, socket errors: connect {connect}, read {read}, write {write}, "
                  f"timeout {timeout}") if one.bad_status or any(one.socket_errors) else ""
        print(f"    run {number}: {one.rps:.0f} req/s, p50 {one.p50_ms:.1f} ms, p99 {one.p99_ms:.1f} ms{errors}",
              flush=True)
    return Result(endpoint, runs)


def measure_interleaved(wrk_path: str, targets: Sequence[tuple[str, Endpoint]],
                        before_each: Callable[[], None]) -> list[Result]:
    """Endpoints compared with each other (each on its server's base URL), their runs alternating:
    the database slows as every creation adds rows, and a shared host's speed drifts over minutes;
    measured one after the other, the later endpoint would carry both. `before_each` runs before
    every run, the warm-ups included."""
    for base_url, endpoint in targets:
        probe(base_url, endpoint)
        before_each()
        wrk(wrk_path, base_url, endpoint, WARM_UP_ARGS)
    print(f"  {' / '.join(endpoint.label for _, endpoint in targets)}: warm-up, then {RUNS} alternating runs each",
          flush=True)
    runs: list[list[WrkRun]] = [[] for _ in targets]
    for _ in range(RUNS):
        for (base_url, endpoint), taken in zip(targets, runs, strict=True):
            before_each()
            taken.append(parse_wrk(wrk(wrk_path, base_url, endpoint, WRK_ARGS)))
            print(f"    {endpoint.path}: {taken[-1].rps:.0f} req/s, p50 {taken[-1].p50_ms:.1f} ms", flush=True)
    return [Result(endpoint, taken) for (_, endpoint), taken in zip(targets, runs, strict=True)]


def http_request(base_url: str, method: str, path: str, body: bytes | None = None,
                 headers: Mapping[str, str] | None = None, timeout: float = 10) -> tuple[int, bytes]:
    """One request (http.client: no redirects, no proxies from the environment): status and body."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def console_cookie(base_url: str, demo: Path, email: str) -> tuple[str, str]:
    """Sign in to Aalst's console as a person would (the sign-in page, the authorization server's
    login form, the callback): the session cookie, as a header for wrk."""
    password = {u["email"]: u["password"] for u in json.loads(demo.read_text())["users"]}[email]
    jar: dict[str, str] = {}

    def go(method: str, url: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        parts, served = urlsplit(url), urlsplit(base_url)
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in jar.items())}
        body = urlencode(form).encode() if form is not None else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(served.hostname or "127.0.0.1", served.port, timeout=10)
        try:
            connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body, headers)
            response = connection.getresponse()
            text = response.read().decode()
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                jar[name] = rest.split(";", 1)[0]
            return response.status, response.headers.get("Location", ""), text
        finally:
            connection.close()

    _, authorize, _ = go("GET", "/t/aalst/admin/sign-in")
    _, _, login = go("GET", authorize)
    found = re.search(r'name="csrf" value="([^"]+)"', login)
    if found is None:
        raise BenchError(f"no sign-in form at {authorize}")
    status, again, _ = go("POST", authorize, {"action": "login", "csrf": found.group(1), "email": email,
                                              "password": password})
    _, callback, _ = go("GET", again)
    status, _, page = go("GET", callback)
    name = "__Host-console-aalst"
    if status != 303 or name not in jar:
        raise BenchError(f"could not sign in to the console as {email}: {status} {page[:200]!r}")
    return "Cookie", f"{name}={jar[name]}"


def activate_four_rules(base_url: str, admin_token: str, tenant: str) -> None:
    """The tenant's eID card gets a rule of each case kind, through the API as a tenant admin would."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    for rule in FOUR_RULES:
        status, body = http_request(base_url, "POST", f"/t/{tenant}/v1/rules", json.dumps(rule).encode(), headers)
        if status != 201:
            raise BenchError(f"could not create a rule: {body[:300]!r}")
        status, body = http_request(base_url, "POST", f"/t/{tenant}/v1/rules/{json.loads(body)['id']}/activation",
                                    b'{"version": 1}', headers | {"If-Match": "*"})
        if status != 200:
            raise BenchError(f"could not activate a rule: {body[:300]!r}")


def add_offices(base_url: str, admin_token: str, count: int) -> None:
    """More counters for Aalst's eID cards (the demo has one), through the API as a tenant admin would."""
    hours = {day: [["08:30", "12:00"], ["13:00", "16:30"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    for number in range(count):
        body = {"name": f"Loket {number + 2}", "address": f"Dorpsstraat {number + 1}, 9300 Aalst",
                "lat": 50.93 + number / 1000, "long": 4.03, "hours": hours, "services": [
                    {"service": "eid-card", "duration_minutes": 15, "counters": 2, "lead_minutes": 60,
                     "horizon_days": 90}]}
        status, answer = http_request(base_url, "POST", "/t/aalst/v1/offices", json.dumps(body).encode(),
                                      {"Authorization": f"Bearer {admin_token}"})
        if status != 201:
            raise BenchError(f"could not open an office: {answer[:300]!r}")


def rule_evaluation_us() -> tuple[float, str]:
    """Median time of one evaluation of a typical eligibility rule, in process (compiled once)."""
    expression = "applicant.known && applicant.resident && applicant.age >= 12"
    compiled = compile_rule("eligibility", expression)
    variables = {"applicant": {"known": True, "resident": True, "age": 40, "birth_date": "1986-05-17"},
                 "request": {"reason": "renewal"}, "today": "2026-11-28"}
    batches = []
    for _ in range(21):
        started = time.perf_counter()
        for _ in range(1000):
            evaluate(compiled, variables)
        batches.append((time.perf_counter() - started) / 1000 * 1e6)
    return statistics.median(batches), expression


def created_case(base_url: str, headers: tuple[tuple[str, str], ...]) -> str:
    """Open one case to read during the load; returns its path."""
    status, body = http_request(base_url, "POST", "/t/aalst/v1/cases", CASE_BODY, dict(headers))
    if status != 201:
        raise BenchError(f"could not open a case: {body[:300]!r}")
    return f"/t/aalst/v1/cases/{json.loads(body)['id']}"


def access_token(base_url: str, demo: Path, client_id: str, scope: str) -> str:
    """A token for one of the demo's clients, taken the way a partner would take it."""
    secret = next(c["client_secret"] for c in json.loads(demo.read_text())["clients"] if c["client_id"] == client_id)
    credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    form = urlencode({"grant_type": "client_credentials", "scope": scope}).encode()
    status, body = http_request(base_url, "POST", "/oauth/token", form, {
        "Authorization": f"Basic {credentials}", "Content-Type": "application/x-www-form-urlencoded"})
    if status != 200:
        raise BenchError(f"no token for {client_id}: {body[:300]!r}")
    return str(json.loads(body)["access_token"])


def probe(base_url: str, endpoint: Endpoint) -> None:
    """One request before the load: a 404 or 500 at full speed would look like a great result."""
    body = endpoint.body
    try:
        status, _ = http_request(base_url, endpoint.method, endpoint.path, body, dict(endpoint.headers), timeout=5)
    except OSError as error:
        raise BenchError(f"{endpoint.method} {endpoint.path}: {error}") from error
    if not 200 <= status < 400:
        raise BenchError(f"{endpoint.method} {endpoint.path} answered {status} before the load")


# --- PostgreSQL -------------------------------------------------------------------------------------

def sqlalchemy_url(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def seed_baseline(owner: URL) -> None:
    with psycopg.connect(conninfo(owner), connect_timeout=5) as connection:  # commits on exit
        connection.execute("CREATE TABLE bench_rows (id serial PRIMARY KEY, name text, "
                           "created_at timestamptz DEFAULT now())")
        connection.execute("INSERT INTO bench_rows (name) SELECT 'row ' || n FROM generate_series(1, %s) AS n",
                           (BASELINE_ROWS,))
        connection.execute("ANALYZE bench_rows")


def analyze(owner: URL) -> None:
    """Fresh planner statistics, as autovacuum keeps them on a server. This machine's PostgreSQL
    runs with autovacuum off (CI settings): without this, Townhall's tables would be planned with no
    statistics at all while the baseline's table has them."""
    with psycopg.connect(conninfo(owner), autocommit=True, connect_timeout=5) as connection:
        connection.execute("ANALYZE")


# --- servers ----------------------------------------------------------------------------------------

class Receiver:
    """A local webhook receiver that counts what arrives (and when)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a partner's endpoint would

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver.lock:
                    receiver.times.append(time.monotonic())
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without settings that would change what is measured."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("TOWNHALL_", "GUNICORN_", "BENCH_"))}
    return kept | extra


def free_port() -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port: int = probe_socket.getsockname()[1]
        return port


def _log_tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-20:])


@contextmanager
def serve(name: str, command: list[str], *, cwd: Path, env: dict[str, str], base_url: str, ready_path: str,
          log: Path) -> Iterator[None]:
    """Run a gunicorn server until the block ends; it must answer within START_SECONDS."""
    with log.open("wb") as output:
        # A session of its own: if SIGTERM is not enough, the master and its workers go together.
        server = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if server.poll() is not None:
                raise BenchError(f"{name} exited {server.returncode} at start:\n{_log_tail(log)}")
            try:
                http_request(base_url, "GET", ready_path, timeout=2)
                break  # it answers; probe() checks the status of each endpoint
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchError(f"{name} did not answer within {START_SECONDS} s:\n{_log_tail(log)}") from None
                time.sleep(0.2)
        yield
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)


def worker_restarts(name: str, log: Path) -> str:
    # max_requests recycling (gunicorn.conf.py) boots workers mid-run; each boot stalls queued requests.
    restarts = max(0, log.read_text(errors="replace").count("Booting worker") - 2)
    return f"{name}: {restarts} gunicorn worker restarts during its runs."


@contextmanager
def serve_townhall(name: str, townhall_env: dict[str, str], log: Path, **extra: str) -> Iterator[str]:
    """Townhall as deployed (`gunicorn -c gunicorn.conf.py`, 2 workers) on a free port, with `extra`
    settings; yields its base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    # The address it names itself by (the issuer, the consoles' redirects) is the one it serves.
    env = townhall_env | {"GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2",
                          "TOWNHALL_BASE_URL": base_url} | extra
    print(name, flush=True)
    # bench/townhall_app.py: api.wsgi's app, its quotas raised past the load (BENCH_AUDIT=0: no audit trail).
    command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--pythonpath", "bench", "townhall_app:app"]
    with serve(name, command, cwd=ROOT, env=env, base_url=base_url, ready_path=LIVEZ.path, log=log):
        yield base_url


def gunicorn_baseline(base_url: str) -> list[str]:
    # Started in bench/: from the repository root gunicorn would silently load Townhall's ./gunicorn.conf.py.
    return [str(BIN / "gunicorn"), "--no-control-socket", "-w", "2", "-k", "sync",
            "-b", urlsplit(base_url).netloc, "baseline:app"]


# --- report -----------------------------------------------------------------------------------------

def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine(wrk_version: str, postgres: str) -> list[str]:
    # Taken before our servers start: anything above ~0.5 is other work competing for the same cores.
    load = os.getloadavg()[0]
    busy = " (**busy: other work shared the cores, numbers are noisier**)" if load > BUSY_LOAD else ""
    return [
        f"CPUs (nproc): {len(os.sched_getaffinity(0))}, {cpu_model()}; 1-minute load average at start {load:.2f}{busy}",
        f"Python {platform.python_version()}, PostgreSQL {postgres}, {wrk_version}",
        ", ".join(f"{name} {version(name)}" for name in ("gunicorn", "Flask", "SQLAlchemy", "psycopg")),
    ]


def table(results: list[Result]) -> str:
    base = results[0]
    lines = ["| Endpoint | req/s | p50 | p99 | req/s ÷ baseline GET | p99 ÷ baseline GET p99 | req/s per run "
             "| errors |",
             "|---|---:|---:|---:|---:|---:|---|---:|"]
    for result in results:
        per_run = " / ".join(f"{run.rps:.0f}" for run in result.runs)
        errors = f"**{result.errors}**" if result.errors else "0"
        lines.append(f"| {result.endpoint.label} | {result.rps:.0f} | {result.p50_ms:.1f} ms | "
                     f"{result.p99_ms:.1f} ms | {result.rps / base.rps:.2f} | {result.p99_ms / base.p99_ms:.2f} | "
                     f"{per_run} | {errors} |")
    return "\n".join(lines)


def goal_line(baseline: Result, measured: Result, what: str, goal: float, against: str = "baseline GET") -> str:
    ratio = measured.rps / baseline.rps
    if measured.errors:
        verdict = "**MISS** (the run had errors, the ratio is not valid)"
    elif ratio >= goal:
        verdict = "**PASS**"
    else:
        verdict = f"**MISS** (by {goal - ratio:.2f}; needs {goal / ratio - 1:.0%} more req/s)"
    return f"- {what} ≥ {goal:.2f} x {against}: measured {ratio:.2f} x → {verdict}"


def p50_goal_line(small: Result, large: Result, what: str) -> str:
    ratio = large.p50_ms / small.p50_ms
    if small.errors or large.errors:
        verdict = "**MISS** (the runs had errors, the ratio is not valid)"
    else:
        verdict = "**PASS**" if ratio <= LARGE_P50_GOAL else f"**MISS** (by {ratio - LARGE_P50_GOAL:.2f})"
    return (f"- {what}: p50 on the large demo ≤ {LARGE_P50_GOAL:.1f} x the small demo: {large.p50_ms:.1f} ms ÷ "
            f"{small.p50_ms:.1f} ms = {ratio:.2f} x → {verdict}")


def console_goal_line(result: Result) -> str:
    verdict = "**PASS**" if result.p50_ms <= CONSOLE_P50_GOAL_MS and not result.errors else "**MISS**"
    what = result.endpoint.label.split(", 2 connections")[0]
    return (f"- {what} (issue 17): p50 ≤ {CONSOLE_P50_GOAL_MS:.0f} ms server-side, measured without queueing: "
            f"{result.p50_ms:.1f} ms → {verdict}")


def goal_lines(results: list[Result], evaluation: tuple[float, str], webhooks: tuple[float, int]) -> str:
    by_label = {result.endpoint.label: result for result in results}
    baseline = by_label[BASELINE_GET.label]
    median_us, expression = evaluation
    verdict = "**PASS**" if median_us <= RULE_EVALUATION_GOAL_US else "**MISS**"
    return "\n".join([
        goal_line(baseline, by_label[BRANDING.label], "Public branding GET", GOAL_RATIO),
        goal_line(baseline, by_label[JWT_GET_LABEL], "JWT-authenticated GET of a tenant resource", JWT_GOAL_RATIO),
        goal_line(baseline, by_label[CASE_GET_LABEL], "GET one case (issue #4)", CASE_GET_GOAL_RATIO),
        goal_line(by_label[BASELINE_POST.label], by_label[CASE_POST_LABEL], "Create a case (issue #4)",
                  CASE_POST_GOAL_RATIO, against="baseline POST"),
        p50_goal_line(by_label[CASE_GET_LABEL], by_label[CASE_GET_LABEL + LARGE], "GET one case (issue #4)"),
        p50_goal_line(by_label[QUEUE_LABEL], by_label[QUEUE_LABEL + LARGE], "Work queue, first page (issue #4)"),
        f"- Median evaluation of a typical eligibility rule (`{expression}`, compiled once, in process) "
        f"≤ {RULE_EVALUATION_GOAL_US:.0f} µs: measured {median_us:.1f} µs → {verdict}",
        goal_line(by_label[CASE_GET_LABEL + UNTRUSTED], by_label[CASE_GET_LABEL],
                  "GET one case with its audit trail and rate limits (issue 18)", TRUST_GOAL,
                  against="the same without them"),
        goal_line(by_label[CASE_POST_LABEL + UNTRUSTED], by_label[CASE_POST_LABEL],
                  "Create a case with its audit trail and rate limits (issue 18)", TRUST_GOAL,
                  against="the same without them"),
        goal_line(by_label[CASE_POST_LABEL], by_label[CASE_POST_RULES_LABEL],
                  "Create a case with four rules (issue #5)", RULES_GOAL, against="the same without rules"),
        f"- Slot search over 30 days and 10 offices (issue #6): p50 ≤ {SLOTS_P50_GOAL_MS:.0f} ms, measured without "
        f"queueing (2 connections for 2 server workers): {by_label[SLOTS_LATENCY_LABEL].p50_ms:.1f} ms → "
        + ("**PASS**" if by_label[SLOTS_LATENCY_LABEL].p50_ms <= SLOTS_P50_GOAL_MS
           and not by_label[SLOTS_LATENCY_LABEL].errors else "**MISS**")
        + f"; under the common load (32 connections) its p50 is {by_label[SLOTS_LABEL].p50_ms:.1f} ms, mostly "
          "time waiting for a free server worker",
        *(console_goal_line(by_label[label]) for label in (CONSOLE_QUEUE_LABEL, CONSOLE_BRANDING_LABEL)),
        f"- Two workers deliver ≥ {WEBHOOKS_GOAL:.0f} webhooks/s to a local receiver (issue #7): measured "
        f"{webhooks[0]:.0f}/s" + (" → **PASS**" if webhooks[0] >= WEBHOOKS_GOAL and webhooks[1] == 0 else
                                  f" → **MISS**{' (some never arrived)' if webhooks[1] else ''}"),
    ])


def error_note(results: list[Result]) -> str:
    errors = [r.endpoint.label for r in results if r.errors]
    if errors:
        return f"**Runs with errors** (non-2xx/3xx responses or socket errors): {'; '.join(errors)}."
    return "No run had non-2xx/3xx responses or socket errors."


def report(results: list[Result], notes: list[str], when: datetime, machine_lines: list[str],
           evaluation: tuple[float, str], webhooks: tuple[float, int]) -> str:
    return f"""# Benchmarks

Generated by `bench/run.py` (`make bench`); overwritten on every run, except its last section (Audit
verification), which `make bench-audit` writes. Compare ratios, not absolute numbers: run-to-run
variance is ±20-40 %. **Benchmarks never gate tests.**

- Date: {when:%Y-%m-%d %H:%M} UTC
- Machine: {machine_lines[0]}
- Software: {machine_lines[1]}
- Libraries: {machine_lines[2]}

## Method

- One run, same settings for every server: gunicorn with 2 sync workers on 127.0.0.1, a throw-away
  PostgreSQL database on the same machine; the server, PostgreSQL and wrk share all the cores.
- Per endpoint: one request that must succeed, a 3 s wrk warm-up, then `wrk {' '.join(WRK_ARGS)}`
  {RUNS} times; the table shows the median req/s, p50 and p99 of the {RUNS} runs.
- Baseline: `bench/baseline.py`, bare Flask + SQLAlchemy Core + psycopg 3 (default pool, no pre-ping),
  `bench_rows` seeded with {BASELINE_ROWS} rows; POST via `bench/post.lua`; gunicorn defaults otherwise
  (no worker recycling).
- PostgreSQL on this machine runs with autovacuum off (CI settings), so the harness runs `ANALYZE`
  where autovacuum would have: after seeding (the baseline's table likewise), after the partner's
  first cases, and before each run of the POST rows (each creation run adds thousands of rows to
  tables that held a few dozen). Without it, Townhall's tables were planned with no statistics at
  all (PostgreSQL's CPU per creation 2.5 ms instead of 1.0), and plans made while the tables were
  nearly empty (the foreign-key checks' among them) were kept as the tables grew: 1.3, 2.4, 3.1 ms
  per creation over three runs, 1.2 again after one `ANALYZE`.
- Townhall: `gunicorn -c gunicorn.conf.py` as deployed (`GUNICORN_WORKERS=2`, the rest as configured
  there; worker restarts are counted below), as the app role without BYPASSRLS, after
  `townhall db upgrade` and `townhall demo seed`. `TOWNHALL_LOG_LEVEL=WARNING`, so its
  one-JSON-line-per-request access log is off and does not dominate the numbers (at the default INFO
  level expect lower throughput); `TOWNHALL_REDIS_URL` set (the rate limits' buckets in Redis, as
  in production); every other `TOWNHALL_*` setting, caches included, is the default. It serves
  `bench/townhall_app.py`: the deployed app with every plan's quotas raised past what one benchmark
  client sends, so its requests are counted in their buckets and answered with the RateLimit
  headers but never refused.
- Audit trail and rate limits (issue 18): a second Townhall server, the same app with
  `BENCH_AUDIT=0` (no audit entries) and `TOWNHALL_RATE_LIMITS=0`, runs beside the first; the GET of
  one case and the creation alternate run by run between the two (rows marked "without audit trail
  and rate limits"), and the goal compares each with its twin. With the trail, a creation appends
  its entry in its own transaction (the chain's head locked until the commit); a staff or partner
  read queues its entry, which a thread appends in batches (`TOWNHALL_AUDIT_READS_SECONDS`, ADR
  0015); a busy client takes its rate-limit tokens from Redis in batches (`api/rate_limits.py`).
  With the default tenant cache (5 s) a branding request reuses the tenant's facts and runs no SQL;
  the last row turns the cache off (`TOWNHALL_TENANT_CACHE_SECONDS=0`): tenant lookup, `set_config`
  and the branding read then hit PostgreSQL on every request.
- The JWT-authenticated GETs use a token of the demo's admin client (client credentials, ES256): the
  signature is checked against the in-process key set once per cache time (ADR 0009), audience,
  tenant, expiry, scope and the revocation list (cached, 5 s) on every request. `/me`
  answers from the token; `/clients/{{id}}` then reads one row in a transaction under row-level
  security (BEGIN with `set_config`, SELECT, COMMIT). PostgreSQL prepares statements run often
  (`TOWNHALL_DATABASE_PREPARED_STATEMENTS`, default on); the baseline's psycopg does the same.
- The case rows use a token of the demo's partner client: GET reads one case and its timeline; POST
  opens an `eid-card` case per request and is compared with the baseline POST: one read (the citizen
  named by e-mail, the catalogue entry, the register entry, the active rules), the form check, then
  one statement that takes the reference from the per-year counter (one row every creation updates)
  and inserts the case, its four decisions, its first step and its outbox event, each table's rows
  sent as one JSON array (ADR 0009). The work
  queue is the first page (20, oldest first) of every case the partner may see (the partner opens 25
  cases first, so the page is full on the small demo as on the large one). Ninove's admin client
  gives Ninove's eID card four active rules through the API (eligibility, fee, deadline, routing:
  `FOUR_RULES` in `bench/run.py`), and Ninove's partner opens the same cases there: each creation
  also evaluates four CEL expressions, checks the routed team and records the rules' decisions. The
  baseline POST and the two creation rows alternate run by run (baseline, Aalst, Ninove, baseline,
  …; the baseline's server stays up, idle, beside Townhall's): the database slows a little as every
  creation adds rows, and a shared host's speed drifts over minutes; measured one after the other,
  the later row would carry both. For the same reason the baseline GET, the reference of every GET
  row, alternates run by run with the GET of one case (the tightest GET goal).
- Slot search: the demo's admin client opens 9 more offices for Aalst's eID cards (the demo has one):
  10 offices, 2 counters, 15-minute visits, weekdays; the public search then computes 30 days of free
  slots over all of them per request (about 5,600 in the range; the first page of 100 is made and
  returned, by time across the ten offices). It is measured twice: under the common load (32
  connections, where p50 is mostly queueing for one of the 2 server workers) and with 2 connections
  (one request per server worker), which shows the search's own latency; the issue's p50 goal is
  read from the second.
- Webhooks: the demo's partner subscribes a receiver in the benchmark process (Python's threading
  HTTP server, keep-alive, answers 204); every case the rows above created left an event in the
  outbox; then two `townhall worker` processes deliver them all (signed, one HTTP request each) and
  the rate is counted from the first arrival to the last.
- Rule evaluation: in the benchmark process, one compiled eligibility rule evaluated 21 × 1,000
  times; the median per-evaluation time of the 21 batches.
- Large demo: after the rows above, `townhall demo seed --large` adds 1,000 municipalities and
  1,000,000 cases (with their timelines) to the same database; a fresh server then reads the same case
  and the same first page of Aalst's work queue, now among a million other cases under row-level
  security, after a `CHECKPOINT` (the bulk load's dirty pages written out first). Their p50 is
  compared with the small-demo rows.
- wrk's p99 suffers from coordinated omission: treat it as optimistic.

## Results

{table(results)}

{chr(10).join(f"- {note}" for note in notes)}

## Goals

{goal_lines(results, evaluation, webhooks)}
"""


def audit_section() -> str:
    """The report's "Audit verification" section as `make bench-audit` last wrote it (bench/audit_verify.py
    measures it), kept as it is."""
    found = REPORT.read_text().partition(f"\n{AUDIT_SECTION}\n") if REPORT.exists() else ("", "", "")
    return f"\n{AUDIT_SECTION}\n{found[2]}" if found[1] else ""


# --- main -------------------------------------------------------------------------------------------

def _stop(signum: int, _frame: FrameType | None) -> None:
    # An exception, not the default exit: the finally blocks stop the servers and drop the database.
    if signum == signal.SIGALRM:
        raise BenchError(f"the benchmark took longer than {TOTAL_SECONDS} s")
    raise BenchError(f"stopped by signal {signal.Signals(signum).name}")


def measure_large(wrk_path: str, admin: URL, work: Path, townhall_env: dict[str, str],
                  case_path: str) -> tuple[list[Result], list[str]]:
    """The same reads once the database holds the large demo as well."""
    print("large demo: seeding", flush=True)
    started = time.monotonic()
    run([str(BIN / "townhall"), "demo", "seed", "--large"], timeout=400, env=townhall_env)
    notes = [f"Large demo seeded in {time.monotonic() - started:.0f} s (`townhall demo seed --large`)."]
    # The bulk load leaves a gigabyte of dirty pages; measure the steady state, not their write-back.
    with psycopg.connect(conninfo(admin), autocommit=True) as connection:
        connection.execute("CHECKPOINT")
    with serve_townhall("Townhall (large demo)", townhall_env, work / "large.log") as base_url:
        partner = access_token(base_url, work / "instance" / "demo.json", "aalst.demo-partner",
                               "cases:read cases:write")
        as_partner = (("Authorization", f"Bearer {partner}"),)
        results = [measure(wrk_path, base_url, Endpoint(CASE_GET_LABEL + LARGE, case_path, headers=as_partner)),
                   measure(wrk_path, base_url, Endpoint(QUEUE_LABEL + LARGE, QUEUE_PATH, headers=as_partner))]
    notes.append(worker_restarts("Townhall (large demo)", work / "large.log"))
    return results, notes


def measure_townhall(wrk_path: str, base_url: str, demo: Path, receiver: Receiver,
                     owner: URL, baseline_url: str, plain_url: str) -> tuple[list[Result], str]:
    """Townhall as deployed: public, JWT-authenticated and case endpoints, slots, then rules. The
    baseline's GET alternates with the GET of one case, its POST with the creations (its server at
    `baseline_url`); both alternate with the same rows on Townhall without its audit trail and rate
    limits (at `plain_url`)."""
    results = [measure(wrk_path, base_url, BRANDING), measure(wrk_path, base_url, LIVEZ)]
    bearer = access_token(base_url, demo, "aalst.demo-admin", "clients:manage")
    authorization = (("Authorization", f"Bearer {bearer}"),)
    for label, path in ((JWT_GET_LABEL, "/t/aalst/v1/me"), (JWT_ROW_LABEL, "/t/aalst/v1/clients/aalst.demo-partner")):
        results.append(measure(wrk_path, base_url, Endpoint(label, path, headers=authorization)))
    partner = access_token(base_url, demo, "aalst.demo-partner", "cases:read cases:write")
    as_partner = (("Authorization", f"Bearer {partner}"),)
    # Each server issues its own tokens (its address is their issuer).
    plain_token = access_token(plain_url, demo, "aalst.demo-partner", "cases:read cases:write")
    plain = (("Authorization", f"Bearer {plain_token}"),)
    # A full first page of the queue (20 and one more) before it is measured, as on the large demo.
    opened = [created_case(base_url, as_partner) for _ in range(QUEUE_CASES)]
    case_path = opened[0]
    analyze(owner)
    # The baseline GET (every GET row's reference) alternates with this row, the tightest GET goal.
    results += measure_interleaved(wrk_path, [
        (baseline_url, BASELINE_GET), (base_url, Endpoint(CASE_GET_LABEL, case_path, headers=as_partner)),
        (plain_url, Endpoint(CASE_GET_LABEL + UNTRUSTED, case_path, headers=plain))],
        lambda: None)
    results.append(measure(wrk_path, base_url, Endpoint(QUEUE_LABEL, QUEUE_PATH, headers=as_partner)))
    for label, path, email in ((CONSOLE_QUEUE_LABEL, "/t/aalst/admin/cases", "worker.aalst@demo.example"),
                               (CONSOLE_BRANDING_LABEL, "/t/aalst/admin/branding", "admin.aalst@demo.example")):
        cookie = (console_cookie(base_url, demo, email),)
        results.append(measure(wrk_path, base_url, Endpoint(label, path, headers=cookie, connections=2)))
    admin = access_token(base_url, demo, "aalst.demo-admin", "config:write")
    add_offices(base_url, admin, 9)
    first = datetime.now(UTC).date() + timedelta(days=1)
    slots_path = f"/t/aalst/v1/slots?service=eid-card&from={first}&to={first + timedelta(days=29)}"
    results.append(measure(wrk_path, base_url, Endpoint(SLOTS_LABEL, slots_path)))
    results.append(measure(wrk_path, base_url, Endpoint(SLOTS_LATENCY_LABEL, slots_path, connections=2)))
    # Ninove's eID card gets the four rules, Aalst's none: the two creations alternate in one database.
    activate_four_rules(base_url, access_token(base_url, demo, "ninove.demo-admin", "config:write"), "ninove")
    ninove = access_token(base_url, demo, "ninove.demo-partner", "cases:read cases:write")
    # Each run adds thousands of rows to tables that held a few dozen: analyzed as autovacuum would.
    results += measure_interleaved(wrk_path, [
        (baseline_url, BASELINE_POST),
        (base_url, Endpoint(CASE_POST_LABEL, "/t/aalst/v1/cases", "POST", as_partner, "case.lua", CASE_BODY)),
        (plain_url, Endpoint(CASE_POST_LABEL + UNTRUSTED, "/t/aalst/v1/cases", "POST", plain, "case.lua", CASE_BODY)),
        (base_url, Endpoint(CASE_POST_RULES_LABEL, "/t/ninove/v1/cases", "POST",
                            (("Authorization", f"Bearer {ninove}"),), "case.lua", CASE_BODY)),
    ], lambda: analyze(owner))
    hooks = access_token(base_url, demo, "aalst.demo-partner", "webhooks:manage")
    status, body = http_request(base_url, "POST", "/t/aalst/v1/webhooks", json.dumps({"url": receiver.url}).encode(),
                                {"Authorization": f"Bearer {hooks}"})
    if status != 201:
        raise BenchError(f"could not subscribe the receiver: {body[:300]!r}")
    return results, case_path


def pending_events(owner: URL) -> int:
    """Aalst's outbox events no worker has taken yet (as the owner, under Aalst's row-level security)."""
    with psycopg.connect(conninfo(owner), autocommit=True) as connection:
        connection.execute("SELECT set_config('app.tenant_id', (SELECT id::text FROM tenants WHERE slug = 'aalst'), "
                           "false)")
        row = connection.execute("SELECT count(*) FROM outbox_events WHERE delivered_at IS NULL").fetchone()
    return int(row[0]) if row else 0


def measure_webhooks(owner: URL, work: Path, env: dict[str, str], receiver: Receiver) -> tuple[float, int, str]:
    """Two `townhall worker` processes deliver every event the case rows left in the outbox to the
    local receiver: webhooks per second from the first arrival to the last."""
    expected = pending_events(owner)
    workers = []
    with (work / "workers.log").open("wb") as output:
        for _ in range(2):
            workers.append(subprocess.Popen([str(BIN / "townhall"), "worker"], cwd=ROOT, env=env, stdout=output,
                                            stderr=subprocess.STDOUT, start_new_session=True))
    try:
        deadline = time.monotonic() + 180
        while len(receiver.times) < expected and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    arrived = len(receiver.times)
    span = (receiver.times[-1] - receiver.times[0]) if arrived > 1 else 0.0
    rate = arrived / span if span > 0 else 0.0
    note = (f"Webhooks: two `townhall worker` processes ({env.get('TOWNHALL_WORKER_THREADS', '16')} threads each) "
            f"delivered {arrived} of {expected} events to a local receiver in {span:.1f} s.")
    return rate, arrived - expected, note


def measure_all(wrk_path: str, admin: URL, work: Path) -> tuple[list[Result], list[str], tuple[float, int]]:
    name, owner, app = create_database(admin, "townhall_bench")
    print(f"database {name}", flush=True)
    receiver = Receiver()
    try:
        seed_baseline(owner)
        townhall_env = clean_env(
            TOWNHALL_DATABASE_URL=sqlalchemy_url(app),
            TOWNHALL_MIGRATION_DATABASE_URL=sqlalchemy_url(owner),
            TOWNHALL_INSTANCE_PATH=str(work / "instance"),
            TOWNHALL_LOG_LEVEL="WARNING",
            TOWNHALL_WEBHOOKS_ALLOW_PRIVATE="1",  # the bench's receiver listens on loopback
            TOWNHALL_REDIS_URL=REDIS_URL,  # as deployed: the rate limits' buckets are shared in Redis
        )
        run([str(BIN / "townhall"), "db", "upgrade"], timeout=60, env=townhall_env)
        run([str(BIN / "townhall"), "demo", "seed"], timeout=60, env=townhall_env)
        analyze(owner)

        baseline_url = f"http://127.0.0.1:{free_port()}"
        # The baseline keeps running (idle) beside Townhall: its rows alternate with the rows they are compared to.
        print("baseline", flush=True)
        with (serve("baseline", gunicorn_baseline(baseline_url), cwd=ROOT / "bench",
                    env=clean_env(BENCH_DATABASE_URL=sqlalchemy_url(owner)), base_url=baseline_url,
                    ready_path=BASELINE_GET.path, log=work / "baseline.log"),
              serve_townhall("Townhall", townhall_env, work / "townhall.log") as base_url,
              serve_townhall("Townhall without audit trail and rate limits", townhall_env, work / "plain.log",
                             BENCH_AUDIT="0", TOWNHALL_RATE_LIMITS="0") as plain_url):
            townhall_results, case_path = measure_townhall(wrk_path, base_url, work / "instance" / "demo.json",
                                                           receiver, owner, baseline_url, plain_url)
        # The baseline rows first: the table's ratios are to the first row.
        results = sorted(townhall_results, key=lambda result: (result.endpoint != BASELINE_GET,
                                                               result.endpoint != BASELINE_POST))
        notes = [worker_restarts("Baseline", work / "baseline.log"),
                 worker_restarts("Townhall", work / "townhall.log"),
                 worker_restarts("Townhall without audit trail and rate limits", work / "plain.log")]

        # The same endpoint when every request reads the tenant and its branding from PostgreSQL.
        with serve_townhall("Townhall (cache off)", townhall_env, work / "uncached.log",
                            TOWNHALL_TENANT_CACHE_SECONDS="0") as base_url:
            results.append(measure(wrk_path, base_url, BRANDING_UNCACHED))
        notes.append(worker_restarts("Townhall (cache off)", work / "uncached.log"))

        print("webhooks", flush=True)
        rate, missing, note = measure_webhooks(owner, work, townhall_env, receiver)
        notes.append(note)

        large_results, large_notes = measure_large(wrk_path, admin, work, townhall_env, case_path)
        results += large_results
        notes += large_notes
        return results, [error_note(results), *notes], (rate, missing)
    finally:
        signal.alarm(0)  # the servers are stopped; never leave the database behind
        receiver.stop()
        drop_database(admin, name)


def ensure_redis() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except (redis.RedisError, OSError) as error:
        raise BenchError(f"Redis does not answer at {REDIS_URL} (BENCH_REDIS_URL): {error}") from error


def main() -> int:
    try:
        wrk_path = ensure_wrk()
        ensure_redis()
        signal.signal(signal.SIGALRM, _stop)
        signal.signal(signal.SIGTERM, _stop)
        signal.alarm(TOTAL_SECONDS)
        admin = make_url(ADMIN_URL)
        when = datetime.now(UTC)
        wrk_version = subprocess.run([wrk_path, "-v"], check=False, capture_output=True, text=True, timeout=5).stdout
        machine_lines = machine(wrk_version.split("[")[0].strip() or "wrk", server_version(admin))
        print("\n".join(machine_lines), flush=True)
        with tempfile.TemporaryDirectory(prefix="townhall-bench-") as work:
            results, notes, webhooks = measure_all(wrk_path, admin, Path(work))
    except (BenchError, psycopg.Error, OSError, subprocess.SubprocessError) as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    evaluation = rule_evaluation_us()
    REPORT.write_text(report(results, notes, when, machine_lines, evaluation, webhooks) + audit_section())
    print()
    print(table(results))
    print("\n".join(f"- {note}" for note in notes))
    print()
    print(goal_lines(results, evaluation, webhooks))
    print(f"\nwritten to {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
