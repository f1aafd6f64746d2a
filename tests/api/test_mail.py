"""Citizens hear of their case by e-mail, in their language, under their municipality's name — sent
to a real SMTP server (aiosmtpd) started by the test; admins hear when a webhook is switched off."""

import email
import email.policy
import ssl
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from api.database import database
from api.worker import Worker
from support.evidence import eid_form
from support.oauth import bearer, data, register, token
from support.receiver import free_port
from tenants.models import Tenant
from tenants.operations import update_branding
from tenants.queries import branding_of
from townhall.auth.models import User
from townhall.auth.operations import add_membership, create_user
from townhall.auth.scopes import TENANT_ADMIN
from townhall.outbox.mail import Brand, compose
from townhall.outbox.models import Attempt
from townhall.services.operations import configure_service
from townhall.tenancy import tenant_scope


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802  (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    port = free_port()
    found = Inbox()
    controller = Controller(found, hostname="127.0.0.1", port=port)
    controller.start()
    yield found, port
    controller.stop()


@pytest.fixture
def partner(app: Flask, client: FlaskClient, make_tenant: Callable[..., Tenant], signing_key: None) -> dict[str, str]:
    tenant = make_tenant("aalst", "41002", languages=["nl", "fr"])
    with app.app_context(), database().unit_of_work() as session:
        create_user(session, {"email": "jan@example.org", "display_name": "Jan Peeters", "preferred_language": "fr"})
        admin = create_user(session, {"email": "admin@example.org", "display_name": "Admin"})
        with tenant_scope(session, tenant.id):
            configure_service(session, tenant.id, "eid-card", {})
            add_membership(session, tenant.id, admin, TENANT_ADMIN)
            update_branding(session, tenant, branding_of(session, tenant.id), {
                "display_name": {"nl": "Stad Aalst", "fr": "Ville d'Alost"}, "primary_colour": "#c8102e",
                "contact_email": "info@aalst.example"}, "test")
    return bearer(token(client, register(app, tenant, ["cases:read", "cases:write", "webhooks:manage"])))


def mail_worker(app: Flask, port: int) -> Worker:
    settings = replace(app.config["TOWNHALL_SETTINGS"], smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
                       mail_from="noreply@townhall.test", webhooks_allow_private=True, worker_threads=2)
    return Worker(settings, app.extensions["townhall.database"])


def text_of(message: Message) -> tuple[str, str]:
    parts = {part.get_content_type(): bytes(part.get_payload(decode=True)).decode() for part in message.walk()
             if not part.is_multipart()}
    return parts["text/plain"], parts["text/html"]


def test_the_citizen_gets_the_news_in_their_language_under_the_municipality_s_name(
    app: Flask, client: FlaskClient, partner: dict[str, str], inbox: tuple[Inbox, int]
) -> None:
    box, port = inbox
    case = data(client.post("/t/aalst/v1/cases", json={"service": "eid-card", "form": eid_form(),
                                                         "citizen": "jan@example.org"}, headers=partner))
    worker = mail_worker(app, port)
    try:
        assert worker.run_once()["email delivered"] == 1
    finally:
        worker.close()
    [message] = box.messages
    assert message["To"] == "Jan Peeters <jan@example.org>"
    assert message["From"] == "Ville d'Alost <noreply@townhall.test>"
    assert message["Reply-To"] == "info@aalst.example"
    assert message["Subject"] == f"Ville d'Alost: Votre demande {case['reference']} est reçue"
    text, html = text_of(message)
    assert case["reference"] in text and "Carte d'identité électronique" in text
    assert "#c8102e" in html and "Ville d&#x27;Alost" in html


def test_a_webhook_that_fails_for_a_day_is_switched_off_and_the_admins_told(
    app: Flask, client: FlaskClient, partner: dict[str, str], inbox: tuple[Inbox, int]
) -> None:
    box, port = inbox
    dead_port = free_port()
    app.config["TOWNHALL_SETTINGS"] = replace(app.config["TOWNHALL_SETTINGS"], webhooks_allow_private=True)
    try:
        subscription = data(client.post("/t/aalst/v1/webhooks", json={"url": f"http://127.0.0.1:{dead_port}/x",
                                                                      "event_types": ["case.created"]},
                                        headers=partner))
    finally:
        app.config["TOWNHALL_SETTINGS"] = replace(app.config["TOWNHALL_SETTINGS"], webhooks_allow_private=False)
    client.post("/t/aalst/v1/cases", json={"service": "eid-card", "form": eid_form(),
                                          "citizen": "jan@example.org"}, headers=partner)
    worker = mail_worker(app, port)
    try:
        worker.run_once()
        worker.run_once(datetime.now(UTC) + timedelta(hours=25))  # a day later it gives up
        worker.run_once(datetime.now(UTC) + timedelta(hours=25))  # and tells the admins
    finally:
        worker.close()
    shown = data(client.get(f"/t/aalst/v1/webhooks/{subscription['id']}", headers=partner))
    assert shown["active"] is False and "failed for 24 hours" in shown["disabled_reason"]
    to_admin = [m for m in box.messages if m["To"] == "Admin <admin@example.org>"]
    assert len(to_admin) == 1 and f"127.0.0.1:{dead_port}" in text_of(to_admin[0])[0]


def _self_signed(directory: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now)
                   .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    (directory / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


def test_mail_goes_over_tls_with_credentials_and_carries_the_logo(
    app: Flask, client: FlaskClient, partner: dict[str, str], tmp_path: Path
) -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data_: Any) -> AuthResult:
        logins.append((data_.login, data_.password))
        return AuthResult(success=data_.login == b"townhall" and data_.password == b"s3cret")

    port = free_port()
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port, ssl_context=_self_signed(tmp_path),
                            authenticator=authenticate, auth_require_tls=False)
    controller.start()
    with app.app_context(), database().unit_of_work() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == "aalst")).one()
        with tenant_scope(session, tenant.id):
            branding = branding_of(session, tenant.id)
            update_branding(session, tenant, branding, {"logo_url": "https://www.aalst.example/logo.svg"}, "test")
    client.post("/t/aalst/v1/cases", json={"service": "eid-card", "form": eid_form(),
                                          "citizen": "jan@example.org"}, headers=partner)
    settings = replace(app.config["TOWNHALL_SETTINGS"], smtp_host="127.0.0.1", smtp_port=port, smtp_security="tls",
                       smtp_username="townhall", smtp_password="s3cret", mail_from="noreply@townhall.test")
    worker = Worker(settings, app.extensions["townhall.database"])
    try:
        counts = worker.run_once()
        assert counts["email delivered"] == 1, (counts, _errors(app))
    finally:
        worker.close()
        controller.stop()
    assert logins == [(b"townhall", b"s3cret")]
    assert 'src="https://www.aalst.example/logo.svg"' in text_of(box.messages[0])[1]


