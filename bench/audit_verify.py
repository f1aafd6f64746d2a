"""Audit verification benchmark (`make bench-audit`): `townhall audit verify` over one municipality's
chain of a million entries, on PostgreSQL. The issue's goal: a million entries verified in ≤ 30 s.

A throw-away database on the local server (as `bench/run.py` makes it: an owner role that migrates,
an app role without BYPASSRLS that the command runs as), migrated with `townhall db upgrade` and
seeded with `townhall demo seed`. Aalst's chain is then filled up to ENTRIES entries: each hashed in
this process exactly as `append` hashes it (townhall.audit.chain.canonical and link, chained to the
head left by the seed) and copied in with COPY as the owner; the chain's head is moved to the last
one and `townhall audit seal` signs it. Then `townhall audit verify --tenant aalst` runs RUNS times
as a subprocess, as an operator would run it, and must answer "intact" with every entry counted.
Writes (or replaces) the "Audit verification" section of docs/benchmarks.md.
Exit code 0 when the measurement ran (a missed goal is a finding, not a failure), 1 otherwise.
"""

import argparse
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from databases import ADMIN_URL, conninfo, create_database, drop_database, server_version
from sqlalchemy.engine import URL, make_url

from townhall.audit.chain import canonical, link

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.prefix) / "bin"  # the virtualenv running this script: townhall
REPORT = ROOT / "docs" / "benchmarks.md"
SECTION = "## Audit verification"
TENANT = "aalst"
ENTRIES = 1_000_000
RUNS = 3
GOAL_SECONDS = 30.0
VERIFY_TIMEOUT = 600


class BenchError(Exception):
    """Something failed to run: the measurement is incomplete."""


