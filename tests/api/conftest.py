"""Fixtures of the app-level tests: the municipalities most of them start from (built in factories.py)."""

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from factories import Town, build_case_town, build_rules_town
from tenants.models import Tenant


@pytest.fixture
def town(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], signing_key: None) -> Town:
    """Aalst for cases (factories.build_case_town)."""
    return build_case_town(app, client, make_tenant)


@pytest.fixture
def rules_town(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], signing_key: None) -> Town:
    """Aalst for rules and proactive service (factories.build_rules_town)."""
    return build_rules_town(app, client, make_tenant)
