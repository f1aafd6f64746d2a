"""The layout decisions that keep the process importable and the layers pointing one way."""

import configparser
import importlib
import importlib.util
import subprocess
import sys

from setuptools import find_packages

import api
from support.suite import ROOT


def test_platform_is_a_source_root_not_a_package() -> None:
    assert not (ROOT / "platform" / "__init__.py").exists()
    assert (ROOT / "platform" / "townhall" / "__init__.py").exists()


def test_stdlib_platform_still_works_after_the_app_is_imported() -> None:
    # A fresh interpreter started in the repository root, the way gunicorn and flask start.
    code = "import api.wsgi, platform; print(platform.python_implementation(), platform.system())"
    env = {"PATH": "/usr/bin:/bin", "TOWNHALL_INSTANCE_PATH": str(ROOT / "instance" / "layout-test")}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "CPython"


def test_setup_cfg_lists_every_package() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    declared = set(config["options"]["packages"].split())
    found = set(find_packages(str(ROOT / "platform"))) | set(
        find_packages(str(ROOT), include=["api", "api.*", "tenants", "tenants.*"]))
    assert declared == found


def test_the_kernel_imports_neither_tenants_nor_api() -> None:
    """And every other import-linter contract in setup.cfg holds (the kernel's inner boundaries)."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    contracts = [name for name in config.sections() if name.startswith("importlinter:contract:")]
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "lint-imports"), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(contracts)} kept, 0 broken" in result.stdout


def test_every_module_imports_cleanly() -> None:
    for package in ("townhall", "tenants", "api"):
        module = importlib.import_module(package)
        assert module.__file__ is not None


def test_every_api_folder_with_routes_names_the_package_it_adapts() -> None:
    """The table in api/__init__.py is the one place mapping api folders to kernel packages."""
    table: dict[str, str] = {}
    for line in (api.__doc__ or "").splitlines():
        parts = line.split()
        if line.startswith("    ") and len(parts) >= 2 and parts[0] != "api":
            table[parts[0]] = parts[1]
    folders = {path.parent.name for path in (ROOT / "api").glob("*/routes.py")}
    assert folders <= set(table), f"missing from the table in api/__init__.py: {sorted(folders - set(table))}"
    assert set(table) <= folders, f"not an api folder with routes: {sorted(set(table) - folders)}"
    for folder, package in table.items():
        if package != "-":
            assert importlib.util.find_spec(package) is not None, f"{folder}: no package {package}"


def test_request_schemas_are_not_defined_in_routes() -> None:
    """Request schemas live in their feature's schemas.py (rule in api/__init__.py)."""
    inline = [str(path.relative_to(ROOT)) for path in (ROOT / "api").rglob("routes.py")
              if "(Schema):" in path.read_text()]
    assert inline == []
