"""deploy/ checked without a Docker engine: the compose file's health checks and schedule, nginx's
body limit against the app's, and the trusted-proxy setting on real requests."""

import os
import re
import shlex
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask

from api.settings import Settings, SettingsError
from support.suite import ROOT


def compose() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    return parsed


def image_healthcheck() -> list[str]:
    """The Dockerfile's HEALTHCHECK command, which every service inherits unless it sets its own."""
    match = re.search(r"^HEALTHCHECK .*?\\\n\s+CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert match is not None
    command: list[str] = yaml.safe_load(match.group(1))
    return command


def test_workers_have_a_health_check_of_their_own() -> None:
    services = compose()["services"]
    assert "/livez" in " ".join(image_healthcheck())
    assert "healthcheck" not in services["api"]  # the API keeps the image's HTTP check
    worker = services["worker"]["healthcheck"]
    assert worker["test"] == ["CMD", "townhall", "worker", "--check"] != ["CMD", *image_healthcheck()]
    assert not worker.get("disable")
    # Neither the one-off migration nor the scheduler serves HTTP: no check that can only fail.
    for name in ("migrate", "scheduler"):
        assert services[name]["healthcheck"] == {"disable": True}, name


def test_the_worker_health_check_is_the_command_that_reads_the_heartbeat(tmp_path: Path) -> None:
    env = {**os.environ, "TOWNHALL_INSTANCE_PATH": str(tmp_path)}
    command = compose()["services"]["worker"]["healthcheck"]["test"][1:]
    command[0] = str(Path(sys.executable).parent / command[0])  # the installed entry point, as in the image
    assert subprocess.run(command, env=env, capture_output=True, timeout=60, check=False).returncode == 1
    (tmp_path / f"worker-{socket.gethostname()}.heartbeat").touch()
    assert subprocess.run(command, env=env, capture_output=True, timeout=60, check=False).returncode == 0


def test_a_scheduler_runs_the_periodic_commands() -> None:
    scheduler = compose()["services"]["scheduler"]
    assert scheduler.get("deploy", {}).get("replicas", 1) == 1  # one scheduler: each run once
    assert scheduler["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert scheduler["init"] is True
    script = scheduler["command"][2]
    assert scheduler["command"][:2] == ["sh", "-c"]
    assert "townhall appointments remind" in script and "townhall proactive scan" in script


def test_the_scheduler_loop_reminds_hourly_and_scans_daily(tmp_path: Path) -> None:
    """The loop itself, run by sh as compose hands it over ($$ is $), with `townhall` and `sleep`
    standing in: the fake sleep records its argument and ends the loop after 25 rounds."""
    script = compose()["services"]["scheduler"]["command"][2].replace("$$", "$")
    calls = tmp_path / "calls"
    for name, body in (("townhall", f'echo "townhall $*" >> {shlex.quote(str(calls))}\n'
                                    '[ "$1" = proactive ] && exit 1\nexit 0\n'),  # a failure must not stop it
                       ("sleep", f'echo "sleep $*" >> {shlex.quote(str(calls))}\n'
                                 f'[ "$(grep -c ^sleep {shlex.quote(str(calls))})" -ge 25 ] && kill -TERM $PPID\n'
                                 "exit 0\n")):
        path = tmp_path / name
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    result = subprocess.run(["/bin/sh", "-c", script], env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0  # ended by the TERM, not by itself
    lines = calls.read_text().splitlines()
    assert lines.count("townhall appointments remind") == 25
    assert lines.count("sleep 3600") == 25
    scans = [i for i, line in enumerate(lines) if line == "townhall proactive scan"]
    assert len(scans) == 2 and scans[0] == 1  # at start, then after 24 hourly rounds
    assert lines[scans[1] - 1] == "townhall appointments remind" and lines[:scans[1]].count("sleep 3600") == 24
    assert "scheduler: proactive scan failed" in result.stderr


def nginx_size(value: str) -> int:
    number, unit = re.fullmatch(r"([0-9]+)([kKmMgG]?)", value).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]


def test_nginx_lets_every_body_the_app_accepts_through(app: Flask) -> None:
    """Past the app's limit the app itself answers (a 413 problem document), not nginx."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    (size,) = re.findall(r"^\s*client_max_body_size\s+(\S+);", conf, re.MULTILINE)
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit >= app.config["TOWNHALL_SETTINGS"].max_document_bytes == 5 * 1024**2
    assert nginx_size(size) > limit
    for header, value in (("X-Forwarded-For", "$proxy_add_x_forwarded_for"), ("X-Forwarded-Proto", "$scheme"),
                          ("X-Forwarded-Host", "$host")):  # set by nginx, never a client's own
        assert re.search(rf"^\s*proxy_set_header {header} {re.escape(value)};", conf, re.MULTILINE), header


def test_the_api_behind_the_proxy_trusts_exactly_one_hop() -> None:
    api = compose()["services"]["api"]["environment"]
    assert api["TOWNHALL_TRUSTED_PROXY_HOPS"] == "1"
    assert Settings.from_env({"TOWNHALL_TRUSTED_PROXY_HOPS": "1"}).trusted_proxy_hops == 1
    assert Settings.from_env({}).trusted_proxy_hops == 0
    for wrong in ("6", "-1", "one"):
        with pytest.raises(SettingsError, match="TOWNHALL_TRUSTED_PROXY_HOPS"):
            Settings.from_env({"TOWNHALL_TRUSTED_PROXY_HOPS": wrong})


def _token_statuses(app: Flask, addresses: list[str]) -> list[int]:
    client = app.test_client()
    return [client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        auth=(f"aalst.nobody-{i}", "wrong"), headers={"X-Forwarded-For": address}).status_code
            for i, address in enumerate(addresses)]


@pytest.mark.parametrize("hops", [0, 1])
def test_the_rate_limit_key_is_the_forwarded_address_only_behind_a_trusted_proxy(
    make_app: Callable[[Settings], Flask], settings: Settings, tmp_path: Path, hops: int
) -> None:
    limited = make_app(replace(settings, instance_path=tmp_path, trusted_proxy_hops=hops,
                               token_rate_limit_per_address="2 per minute"))
    statuses = _token_statuses(limited, ["203.0.113.7", "203.0.113.7", "198.51.100.9", "203.0.113.7"])
    if hops:
        # Two citizens behind the proxy: each has their own budget; the forged-looking first
        # entries a client may send are not what counts (the last, nginx's, is).
        assert statuses == [401, 401, 401, 429]
        assert _token_statuses(limited, ["203.0.113.7, 198.51.100.9"]) == [401]  # 198.51.100.9's 2nd
        assert _token_statuses(limited, ["10.0.0.1, 198.51.100.9"]) == [429]  # and its 3rd
    else:
        # No trusted proxy: X-Forwarded-For is anyone's to write and ignored; one address, one budget.
        assert statuses == [401, 401, 429, 429]
