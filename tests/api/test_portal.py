"""The citizens' portal of each municipality: its catalogue, in its colours and the citizen's
language, showing no other municipality's configuration."""

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from api.database import database
from support.contract import assert_problem
from tenants.models import Tenant
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope


def _offer(app: Flask, tenant: Tenant, code: str, **settings: object) -> None:
    with app.app_context(), database().unit_of_work() as session, tenant_scope(session, tenant.id):
        configure_service(session, tenant.id, code, settings)


def test_the_portal_shows_the_catalogue_with_fees_times_and_what_to_bring(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]
) -> None:
    aalst = make_tenant("aalst", "41002")
    _offer(app, aalst, "eid-card", fee_cents=2500, processing_days=10)
    _offer(app, aalst, "certificate", fee_cents=0, processing_days=0)
    page = client.get("/t/aalst/", headers={"Accept-Language": "nl-BE,nl;q=0.9"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Content-Language"] == "nl" and "frame-ancestors 'none'" in page.headers[
        "Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assert 'lang="nl"' in html and "Onze diensten" in html
    assert "€ 25,00" in html and "10 werkdagen" in html and "Een recente pasfoto" in html
    assert "Gratis" in html and "Meteen klaar" in html


def test_a_language_chosen_is_remembered(app: Flask, client: FlaskClient,
                                         make_tenant: Callable[..., Tenant]) -> None:
    make_tenant("aalst", "41002")
    chosen = client.get("/t/aalst/?lang=fr", headers={"Accept-Language": "nl"})
    assert 'lang="fr"' in chosen.get_data(as_text=True) and "console_language=fr" in chosen.headers["Set-Cookie"]
    again = client.get("/t/aalst/", headers={"Accept-Language": "nl"})
    assert again.headers["Content-Language"] == "fr" and "Nos services" in again.get_data(as_text=True)


def test_another_municipalitys_portal_shows_none_of_this_ones_configuration(
    app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant]
) -> None:
    aalst, ronse = make_tenant("aalst", "41002"), make_tenant("ronse", "45041")
    _offer(app, aalst, "eid-card", fee_cents=4321, processing_days=17)
    _offer(app, ronse, "certificate", fee_cents=0, processing_days=0)
    html = client.get("/t/ronse/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "43,21" not in html and "17 working days" not in html and "service-eid-card" not in html
    assert "service-certificate" in html
    assert "43,21" in client.get("/t/aalst/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert_problem(client.get("/t/nowhere/"), 404)
