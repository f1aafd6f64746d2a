"""The `townhall` command: database, demo and tenant administration for operators."""

import gc
import getpass
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo
from sqlalchemy.orm import Session

from api import database
from api.app import create_app
from api.chores import apply_retention, seal_heads
from api.heartbeat import MAX_AGE_SECONDS, Heartbeat
from api.progress import Progress
from api.settings import Settings, SettingsError
from api.worker import Worker
from tenants.demo import seed_demo
from tenants.demo_identity import DemoIdentity
from tenants.large_demo import LargeDemo, refresh_statistics, seed_large_demo
from tenants.models import Tenant, TenantStatus
from tenants.operations import create_tenant, set_status, update_branding
from tenants.queries import all_tenants, branding_of, require_tenant
from townhall.appointments.operations import remind
from townhall.audit.operations import append
from townhall.audit.queries import verify
from townhall.audit.writes import recorded
from townhall.auth.keys import ensure_signing_key, verification_keys
from townhall.changes.queries import history
from townhall.errors import InvalidInput, TownhallError
from townhall.localisation import LANGUAGES
from townhall.proactive.operations import scan
from townhall.tenancy import Municipality, tenant_scope

F = TypeVar("F", bound=Callable[..., Any])


def settings() -> Settings:
    value: Settings = current_app.config["TOWNHALL_SETTINGS"]
    return value


def actor() -> str:
    return f"cli:{getpass.getuser()}"


@contextmanager
def command_transaction() -> Iterator[Session]:
    """One commit point per command; a domain error becomes a clear message and exit code 1."""
    try:
        with database.database().unit_of_work() as session:
            yield session
            audit_command(session)
    except InvalidInput as error:
        fields = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in error.errors.items())
        raise click.ClickException(f"{error.detail} {fields}") from error
    except TownhallError as error:
        raise click.ClickException(error.detail) from error


def audit_command(session: Session) -> None:
    """A command that changed municipalities' configuration leaves one audit entry in each (as a
    request does, api.auditing), in its transaction."""
    by_tenant: dict[Any, list[dict[str, Any]]] = {}
    for tenant_id, change in recorded(session):
        by_tenant.setdefault(tenant_id, []).append(change)
    command = click.get_current_context(silent=True)
    path = command.command_path.partition(" ")[2] if command is not None else ""  # without the program's name
    action = f"cli townhall {path}".rstrip()
    for tenant_id, changes in by_tenant.items():
        with tenant_scope(session, tenant_id):
            append(session, tenant_id, actor(), action, "", {"changes": changes})


class TownhallGroup(AppGroup):
    """Townhall's own commands only (not Flask's run/shell/routes); each command that needs the app
    builds it from the TOWNHALL_* settings, so `--help` and `--version` need no database."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        extra.setdefault("obj", ScriptInfo(create_app=create_app, set_debug_flag=False))
        return super().make_context(info_name, args, parent, **extra)


@click.group(cls=TownhallGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="townhall", prog_name="townhall", message="%(prog)s %(version)s")
def cli() -> None:
    """Townhall: operate the platform (database, demo, municipalities, identity, background work).

    Settings come from the TOWNHALL_* environment variables (see the README). Run
    `townhall COMMAND --help` for a command's options."""


@cli.group()
def db() -> None:
    """Database schema migrations."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (as the owner role; grants the app role its rights)."""
    database.upgrade(settings(), revision)
    click.echo(f"database at {revision}")


@db.command()
@click.option("--revision", required=True, help="Target revision, e.g. base or -1.")
def downgrade(revision: str) -> None:
    """Migrate the database down to REVISION."""
    database.downgrade(settings(), revision)
    click.echo(f"database at {revision}")


@db.command()
def current() -> None:
    """Show the applied and the expected migration heads."""
    with database.database().engine.connect() as connection:
        applied = database.applied_heads(connection)
    expected = database.script_heads(settings())
    click.echo(f"applied: {', '.join(sorted(applied)) or 'none'}; expected: {', '.join(sorted(expected))}")


@cli.group()
def demo() -> None:
    """The demo consortium."""


@demo.command("seed")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the demo description (default: instance/demo.json).")
@click.option("--large", is_flag=True, help="Also the large demo: many municipalities with a year of cases.")
@click.option("--tenants", "tenant_count", type=click.IntRange(1, 9_999), default=LargeDemo.tenants, show_default=True,
              help="Municipalities of the large demo.")
@click.option("--cases", "case_count", type=click.IntRange(0, 100_000_000), default=LargeDemo.cases,
              show_default=True, help="Cases of the large demo, spread evenly over its municipalities.")
