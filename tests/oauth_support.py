"""Helpers for tests that need clients and tokens: real clients registered through the operations,
real tokens from the real token endpoint."""

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.database import database
from tenants.models import Tenant
from townhall.auth.keys import ensure_signing_key
from townhall.auth.operations import create_client
from townhall.tenancy import tenant_scope


@dataclass(frozen=True)
class Registered:
    tenant: str
    client_id: str
    secret: str | None


def register(app: Flask, tenant: Tenant, scopes: list[str], **overrides: Any) -> Registered:
    data = {"name": "Partner", "kind": "confidential", "grant_types": ["client_credentials"],
            "scopes": scopes} | overrides
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, tenant.id):
        client, secret = create_client(session, tenant.id, tenant.slug, data)
        return Registered(tenant.slug, client.client_id, secret)


def basic(client_id: str, secret: str | None) -> dict[str, str]:
    pair = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def token_response(client: FlaskClient, registered: Registered, **form: str) -> Any:
    return client.post("/oauth/token", data={"grant_type": "client_credentials", **form},
                       headers=basic(registered.client_id, registered.secret))


def token(client: FlaskClient, registered: Registered, **form: str) -> str:
    response = token_response(client, registered, **form)
    assert response.status_code == 200, response.get_data(as_text=True)
    value: str = response.json["access_token"]
    return value


def data(response: Any) -> Any:
    """The JSON body of a test response (which must have one)."""
    assert response.json is not None, response.get_data(as_text=True)
    return response.json


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


@pytest.fixture
def signing_key(app: Flask) -> Iterator[None]:
    """A signing key in this test's transaction; the process's key cache is dropped around it."""
    keyring = app.extensions["townhall.keyring"]
    keyring.forget()
    with app.app_context(), database().unit_of_work() as session:
        ensure_signing_key(session, app.config["TOWNHALL_SETTINGS"].access_token_lifetime)
    yield
    keyring.forget()
