"""The `townhall` command: tenants, demo seed and migrations, each command one commit."""

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import select

from api.cli import cli
from api.database import database, script_heads
from api.heartbeat import Heartbeat
from api.settings import Settings
from tenants.queries import require_tenant
from townhall.cases.models import Case, CaseStep, ReferenceCounter
from townhall.changes.queries import history
from townhall.services.registry import SERVICE_TYPES
from townhall.tenancy import tenant_scope


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(cli, list(args))


def test_create_list_show_suspend_activate(app: Flask) -> None:
    created = run(app, "tenants", "create", "--slug", "gent", "--nis-code", "44021", "--name", "nl=Gent",
                  "--name", "fr=Gand", "--language", "nl", "--language", "fr", "--default-language", "nl")
    assert created.exit_code == 0, created.output
    listed = json.loads(run(app, "tenants", "list", "--json").output)
    assert [(t["slug"], t["nis_code"], t["status"]) for t in listed] == [("gent", "44021", "active")]

    assert "gent suspended" in run(app, "tenants", "suspend", "gent").output
    assert "already suspended" in run(app, "tenants", "suspend", "gent").output
    shown = json.loads(run(app, "tenants", "show", "gent").output)
    assert shown["status"] == "suspended"
    assert [h["subject"] for h in shown["history"]] == ["status", "tenant"]
    assert shown["history"][0]["actor"].startswith("cli:")
    assert "gent active" in run(app, "tenants", "activate", "gent").output


def test_invalid_tenant_is_refused_with_the_fields_named(app: Flask) -> None:
    result = run(app, "tenants", "create", "--slug", "Gent!", "--nis-code", "4402", "--name", "nl=Gent",
                 "--language", "nl", "--default-language", "nl", "--time-zone", "Mars/Olympus")
    assert result.exit_code == 1
    for field in ("slug", "nis_code", "time_zone"):
        assert field in result.output
    assert json.loads(run(app, "tenants", "list", "--json").output) == []


def test_duplicate_nis_code_is_refused(app: Flask) -> None:
    args = ["tenants", "create", "--nis-code", "44021", "--name", "nl=Gent", "--language", "nl",
            "--default-language", "nl"]
    assert run(app, *args, "--slug", "gent").exit_code == 0
    result = run(app, *args, "--slug", "gent-bis")
    assert result.exit_code == 1 and "NIS code" in result.output


def test_branding_changes_from_the_cli_are_validated_and_kept_in_history(app: Flask) -> None:
    run(app, "tenants", "create", "--slug", "gent", "--nis-code", "44021", "--name", "nl=Gent",
        "--language", "nl", "--default-language", "nl")
    bad = run(app, "tenants", "branding", "gent", "--set", "primary_colour=red", "--set", "website=http://gent.be")
    assert bad.exit_code == 1 and "primary_colour" in bad.output and "website" in bad.output
    good = run(app, "tenants", "branding", "gent", "--set", "primary_colour=#0A0A0A",
               "--set", "display_name.nl=Stad Gent")
    assert good.exit_code == 0 and "display_name" in good.output
    with app.app_context(), database().unit_of_work() as session:
        tenant = require_tenant(session, "gent")
        with tenant_scope(session, tenant.id):
            latest = history(session, tenant.id)[0]
    assert latest.changes["primary_colour"] == {"from": "#1d4f91", "to": "#0a0a0a"}
    assert latest.changes["display_name"]["to"] == {"nl": "Stad Gent"}


def test_unknown_tenant_is_a_clear_error(app: Flask) -> None:
    result = run(app, "tenants", "show", "atlantis")
    assert result.exit_code == 1 and "atlantis" in result.output


def test_demo_seed_is_idempotent_and_describes_the_demo(app: Flask, tmp_path: Path) -> None:
    target = tmp_path / "demo.json"
    first = run(app, "demo", "seed", "--output", str(target))
    assert first.exit_code == 0, first.output
    described = json.loads(target.read_text())
    slugs = {t["slug"]: t["nis_code"] for t in described["tenants"]}
    assert {"aalst": "41002", "denderleeuw": "41011", "haaltert": "41024", "ninove": "41048"}.items() <= slugs.items()
    assert described["base_url"] == "https://townhall.test"
    before = json.loads(run(app, "tenants", "show", "aalst").output)

    again = run(app, "demo", "seed", "--output", str(target))
    assert again.exit_code == 0
    assert json.loads(target.read_text()) == described
    assert json.loads(run(app, "tenants", "show", "aalst").output) == before  # nothing changed
    assert target.stat().st_mode & 0o077 == 0  # secrets inside: owner only


