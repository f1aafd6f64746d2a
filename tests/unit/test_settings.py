"""Settings come from the environment and are validated at start with a clear message."""

import subprocess
import sys
from pathlib import Path

import pytest

from api.settings import Settings, SettingsError
from support.suite import ROOT


def test_defaults_give_an_embedded_sqlite_database_under_the_instance_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({"TOWNHALL_INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path}/townhall.db"
    assert settings.migration_database_url == settings.database_url
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.tenant_api_url("aalst") == "http://127.0.0.1:8000/t/aalst/v1"
    assert settings.audience("aalst") == "http://127.0.0.1:8000/t/aalst"
    assert settings.audience(None) == "http://127.0.0.1:8000/v1"
    assert settings.tenant_of_audience("http://127.0.0.1:8000/t/aalst") == "aalst"
    assert settings.tenant_of_audience("http://127.0.0.1:8000/v1") is None
    assert settings.database_prepared_statements is True


def test_values_are_read_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env({
        "TOWNHALL_INSTANCE_PATH": str(tmp_path),
        "TOWNHALL_DATABASE_URL": "postgresql+psycopg://app@db/townhall",
        "TOWNHALL_MIGRATION_DATABASE_URL": "postgresql+psycopg://owner@db/townhall",
        "TOWNHALL_REDIS_URL": "redis://cache:6379/0",
        "TOWNHALL_BASE_URL": "https://api.dender.example/",
        "TOWNHALL_MAX_BODY_BYTES": "4096",
        "TOWNHALL_LOG_LEVEL": "warning",
        "TOWNHALL_DATABASE_PREPARED_STATEMENTS": "false",
    })
    assert settings.database_backend == "postgresql" and settings.database_prepared_statements is False
    assert settings.base_url == "https://api.dender.example"
    assert (settings.max_body_bytes, settings.log_level, settings.redis_url) == (4096, "WARNING", "redis://cache:6379/0")


def test_every_bad_value_is_named_at_once(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({
            "TOWNHALL_INSTANCE_PATH": str(tmp_path),
            "TOWNHALL_DATABASE_URL": "mysql://x/y",
            "TOWNHALL_BASE_URL": "ftp://nowhere",
            "TOWNHALL_REDIS_URL": "http://cache",
            "TOWNHALL_MAX_BODY_BYTES": "lots",
            "TOWNHALL_LOG_LEVEL": "LOUD",
            "TOWNHALL_DATABASE_PREPARED_STATEMENTS": "sometimes",
        })
    message = str(caught.value)
    for name in ("TOWNHALL_DATABASE_URL", "TOWNHALL_BASE_URL", "TOWNHALL_REDIS_URL",
                 "TOWNHALL_MAX_BODY_BYTES", "TOWNHALL_LOG_LEVEL", "TOWNHALL_DATABASE_PREPARED_STATEMENTS"):
        assert name in message


def test_the_cli_reports_bad_settings_without_a_traceback(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "TOWNHALL_INSTANCE_PATH": str(tmp_path), "TOWNHALL_BASE_URL": "nowhere"}
    result = subprocess.run([sys.executable, "-c", "from api.cli import main; main()", "tenants", "list"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "TOWNHALL_BASE_URL" in result.stderr and "Traceback" not in result.stderr


def test_each_cache_has_its_own_lifetime(tmp_path: Path) -> None:
    defaults = Settings.from_env({"TOWNHALL_INSTANCE_PATH": str(tmp_path)})
    assert (defaults.tenant_cache_seconds, defaults.revocation_cache_seconds,
            defaults.verified_token_cache_seconds, defaults.signing_key_cache_seconds) == (5, 5, 5, 60)
    chosen = Settings.from_env({
        "TOWNHALL_INSTANCE_PATH": str(tmp_path),
        "TOWNHALL_TENANT_CACHE_SECONDS": "30",
        "TOWNHALL_REVOCATION_CACHE_SECONDS": "2",
        "TOWNHALL_VERIFIED_TOKEN_CACHE_SECONDS": "0",
        "TOWNHALL_SIGNING_KEY_CACHE_SECONDS": "600",
    })
    assert (chosen.tenant_cache_seconds, chosen.revocation_cache_seconds,
            chosen.verified_token_cache_seconds, chosen.signing_key_cache_seconds) == (30, 2, 0, 600)


def test_cache_lifetimes_are_validated(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({
            "TOWNHALL_INSTANCE_PATH": str(tmp_path),
            "TOWNHALL_REVOCATION_CACHE_SECONDS": "3601",
            "TOWNHALL_VERIFIED_TOKEN_CACHE_SECONDS": "soon",
            "TOWNHALL_SIGNING_KEY_CACHE_SECONDS": "86400",
        })
    assert caught.value.problems == [
        "TOWNHALL_VERIFIED_TOKEN_CACHE_SECONDS: a whole number, got 'soon'",
        "TOWNHALL_REVOCATION_CACHE_SECONDS: between 0 and 3600",
        "TOWNHALL_SIGNING_KEY_CACHE_SECONDS: between 0 and 3600",
    ]
