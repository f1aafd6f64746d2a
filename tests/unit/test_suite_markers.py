"""The suite's own honesty: a test that needs a service this run lacks is reported as skipped with
the reason, never deselected out of the summary (tests/conftest.py, pytest_collection_modifyitems)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TINY = '''
import pytest


@pytest.mark.redis
def test_needs_redis():
    pass


@pytest.mark.postgresql
def test_needs_postgresql():
    pass


def test_needs_nothing():
    pass
'''


def run_tiny(tmp_path: Path, *options: str, redis_url: str | None = None) -> subprocess.CompletedProcess[str]:
    """pytest in a fresh process on a tiny file, with the project's conftest loaded as a plugin and
    the project's pytest configuration (-ra, strict markers)."""
    (tmp_path / "test_tiny.py").write_text(TINY)
    env = {k: v for k, v in os.environ.items() if k != "TOWNHALL_TEST_REDIS_URL"}
    if redis_url:
        env["TOWNHALL_TEST_REDIS_URL"] = redis_url
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "setup.cfg"), "--rootdir", str(tmp_path),
         "-p", "conftest", "-p", "no:cacheprovider", *options, str(tmp_path / "test_tiny.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_without_redis_and_postgresql_their_tests_are_skipped_with_the_reason(tmp_path: Path) -> None:
    result = run_tiny(tmp_path, "--backend", "sqlite")
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert "1 passed" in summary and "2 skipped" in summary, result.stdout
    assert "deselected" not in result.stdout
    # -ra lists each skipped test with why it did not run.
    assert "SKIPPED [1] test_tiny.py:5: needs Redis: set TOWNHALL_TEST_REDIS_URL" in result.stdout, result.stdout
    assert "SKIPPED [1] test_tiny.py:10: needs PostgreSQL: run with --backend postgresql" in result.stdout


def test_with_redis_and_postgresql_their_tests_run(tmp_path: Path) -> None:
    result = run_tiny(tmp_path, "--backend", "postgresql", redis_url="redis://127.0.0.1:6379/0")
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert "3 passed" in summary and "skipped" not in summary, result.stdout


def test_ci_runs_the_redis_tests() -> None:
    """CI starts Redis and exports its URL before `make test`, whose pytest runs inherit it."""
    ci = (ROOT / ".ci" / "run").read_text()
    exported = ci.index("export TOWNHALL_TEST_REDIS_URL=redis://")
    assert ci.index("redis-server") < exported < ci.index("make test")
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\ntest:"):makefile.index("\nlint:")]
    assert "TOWNHALL_TEST_REDIS_URL" not in recipe  # inherited as it is, never emptied on the way
    assert "pytest --backend sqlite" in recipe and "pytest --backend postgresql" in recipe