def test_the_demo_describes_working_credentials(app: Flask, tmp_path: Path) -> None:
    target = tmp_path / "demo.json"
    assert run(app, "demo", "seed", "--output", str(target)).exit_code == 0
    demo = json.loads(target.read_text())
    assert {"base_url", "tenants", "clients", "users"} <= set(demo)
    assert all({"slug", "name"} <= set(t) for t in demo["tenants"])
    by_kind = {(c["tenant"], c["client_id"].split(".")[1]): c for c in demo["clients"]}
    partner, portal = by_kind[("aalst", "demo-partner")], by_kind[("aalst", "demo-portal")]
    assert partner["grant_types"] == ["client_credentials"] and partner["client_secret"]
    assert "client_secret" not in portal and portal["redirect_uris"] == ["http://127.0.0.1:8765/callback"]
    users = {u["email"]: u for u in demo["users"]}
    assert users["admin.aalst@demo.example"]["roles"] == ["tenant_admin"]
    assert users["worker.ninove@demo.example"]["roles"] == ["case_worker"]
    assert users["backoffice@demo.example"]["tenants"] == ["aalst", "ninove"]
    assert users["citizen@demo.example"]["roles"] == ["citizen"]
    assert users["operator@demo.example"]["roles"] == ["platform_operator"]
    (platform,) = [c for c in demo["clients"] if c["tenant"] is None]
    assert platform["client_id"].startswith("platform.") and platform["scopes"] == ["platform:manage"]
    assert all(len(u["password"]) >= 12 for u in demo["users"])

    client = app.test_client()
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(partner["client_id"], partner["client_secret"]))
    assert response.status_code == 200, response.get_data(as_text=True)
    app.extensions["townhall.keyring"].forget()


def test_db_current_reports_the_head(app: Flask) -> None:
    (head,) = script_heads(app.config["TOWNHALL_SETTINGS"])
    result = run(app, "db", "current")
    assert result.exit_code == 0 and f"applied: {head}; expected: {head}" in result.output


def test_the_large_demo_writes_numbered_cases_under_each_municipality(app: Flask, tmp_path: Path) -> None:
    seeded = run(app, "demo", "seed", "--output", str(tmp_path / "demo.json"), "--large", "--tenants", "3",
                 "--cases", "50")
    assert seeded.exit_code == 0, seeded.output
    assert "this run made 3 municipalities and 50 cases" in seeded.output
    assert "100 % 50/50 cases" in seeded.output  # progress, one line per tenth without a terminal
    counts = []
    with app.app_context(), database().unit_of_work() as session:
        for slug in ("demo-0001", "demo-0002", "demo-0003"):
            tenant = require_tenant(session, slug)
            with tenant_scope(session, tenant.id):
                cases = session.scalars(select(Case).order_by(Case.id)).all()
                counters = {c.year: c.last for c in session.scalars(select(ReferenceCounter))}
                steps = session.scalars(select(CaseStep)).all()
            counts.append(len(cases))
            numbers: dict[int, list[int]] = {}
            for case in cases:  # numbered per year in the order they were opened (ids are time-ordered)
                prefix, year, number = case.reference.rsplit("-", 2)
                assert prefix == slug.upper()
                numbers.setdefault(int(year), []).append(int(number))
                assert case.service in SERVICE_TYPES and case.status in SERVICE_TYPES[case.service].workflow.states
                assert case.created_at <= datetime.now(UTC)
            assert {year: list(range(1, len(n) + 1)) for year, n in numbers.items()} == numbers
            assert counters == {year: len(n) for year, n in numbers.items()}  # the next case continues
            assert {s.case_id for s in steps} == {c.id for c in cases}
    assert counts == [17, 17, 16]

    again = run(app, "demo", "seed", "--output", str(tmp_path / "demo.json"), "--large", "--tenants", "3",
                "--cases", "50")
    assert again.exit_code == 0 and "this run made 0 municipalities and 0 cases" in again.output


TOWNHALL = Path(sys.executable).parent / "townhall"


