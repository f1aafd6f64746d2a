"""What the suite's fixtures and several tests share: the repository root, the optional Redis, a
client that checks every response against openapi.yaml, and emptying the database after committed tests."""

import json
import os
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.test import TestResponse

from api.models import metadata
from api.settings import Settings
from support.contract import validate_response
from townhall.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TOWNHALL_TEST_REDIS_URL")
CHROMIUM = os.environ.get("TOWNHALL_TEST_CHROMIUM", "/usr/bin/chromium")
"""Debian's Chromium, which the browser tests drive through Playwright (its own download is not reachable)."""
REQUIRE_BROWSER = os.environ.get("TOWNHALL_REQUIRE_BROWSER") == "1"
"""CI sets this: a run without Chromium then fails instead of skipping the browser tests."""


class ContractClient(FlaskClient):
    """A test client that validates every response against openapi.yaml."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        request = response.request
        validate_response(request.method, request.path, response)
        return response


def json_lines(text_block: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text_block.splitlines() if line.startswith("{")]


def empty_all_tables(settings: Settings) -> None:
    """As the owner: TRUNCATE is not subject to row-level security, DELETE on SQLite has none."""
    owner = make_engine(settings.migration_database_url)
    tables = [table.name for table in reversed(metadata.sorted_tables)]
    with owner.begin() as connection:
        if owner.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))
    owner.dispose()
