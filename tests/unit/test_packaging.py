"""The Dockerfile, the wheel and the gunicorn settings are checked without a Docker engine."""

import configparser
import importlib
import re
import runpy
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from support.suite import ROOT


def dockerfile_copies() -> list[str]:
    sources = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources.extend(line.split()[1:-1])
    return sources


def test_every_path_the_dockerfile_copies_exists() -> None:
    copies = dockerfile_copies()
    assert "migrations/" in copies and "openapi.yaml" in copies
    for source in copies:
        assert (ROOT / source).exists(), source


def test_the_image_runs_gunicorn_as_a_non_root_user_with_a_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("FROM ") == 2  # build stage, runtime stage
    users = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert 'CMD ["gunicorn", "-c", "gunicorn.conf.py"]' in text
    assert "HEALTHCHECK" in text and "/livez" in text


def test_gunicorn_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUNICORN_WORKERS", "5")
    monkeypatch.setenv("GUNICORN_BIND", "0.0.0.0:9000")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (config["workers"], config["bind"], config["worker_class"]) == (5, "0.0.0.0:9000", "sync")
    assert config["control_socket_disable"] is True
    assert config["accesslog"] is None  # the app logs requests itself, without query strings


def test_the_gunicorn_app_path_imports(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOWNHALL_INSTANCE_PATH", str(tmp_path))
    module_name, _, attribute = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["wsgi_app"].partition(":")
    sys.modules.pop(module_name, None)
    module = importlib.import_module(module_name)
    assert callable(getattr(module, attribute))


def test_the_wheel_holds_every_package(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path), str(ROOT)], check=True, timeout=300, capture_output=True)
    wheel = next(tmp_path.glob("townhall-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    for package in config["options"]["packages"].split():
        assert f"{package.replace('.', '/')}/__init__.py" in names, package
    assert "townhall/py.typed" in names
    assert not any(name.startswith("platform/") for name in names)