def test_the_installed_command_has_townhall_s_own_help_and_version(tmp_path: Path) -> None:
    env = {**os.environ, "TOWNHALL_INSTANCE_PATH": str(tmp_path)}
    shown = subprocess.run([str(TOWNHALL), "--version"], env=env, capture_output=True, text=True, timeout=60,
                           check=False)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"townhall {version('townhall')}\n"
    helped = subprocess.run([str(TOWNHALL), "--help"], env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert helped.returncode == 0, helped.stderr
    listed = set(re.findall(r"^  ([a-z-]+)  ", helped.stdout.split("Commands:")[1], re.MULTILINE))
    assert listed == {"appointments", "audit", "clients", "db", "delegate", "demo", "keys", "members", "proactive",
                      "retention",
                      "teams", "tenants", "users", "worker"}
    assert "Flask" not in helped.stdout and "--app" not in helped.stdout  # not Flask's run/shell/routes/--app
    assert not list(tmp_path.iterdir())  # help and version build no app: no database, no secret key


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in group.commands.items():
        found.append(((*path, name), command))
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
    return found


def test_every_group_command_and_option_has_a_help_text() -> None:
    commands = _commands(cli)
    assert len(commands) >= 37
    missing = [" ".join(path) for path, command in commands if not (command.help or "").strip()]
    missing += [f"{' '.join(path)} {param.opts[0]}" for path, command in commands for param in command.params
                if isinstance(param, click.Option) and not (param.help or "").strip()]
    assert missing == []
    for path, command in commands:  # and each one shows it
        shown = CliRunner().invoke(cli, [*path, "--help"])
        assert shown.exit_code == 0 and (command.help or "").split()[0] in shown.output, path


def test_every_command_the_scripts_and_docs_name_exists() -> None:
    """The Makefile, CI, deploy/ and the docs call these: they must keep working."""
    for line in ("db upgrade", "db downgrade", "db current", "demo seed", "worker", "proactive scan",
                 "appointments remind", "tenants create", "tenants list", "tenants show", "tenants suspend",
                 "tenants activate", "tenants branding", "users create", "members add", "members list",
                 "teams create", "teams add-member", "delegate", "clients create", "clients create-platform",
                 "clients list", "clients rotate-secret", "clients disable", "keys rotate", "keys list"):
        assert CliRunner().invoke(cli, [*line.split(), "--help"]).exit_code == 0, line


def test_tenants_list_is_a_table_with_a_header_row(app: Flask) -> None:
    for slug, nis, names in (("gent", "44021", ["nl=Gent"]), ("sint-martens-latem", "44064", ["nl=Sint-Martens-Latem"]),
                             ("eupen", "63023", ["de=Eupen"])):
        language = names[0].split("=")[0]
        created = run(app, "tenants", "create", "--slug", slug, "--nis-code", nis, *[f"--name={n}" for n in names],
                      "--language", language, "--default-language", language)
        assert created.exit_code == 0, created.output
    run(app, "tenants", "suspend", "eupen")
    listed = run(app, "tenants", "list")
    assert listed.exit_code == 0, listed.output
    header, *rows = listed.output.splitlines()
    assert header.split() == ["SLUG", "NIS", "CODE", "STATUS", "LANGUAGES", "NAME"]
    assert [row.split() for row in rows] == [["eupen", "63023", "suspended", "de", "Eupen"],
                                             ["gent", "44021", "active", "nl", "Gent"],
                                             ["sint-martens-latem", "44064", "active", "nl", "Sint-Martens-Latem"]]
    for title in ("NIS CODE", "STATUS", "LANGUAGES", "NAME"):  # every cell starts under its title
        column = header.index(title)
        assert all(row[column - 2:column] == "  " and row[column] != " " for row in rows), title


def test_worker_check_reports_the_heartbeat_of_this_host_s_worker(app: Flask, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "TOWNHALL_SETTINGS", replace(app.config["TOWNHALL_SETTINGS"],
                                                                 instance_path=tmp_path))

    def check(*options: str) -> Result:  # as a container's health check runs it: settings from the environment
        return app.test_cli_runner().invoke(cli, ["worker", "--check", *options],
                                            env={"TOWNHALL_INSTANCE_PATH": str(tmp_path)})

    never = check()
    assert never.exit_code == 1 and "no worker heartbeat" in never.output
    assert run(app, "worker", "--once").exit_code == 0  # a round touches the heartbeat
    alive = check()
    assert alive.exit_code == 0 and "worker alive" in alive.output, alive.output
    (beat,) = tmp_path.glob("worker-*.heartbeat")
    assert beat == Heartbeat.of_worker(app.config["TOWNHALL_SETTINGS"]).path
    old = time.time() - 400
    os.utime(beat, (old, old))  # no progress for 400 s: a stuck or cut-off worker
    stale = check()
    assert stale.exit_code == 1 and "more than 300 s" in stale.output
    assert check("--max-age", "600").exit_code == 0


def test_worker_check_builds_no_app(tmp_path: Path) -> None:
    """It reads the settings and one file: no database connection, nothing written."""
    env = {**os.environ, "TOWNHALL_INSTANCE_PATH": str(tmp_path),
           "TOWNHALL_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/nowhere"}
    result = subprocess.run([str(TOWNHALL), "worker", "--check"], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 1 and "no worker heartbeat" in result.stderr
    assert not list(tmp_path.iterdir())
    Heartbeat.of_worker(Settings(instance_path=tmp_path)).beat()
    result = subprocess.run([str(TOWNHALL), "worker", "--check"], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0 and "worker alive" in result.stdout, result.stderr