def run(command: list[str], env: dict[str, str], timeout: float) -> str:
    try:
        done = subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"{' '.join(command)}: no result within {timeout:.0f} s") from error
    if done.returncode != 0:
        raise BenchError(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


# --- the chain --------------------------------------------------------------------------------------

class Traffic:
    """What a busy municipality's trail holds: staff and partner reads of people's data, case
    writes, now and then a configuration change (the summaries api.auditing writes)."""

    def __init__(self, tenant: str, seed: int = 7) -> None:
        self.random = random.Random(seed)  # noqa: S311  (the same test data on every run)
        self.tenant = tenant
        self.people = [str(uuid.UUID(int=self.random.getrandbits(128), version=4)) for _ in range(5000)]
        staff = [f"user:{uuid.UUID(int=self.random.getrandbits(128), version=4)}" for _ in range(40)]
        self.actors = [f"client:{tenant}.demo-partner", f"client:{tenant}.demo-admin", *staff]

    def _id(self) -> str:
        return str(uuid.UUID(int=self.random.getrandbits(128), version=4))

    def entry(self) -> tuple[str, str, str, dict[str, Any]]:
        """(actor, action, object, summary) of one request."""
        pick, actor = self.random.random(), self.random.choice(self.actors)
        base = f"/t/{self.tenant}/v1"
        if pick < 0.5:  # a case or an appointment read by staff or a partner
            case = self._id()
            read = sorted(self.random.sample(self.people, 1 if self.random.random() < 0.9 else 3))
            return actor, "GET /t/<slug:tenant>/v1/cases/<uuid:case_id>", f"{base}/cases/{case}", {"status": 200,
                                                                                           "read": read}
        if pick < 0.75:  # a case opened
            return actor, "POST /t/<slug:tenant>/v1/cases", f"{base}/cases/{self._id()}", {"status": 201}
        if pick < 0.95:  # a case moved on
            case = self._id()
            return (actor, "POST /t/<slug:tenant>/v1/cases/<uuid:case_id>/transitions",
                    f"{base}/cases/{case}/transitions", {"status": 200})
        number = self.random.randint(1, 9999)
        changes = [{"subject": "branding", "changes": {
            "display_name": {"from": {"nl": "Stad Aalst"}, "to": {"nl": f"Stad Aalst — dienst {number}"}},
            "primary_color": {"from": "#003366", "to": f"#{number:06x}"}}}]
        return (actor, "PATCH /t/<slug:tenant>/v1/admin/branding", f"{base}/admin/branding",
                {"status": 200, "changes": changes})


def chain_rows(tenant_id: uuid.UUID, after_seq: int, after_hash: str, last_seq: int,
               start: datetime) -> Iterator[tuple[Any, ...]]:
    """Entries after_seq + 1 … last_seq, hashed exactly as `append` hashes them, as COPY rows."""
    traffic, previous, moment = Traffic(TENANT), after_hash, start
    for seq in range(after_seq + 1, last_seq + 1):
        moment += timedelta(microseconds=traffic.random.randint(1, 60_000))
        actor, action, object_, summary = traffic.entry()
        digest = link(previous, canonical(seq, moment, actor, action, object_, summary))
        yield (tenant_id, seq, moment, actor, action, object_, json.dumps(summary, ensure_ascii=False), previous,
               digest)
        previous = digest


def fill_chain(owner: URL, entries: int) -> tuple[int, str, float]:
    """Aalst's chain filled up to `entries` as the owner (COPY), its head moved to the last entry;
    returns the entries added, the last hash and the seconds taken."""
    started = time.monotonic()
    with psycopg.connect(conninfo(owner), connect_timeout=5) as connection:  # commits on exit
        row = connection.execute("SELECT id FROM tenants WHERE slug = %s", (TENANT,)).fetchone()
        if row is None:
            raise BenchError(f"the demo has no municipality {TENANT!r}")
        tenant_id = row[0]
        connection.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant_id),))
        head = connection.execute("SELECT seq, hash FROM audit_chains WHERE tenant_id = %s FOR UPDATE",
                                  (tenant_id,)).fetchone()
        last = connection.execute("SELECT max(time) FROM audit_entries WHERE tenant_id = %s", (tenant_id,)).fetchone()
        if head is None or last is None:
            raise BenchError(f"{TENANT} has no audit chain")
        head_seq, head_hash = int(head[0]), str(head[1])
        if head_seq >= entries:
            raise BenchError(f"{TENANT}'s chain holds {head_seq} entries already")
        previous = head_hash
        # COPY into a table under row-level security is refused: into a staging table, then one INSERT.
        connection.execute("CREATE TEMPORARY TABLE staged_entries (LIKE audit_entries) ON COMMIT DROP")
        with connection.cursor().copy("COPY staged_entries (tenant_id, seq, time, actor, action, object, summary, "
                                      "previous, hash) FROM STDIN") as copy:
            for values in chain_rows(tenant_id, head_seq, head_hash, entries, last[0] or datetime.now(UTC)):
                copy.write_row(values)
                previous = values[-1]
        connection.execute("INSERT INTO audit_entries (tenant_id, seq, time, actor, action, object, summary, "
                           "previous, hash) SELECT tenant_id, seq, time, actor, action, object, summary, previous, "
                           "hash FROM staged_entries ORDER BY seq")
        connection.execute("UPDATE audit_chains SET seq = %s, hash = %s WHERE tenant_id = %s",
                           (entries, previous, tenant_id))
    with psycopg.connect(conninfo(owner), autocommit=True, connect_timeout=5) as connection:
        connection.execute("VACUUM ANALYZE audit_entries")  # as autovacuum would (it is off on this machine)
    return entries - head_seq, previous, time.monotonic() - started


# --- the measurement --------------------------------------------------------------------------------

def verify_once(env: dict[str, str], entries: int, head: str) -> float:
    """One `townhall audit verify --tenant aalst`, end to end: its seconds. It must find the chain
    intact, every entry counted, the head this process computed and the seal matching."""
    started = time.perf_counter()
    output = run([str(BIN / "townhall"), "audit", "verify", "--tenant", TENANT], env, VERIFY_TIMEOUT)
    seconds = time.perf_counter() - started
    expected = rf"^{TENANT}: {entries} entries, intact \(head {head[:16]}…; 1 signed heads match\)$"
    if not re.search(expected, output, re.MULTILINE):
        raise BenchError(f"unexpected verdict (wanted {expected!r}):\n{output}")
    return seconds


def machine_line() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    load = os.getloadavg()[0]
    busy = " (**busy: other work shared the cores**)" if load > 0.5 else ""
    return f"CPUs (nproc): {len(os.sched_getaffinity(0))}, {model}; 1-minute load average at start {load:.2f}{busy}"


