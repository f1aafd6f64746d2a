"""Playing a person in the console through the Flask test client: over https (the session cookie is
`__Host-`, Secure), signed in through the real authorization server's pages."""

import re
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from support.oauth import csrf_of

ORIGIN = "https://townhall.test"  # the tests' base URL


def browser(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update({"wsgi.url_scheme": "https", "HTTP_HOST": "townhall.test"})
    return client


def local(location: str) -> str:
    """A Location header as the path (and query) to ask the test client for."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sign_in(app: Flask, slug: str, email: str, password: str) -> FlaskClient:
    """A browser signed in to `slug`'s console (it holds the session cookie, nothing else)."""
    return signed_in_to(app, f"/t/{slug}/admin", email, password)


def signed_in_to(app: Flask, front_end: str, email: str, password: str) -> FlaskClient:
    """A browser signed in to a console or a portal (`/t/<slug>/admin`, `/t/<slug>`) through the
    authorization server's own pages."""
    person = browser(app)
    start = person.get(f"{front_end}/sign-in")
    assert start.status_code == 303, start.get_data(as_text=True)
    authorize = local(start.headers["Location"])
    login = person.get(authorize)
    assert login.status_code == 200, login.get_data(as_text=True)
    signed = person.post(authorize, data={"action": "login", "csrf": csrf_of(login.get_data(as_text=True)),
                                          "email": email, "password": password})
    assert signed.status_code == 303, signed.get_data(as_text=True)
    back = person.get(local(signed.headers["Location"]))
    assert back.status_code in (302, 303) and f"{front_end}/callback" in back.headers["Location"], \
        back.get_data(as_text=True)
    landed = person.get(local(back.headers["Location"]))
    assert landed.status_code == 303, landed.get_data(as_text=True)
    return person


def page_csrf(page: TestResponse) -> str:
    return csrf_of(page.get_data(as_text=True))


def field_error(page: TestResponse, field: str) -> str | None:
    found = re.search(rf'id="{re.escape(field)}-error">([^<]*)<', page.get_data(as_text=True))
    return found.group(1) if found else None