def _errors(app: Flask) -> list[str | None]:
    with app.app_context(), database().sessions() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == "aalst")).one()
        with tenant_scope(session, tenant.id):
            return list(session.scalars(select(Attempt.error)))


def test_a_municipality_sends_its_own_words_and_the_platform_s_where_it_wrote_none(
    app: Flask, client: FlaskClient, partner: dict[str, str], inbox: tuple[Inbox, int]
) -> None:
    box, port = inbox
    admin = bearer(token(client, register(app, branding_of_tenant(app), ["config:write"])))
    path = "/t/aalst/v1/admin/email-templates/case.created"
    rewritten = client.patch(path, json={"texts": {"fr": {"subject": "Bien reçu : {reference}",
                                                          "body": "Merci ! {municipality} traite {reference}."}}},
                             headers=admin | {"If-Match": '"v0"', "Content-Type": "application/merge-patch+json"})
    assert rewritten.status_code == 200 and data(rewritten)["customised"] == ["fr"]
    for citizen, language in (("jan@example.org", "fr"), ("piet@example.org", "nl")):
        with app.app_context(), database().unit_of_work() as session:
            if language == "nl":
                create_user(session, {"email": citizen, "display_name": "Piet", "preferred_language": "nl"})
        client.post("/t/aalst/v1/cases", json={"service": "eid-card", "form": eid_form(), "citizen": citizen},
                    headers=partner)
    worker = mail_worker(app, port)
    try:
        assert worker.run_once()["email delivered"] == 2
    finally:
        worker.close()
    subjects = {m["To"]: m["Subject"] for m in box.messages}
    french = subjects["Jan Peeters <jan@example.org>"]
    assert french.startswith("Ville d'Alost: Bien reçu : ") and "{" not in french
    assert text_of(next(m for m in box.messages if m["To"].endswith("<jan@example.org>")))[0].startswith(
        "Merci ! Ville d'Alost traite ")
    assert subjects["Piet <piet@example.org>"].startswith("Stad Aalst: Uw aanvraag ")  # the platform's words


def branding_of_tenant(app: Flask) -> Tenant:
    with app.app_context(), database().unit_of_work() as session:
        tenant = session.scalars(select(Tenant).where(Tenant.slug == "aalst")).one()
        session.expunge(tenant)
        return tenant



def test_a_message_of_several_lines_in_a_subject_still_makes_one_header_line() -> None:
    """A rule's message may hold line breaks; named in a subject, they must not stop the worker."""
    person = User(email="jan@example.org", display_name="Jan", preferred_language="fr")
    message = compose("citizen.informed", {"message": "Twee\nregels\u2028hier"}, person,
                      Brand({"fr": "Alost"}, "fr", "#c8102e", "#ffffff", None, None), "noreply@townhall.test",
                      ["fr"], {"fr": {"subject": "Note : {message}", "body": "{message}"}})
    assert message["Subject"] == "Alost: Note : Twee regels hier"