def section(when: datetime, machine: str, software: str, entries: int, fill: tuple[int, float],
            runs: list[float]) -> str:
    median = statistics.median(runs)
    verdict = "**PASS**" if median <= GOAL_SECONDS * entries / 1_000_000 else "**MISS**"
    per_run = " / ".join(f"{seconds:.1f} s" for seconds in runs)
    added, fill_seconds = fill
    return f"""{SECTION}

Generated by `bench/audit_verify.py` (`make bench-audit`); `make bench` keeps this section as it is.

- Date: {when:%Y-%m-%d %H:%M} UTC
- Machine: {machine}
- Software: {software}
- Method: a throw-away database on the same machine, migrated and seeded with the demo; Aalst's chain
  filled up to {entries:,} entries ({added:,} hashed in the benchmark process exactly as `append` hashes
  them and copied in as the owner, in {fill_seconds:.0f} s, then `VACUUM ANALYZE`), its head moved to the
  last entry and signed (`townhall audit seal`). Half the entries are reads of people's data
  (`{{"status": 200, "read": [id]}}`), the rest case writes and now and then a configuration change
  (`{{"status": 200, "changes": [...]}}`). Then `townhall audit verify --tenant aalst` as a subprocess, as
  the app role (row-level security, no BYPASSRLS), {len(runs)} times: wall-clock time, process start
  included; each run must answer "intact", every entry counted, the head the benchmark computed and
  the signed head matching.

| Entries | seconds (median) | entries/s | seconds per run |
|---:|---:|---:|---|
| {entries:,} | {median:.1f} | {entries / median:,.0f} | {per_run} |

- Goal (issue: audit verification of a million entries ≤ {GOAL_SECONDS:.0f} s): measured {median:.1f} s → {verdict}
"""


def write_section(text: str) -> None:
    """The section replaces its earlier version (it is the report's last), or is appended."""
    report = REPORT.read_text() if REPORT.exists() else "# Benchmarks\n"
    kept = report.split(f"\n{SECTION}\n", 1)[0].rstrip("\n")
    REPORT.write_text(f"{kept}\n\n{text}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--entries", type=int, default=ENTRIES, help="entries in the chain verified")
    parser.add_argument("--runs", type=int, default=RUNS, help="verifications timed")
    parser.add_argument("--no-report", action="store_true", help=f"leave {REPORT.relative_to(ROOT)} alone")
    args = parser.parse_args()
    admin = make_url(ADMIN_URL)
    when, machine = datetime.now(UTC), machine_line()
    try:
        software = f"Python {platform.python_version()}, PostgreSQL {server_version(admin)}"
        print(f"{machine}\n{software}", flush=True)
        name, owner, app = create_database(admin, "townhall_bench_audit")
        print(f"database {name}", flush=True)
        try:
            with tempfile.TemporaryDirectory(prefix="townhall-bench-audit-") as work:
                kept = {k: v for k, v in os.environ.items() if not k.startswith(("TOWNHALL_", "GUNICORN_"))}
                env = kept | {"TOWNHALL_DATABASE_URL": app.render_as_string(hide_password=False),
                              "TOWNHALL_MIGRATION_DATABASE_URL": owner.render_as_string(hide_password=False),
                              "TOWNHALL_INSTANCE_PATH": str(Path(work) / "instance"),
                              "TOWNHALL_LOG_LEVEL": "WARNING"}
                run([str(BIN / "townhall"), "db", "upgrade"], env, 120)
                run([str(BIN / "townhall"), "demo", "seed"], env, 120)
                print(f"filling {TENANT}'s chain up to {args.entries:,} entries", flush=True)
                added, head, fill_seconds = fill_chain(owner, args.entries)
                print(f"  {added:,} entries in {fill_seconds:.0f} s", flush=True)
                run([str(BIN / "townhall"), "audit", "seal"], env, 120)
                with psycopg.connect(conninfo(admin), autocommit=True) as connection:
                    connection.execute("CHECKPOINT")  # the load's dirty pages written out before the runs
                runs = []
                for number in range(1, args.runs + 1):
                    runs.append(verify_once(env, args.entries, head))
                    print(f"  run {number}: {args.entries:,} entries verified in {runs[-1]:.1f} s "
                          f"({args.entries / runs[-1]:,.0f} entries/s)", flush=True)
        finally:
            drop_database(admin, name)
    except (BenchError, psycopg.Error, OSError, subprocess.SubprocessError) as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    median = statistics.median(runs)
    print(f"entries: {args.entries}, seconds: {median:.1f} (median of {len(runs)}), "
          f"entries/s: {args.entries / median:,.0f}; goal ≤ {GOAL_SECONDS:.0f} s per million")
    if not args.no_report:
        write_section(section(when, machine, software, args.entries, (added, fill_seconds), runs))
        print(f"written to {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