def demo_seed(output: Path | None, large: bool, tenant_count: int, case_count: int) -> None:
    """Create the demo consortium (idempotent) and describe it, credentials included, in demo.json.
    With --large, then add the large demo (resumes where an earlier run stopped)."""
    target = output or settings().instance_path / "demo.json"
    known = json.loads(target.read_text()) if target.is_file() else {}
    with command_transaction() as session:
        tenants = seed_demo(session)
        ensure_signing_key(session, settings().access_token_lifetime)
        description: dict[str, Any] = {
            "base_url": settings().base_url,
            "tenants": [
                {"slug": t.slug, "name": t.names[t.default_language], "nis_code": t.nis_code,
                 "languages": t.languages, "api": settings().tenant_api_url(t.slug)}
                for t in tenants
            ],
        } | DemoIdentity(session, known, settings().base_url).seed(list(tenants))
    target.parent.mkdir(parents=True, exist_ok=True)
    # It holds the demo's secrets and passwords: readable by its owner only.
    with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        file.write(json.dumps(description, indent=2, ensure_ascii=False) + "\n")
    click.echo(f"demo consortium: {', '.join(t['slug'] for t in description['tenants'])} ({target})")
    admin = next((u for u in description["users"] if u["email"] == "admin.aalst@demo.example"), None)
    console = next((c["console"] for c in description["clients"] if c.get("console")), None)
    if admin is not None and console is not None:
        click.echo(f"admin console: {console} (sign in as {admin['email']}, password {admin['password']})")
    citizen = next((u for u in description["users"] if u["email"] == "citizen@demo.example"), None)
    if citizen is not None:
        click.echo(f"citizens' portal: {settings().base_url}/t/aalst/ (sign in as {citizen['email']}, "
                   f"password {citizen['password']})")
    if large:
        _seed_large(LargeDemo(tenant_count, case_count))


def _seed_large(plan: LargeDemo) -> None:
    started = time.monotonic()
    progress = Progress("cases", plan.cases)
    made_tenants, made_cases = seed_large_demo(database.database(), plan, progress.update)
    if made_cases:
        refresh_statistics(settings().migration_database_url)
    elapsed = time.monotonic() - started
    click.echo(f"large demo: {plan.tenants} municipalities ({plan.slug(1)} to {plan.slug(plan.tenants)}), "
               f"{plan.cases} cases; this run made {made_tenants} municipalities and {made_cases} cases "
               f"in {elapsed:.0f} s")


@cli.group()
def proactive() -> None:
    """Proactive service: act on due life events."""


@proactive.command("scan")
@click.option("--days", type=click.IntRange(1, 366), default=60, show_default=True,
              help="eID cards expiring within this many days; 18th birthdays within the last this many days.")
@click.option("--tenant", "slug", default=None, help="Only this municipality (default: every active one).")
def proactive_scan(days: int, slug: str | None) -> None:
    """Find due triggers in every municipality's resident register and let its proactive rules act,
    at most once per rule, person and trigger (running it again acts on nothing new)."""
    with database.database().sessions() as session:
        chosen = [require_tenant(session, slug)] if slug else [t for t in all_tenants(session)
                                                               if t.status is TenantStatus.ACTIVE]
        targets = [(t.id, t.slug, t.names.get(t.default_language, t.slug), t.time_zone) for t in chosen]
    storage = current_app.extensions["townhall.storage"]
    totals: Counter[str] = Counter()
    progress = Progress("municipalities", len(targets))
    for tenant_id, tenant_slug, name, time_zone in targets:
        municipality = Municipality(tenant_id, tenant_slug, name, settings().tenant_api_url(tenant_slug),
                                    time_zone)
        with command_transaction() as session, tenant_scope(session, tenant_id):
            totals += scan(session, municipality, storage, datetime.now(ZoneInfo(time_zone)).date(), days)
        progress.update(1)
    summary = ", ".join(f"{status} {count}" for status, count in sorted(totals.items())) or "nothing due"
    click.echo(f"proactive scan of {len(targets)} municipalities: {summary}")


@cli.command("worker", with_appcontext=False)
@click.option("--once", is_flag=True, help="One round, then stop (tests, cron).")
@click.option("--check", is_flag=True,
              help="Deliver nothing: exit 0 if this host's worker made progress lately, else 1 (health checks).")
@click.option("--max-age", type=click.IntRange(1, 86_400), default=MAX_AGE_SECONDS, show_default=True,
              help="With --check: seconds since the worker's last heartbeat that still count as healthy.")
@click.pass_context
def worker_command(ctx: click.Context, once: bool, check: bool, max_age: int) -> None:
    """Deliver outbox events (webhooks, e-mail) until stopped; SIGTERM finishes the round in hand
    first. The worker touches a heartbeat file in the instance folder as it goes; --check reads it."""
    if check:
        # Settings alone, no app: a health check every 30 s must not open database connections.
        _check_worker(Settings.from_env(), max_age)
        return
    with ctx.ensure_object(ScriptInfo).load_app().app_context():
        _run_worker(once)


