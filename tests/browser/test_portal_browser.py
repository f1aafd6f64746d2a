"""The citizens' portal in headless Chromium: every demo municipality's portal in its own colours,
checked by axe-core (its contrast with it), with screenshots of two of them."""

import dataclasses
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser
from werkzeug.serving import make_server

from api.app import create_app
from api.database import database
from api.settings import Settings
from support.browser import accessible, free_port, launched, person, shot
from support.suite import empty_all_tables
from tenants.demo import DEMO_TENANTS, seed_demo

pytestmark = [pytest.mark.committed, pytest.mark.browser]


@pytest.fixture
def portal_url(settings: Settings) -> Iterator[str]:
    """The app on loopback with the demo consortium, each municipality in its demo colours."""
    port = free_port()
    own = dataclasses.replace(settings, base_url=f"http://127.0.0.1:{port}")
    app = create_app(own)
    with app.app_context(), database().unit_of_work() as session:
        seed_demo(session)  # five municipalities, each in its demo colours
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield own.base_url
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["townhall.database"].engine.dispose()
        empty_all_tables(settings)


@pytest.fixture
def chromium() -> Iterator[Browser]:
    with launched() as browser:
        yield browser


def test_every_demo_portal_is_readable_in_its_own_colours(portal_url: str, chromium: Browser) -> None:
    violations: dict[str, list[str]] = {}
    citizen = person(chromium, locale="nl-BE")
    for entry in DEMO_TENANTS:
        slug = entry["tenant"]["slug"]
        citizen.goto(f"{portal_url}/t/{slug}/")
        assert citizen.inner_text("h1") == "Onze diensten"
        assert entry["branding"]["display_name"]["nl"] in citizen.inner_text("header")
        accessible(citizen, violations, f"portal home, {slug}")
    citizen.goto(f"{portal_url}/t/aalst/?lang=en")
    assert citizen.inner_text("h1") == "Our services" and "Electronic identity card" in citizen.inner_text("main")
    shot(citizen, "portal-aalst")
    citizen.goto(f"{portal_url}/t/ninove/")  # English remembered
    assert citizen.inner_text("h1") == "Our services"
    shot(citizen, "portal-ninove")
    assert {name: found for name, found in violations.items() if found} == {}
    assert len(violations) == len(DEMO_TENANTS)
