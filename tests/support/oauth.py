"""Helpers for tests that need clients and tokens: real clients registered through the operations,
real tokens from the real token endpoint."""

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from api.database import database
from tenants.models import Tenant
from townhall.auth.operations import create_client, create_platform_client
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


def register_platform_client(app: Flask, **overrides: Any) -> Registered:
    data = {"name": "Operator automation", "kind": "confidential", "grant_types": ["client_credentials"],
            "scopes": ["platform:manage"]} | overrides
    with app.app_context(), database().unit_of_work() as session:
        client, secret = create_platform_client(session, data)
        return Registered("platform", client.client_id, secret)


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


REDIRECT = "http://127.0.0.1:8765/callback"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def authorize_url(client_id: str, challenge: str | None, scope: str = "cases:read", state: str = "xyz",
                  redirect_uri: str = REDIRECT, method: str = "S256", **extra: str) -> str:
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
             "state": state, "code_challenge_method": method, **extra}
    if challenge is not None:
        query["code_challenge"] = challenge
    return "/oauth/authorize?" + urlencode(query)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def sign_in_and_consent(browser: FlaskClient, url: str, email: str, password: str, decision: str = "allow") -> Any:
    """Play the person: sign in through the real form, then answer the consent form."""
    login = browser.get(url)
    assert login.status_code == 200, login.get_data(as_text=True)
    signed_in = browser.post(url, data={"action": "login", "csrf": csrf_of(login.get_data(as_text=True)),
                                        "email": email, "password": password})
    assert signed_in.status_code == 303, signed_in.get_data(as_text=True)
    consent = browser.get(signed_in.headers["Location"])
    assert consent.status_code == 200, consent.get_data(as_text=True)
    return browser.post(url, data={"action": "consent", "decision": decision,
                                   "csrf": csrf_of(consent.get_data(as_text=True))})


def code_from(response: Any) -> tuple[str, dict[str, list[str]]]:
    assert response.status_code == 303, response.get_data(as_text=True)
    location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    return f"{location.scheme}://{location.netloc}{location.path}", query


def user_token(app: Flask, client_id: str, email: str, password: str, scope: str, **extra: str) -> str:
    """A person's access token through the real sign-in, consent and code exchange (PKCE)."""
    verifier, challenge = pkce_pair()
    browser = app.test_client()
    _, query = code_from(sign_in_and_consent(browser, authorize_url(client_id, challenge, scope, **extra),
                                             email, password))
    form = {"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT,
            "client_id": client_id, "code_verifier": verifier, **extra}
    answer: str = data(browser.post("/oauth/token", data=form))["access_token"]
    return answer


def partner_client(session: Session, tenant: Tenant, scopes: list[str]) -> tuple[str, str | None]:
    """A confidential client-credentials partner in the session's unit of work (its tenant current):
    its id and secret, for tests whose data is committed (`live_app`)."""
    row, secret = create_client(session, tenant.id, tenant.slug, {
        "name": "Partner", "kind": "confidential", "grant_types": ["client_credentials"], "scopes": scopes})
    return row.client_id, secret


def partner_headers(app: Flask, client_id: str, secret: str | None) -> dict[str, str]:
    """A partner's bearer header, its token asked the way the partner asks it."""
    answer = app.test_client().post("/oauth/token", data={"grant_type": "client_credentials"},
                                    headers=basic(client_id, secret))
    assert answer.json is not None, answer.get_data(as_text=True)
    return bearer(answer.json["access_token"])