def _run_worker(once: bool) -> None:
    worker = Worker(settings(), database.database())
    signal.signal(signal.SIGTERM, lambda _signum, _frame: worker.stopping.set())
    try:
        if once:
            counts = worker.run_once()
            click.echo(", ".join(f"{kind} {count}" for kind, count in sorted(counts.items())) or "nothing to do")
        else:
            click.echo("worker: delivering outbox events (SIGTERM or Ctrl-C stops)")
            worker.run_forever()
    except KeyboardInterrupt:
        worker.stopping.set()
    finally:
        worker.close()


def _check_worker(configured: Settings, max_age: int) -> None:
    age = Heartbeat.of_worker(configured).age()
    if age is None:
        raise click.ClickException("no worker heartbeat on this host yet")
    if age > max_age:
        raise click.ClickException(f"the worker's last heartbeat is {age:.0f} s old (more than {max_age} s)")
    click.echo(f"worker alive: last heartbeat {age:.0f} s ago")


@cli.group()
def appointments() -> None:
    """Appointments at the municipalities' counters."""


@appointments.command("remind")
@click.option("--hours", type=click.IntRange(1, 168), default=24, show_default=True,
              help="Remind of visits starting within this many hours.")
def appointments_remind(hours: int) -> None:
    """Write an `appointment.reminder` event for each upcoming visit, once per appointment (run it
    hourly; moving an appointment allows a new reminder)."""
    with database.database().sessions() as session:
        targets = [t.id for t in all_tenants(session) if t.status is TenantStatus.ACTIVE]
    total = 0
    for tenant_id in targets:
        with command_transaction() as session, tenant_scope(session, tenant_id):
            total += remind(session, tenant_id, datetime.now(UTC), timedelta(hours=hours))
    click.echo(f"reminders written: {total}")


@cli.group()
def tenants() -> None:
    """Municipalities (tenants) on this platform."""


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    result = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep:
            raise click.BadParameter(f"use KEY=VALUE, got {value!r}", param_hint=what)
        result[key.strip()] = text
    return result


def _describe(tenant: Tenant) -> dict[str, Any]:
    return {"slug": tenant.slug, "nis_code": tenant.nis_code, "names": tenant.names,
            "status": tenant.status.value, "default_language": tenant.default_language,
            "languages": tenant.languages, "time_zone": tenant.time_zone,
            "created_at": tenant.created_at.isoformat()}


@tenants.command("create")
@click.option("--slug", required=True, help="Short name in the URLs (/t/SLUG/...): lower case, digits, hyphens.")
@click.option("--nis-code", required=True, help="5-digit NIS code of the municipality.")
@click.option("--name", "names", multiple=True, required=True, metavar="LANG=NAME",
              help="The municipality's name in one language (repeat per language).")
@click.option("--language", "languages", multiple=True, required=True, type=click.Choice(LANGUAGES),
              help="A language it serves citizens in (repeat).")
@click.option("--default-language", required=True, type=click.Choice(LANGUAGES),
              help="The language when a request asks for none it serves.")
@click.option("--time-zone", default="Europe/Brussels", show_default=True, help="IANA time zone of its offices.")
def tenants_create(slug: str, nis_code: str, names: tuple[str, ...], languages: tuple[str, ...],
                   default_language: str, time_zone: str) -> None:
    """Register a municipality."""
    with command_transaction() as session:
        tenant = create_tenant(session, {
            "slug": slug, "nis_code": nis_code, "names": _pairs(names, "--name"),
            "languages": list(languages), "default_language": default_language, "time_zone": time_zone,
        }, actor())
    click.echo(f"created {tenant.slug} ({tenant.nis_code})")


@tenants.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def tenants_list(as_json: bool) -> None:
    """List every municipality: a table with a header row, or JSON."""
    with command_transaction() as session:
        rows = [_describe(t) for t in all_tenants(session)]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    _table(("SLUG", "NIS CODE", "STATUS", "LANGUAGES", "NAME"),
           [(row["slug"], row["nis_code"], row["status"], ",".join(row["languages"]),
             row["names"].get(row["default_language"], "")) for row in rows])


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Columns as wide as their widest cell, two spaces apart; the last one is not padded."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for line in (header, *rows):
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


@tenants.command("show")
@click.argument("slug")
def tenants_show(slug: str) -> None:
    """Show a municipality, its branding and its latest configuration changes."""
    with command_transaction() as session:
        tenant = require_tenant(session, slug)
        with tenant_scope(session, tenant.id):
            branding = branding_of(session, tenant.id)
            latest = history(session, tenant.id, limit=20)
            described = _describe(tenant) | {
                "branding": {"display_name": branding.display_name, "logo_url": branding.logo_url,
                             "primary_colour": branding.primary_colour,
                             "accent_colour": branding.accent_colour,
                             "contact_email": branding.contact_email, "phone": branding.phone,
                             "website": branding.website, "privacy_url": branding.privacy_url},
                "history": [{"at": c.at.isoformat(), "actor": c.actor, "subject": c.subject,
                             "changes": c.changes} for c in latest],
            }
    click.echo(json.dumps(described, indent=2, ensure_ascii=False))


def _change_status(slug: str, status: TenantStatus) -> None:
    with command_transaction() as session:
        changed = set_status(session, require_tenant(session, slug), status, actor())
    click.echo(f"{slug} {status.value}" if changed else f"{slug} was already {status.value}")


@tenants.command("suspend")
@click.argument("slug")
def tenants_suspend(slug: str) -> None:
    """Suspend a municipality: its APIs answer 403 until it is activated again."""
    _change_status(slug, TenantStatus.SUSPENDED)


@tenants.command("activate")
@click.argument("slug")
def tenants_activate(slug: str) -> None:
    """Reactivate a suspended municipality."""
    _change_status(slug, TenantStatus.ACTIVE)


@tenants.command("branding")
@click.argument("slug")
@click.option("--set", "assignments", multiple=True, required=True, metavar="FIELD=VALUE",
              help="e.g. primary_colour=#004d40, display_name.fr=Ville de Renaix, logo_url= (clears)")
def tenants_branding(slug: str, assignments: tuple[str, ...]) -> None:
    """Change a municipality's branding; every change is kept in its history."""
    with command_transaction() as session:
        tenant = require_tenant(session, slug)
        with tenant_scope(session, tenant.id):
            branding = branding_of(session, tenant.id)
            data: dict[str, Any] = {}
            for field, value in _pairs(assignments, "--set").items():
                if field.startswith("display_name."):
                    data.setdefault("display_name", dict(branding.display_name))[field.split(".", 1)[1]] = value
                else:
                    data[field] = value or None
            changes = update_branding(session, tenant, branding, data, actor())
    click.echo(f"changed: {', '.join(changes) or 'nothing'}")


@cli.group()
def retention() -> None:
    """How long closed cases are kept (each service's period, set per municipality)."""


@retention.command("run")
def retention_run() -> None:
    """Pseudonymise every closed case whose retention period has ended, in short batches (the
    worker does this daily); audited in each municipality."""
    counted: Counter[str] = Counter()

    def progress(slug: str, cases: int) -> None:
        counted[slug] += cases
        click.echo(f"{slug}: {counted[slug]} cases pseudonymised so far")

    totals = apply_retention(database.database(), current_app.extensions["townhall.storage"], actor(),
                             progress=progress)
    click.echo("retention: " + (", ".join(f"{kind} {count}" for kind, count in sorted(totals.items()) if count)
                                or "nothing due"))


@cli.group()
def audit() -> None:
    """The municipalities' audit trails."""


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """A verification makes millions of short-lived rows and strings and no reference cycles: the
    cycle collector's passes over them cost 10-15 % of its time (this command's process only)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@audit.command("verify")
@click.option("--tenant", "slug", default=None, help="Only this municipality (default: every one).")
def audit_verify(slug: str | None) -> None:
    """Recompute every chain from its first entry; name the first broken link (exit code 1)."""
    with database.database().sessions() as session:
        chosen = [require_tenant(session, slug)] if slug else list(all_tenants(session))
        targets = [(t.id, t.slug) for t in chosen]
    broken = 0
    with database.database().sessions() as session:
        keys = verification_keys(session)
    for tenant_id, tenant_slug in targets:
        with database.database().sessions() as session, tenant_scope(session, tenant_id), _no_cycle_collection():
            verdict = verify(session, tenant_id, keys)
        if verdict.broken_at is None:
            forgotten = f", {verdict.unsigned_seals} by keys no longer known" if verdict.unsigned_seals else ""
            click.echo(f"{tenant_slug}: {verdict.entries} entries, intact (head {verdict.head[:16]}…; "
                       f"{verdict.seals} signed heads match{forgotten})")
        else:
            broken += 1
            click.echo(f"{tenant_slug}: BROKEN at entry {verdict.broken_at}: {verdict.reason}")
    if broken:
        raise click.ClickException(f"{broken} of {len(targets)} audit trails are broken.")


@audit.command("seal")
def audit_seal() -> None:
    """Sign each chain's head that moved since it was last signed (the worker does this every
    TOWNHALL_AUDIT_SEAL_SECONDS); the seals are kept and logged."""
    click.echo(f"audit heads signed: {seal_heads(database.database())}")


def main() -> None:
    try:
        cli.main(prog_name="townhall")
    except SettingsError as error:
        click.echo(str(error), err=True)
        sys.exit(2)


import api.identity_cli  # noqa: E402, F401  (registers the identity commands on `cli`)
