"""Branded e-mail to citizens (and to tenant admins when a webhook is switched off): who hears of
which event, and the message in their language under their municipality's name and colours."""

import html
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.auth.models import Membership, User
from townhall.auth.scopes import TENANT_ADMIN
from townhall.localisation import pick
from townhall.outbox.models import OutboxEvent
from townhall.services.registry import SERVICE_TYPES

# Subject and body per event type and language; {placeholders} come from the event and the case.
TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "case.created": {
        "nl": ("Uw aanvraag {reference} is ontvangen", "We hebben uw aanvraag {reference} ({service}) goed ontvangen."),
        "fr": ("Votre demande {reference} est reçue", "Nous avons bien reçu votre demande {reference} ({service})."),
        "de": ("Ihr Antrag {reference} ist eingegangen", "Wir haben Ihren Antrag {reference} ({service}) erhalten."),
        "en": ("Your request {reference} has arrived", "We have received your request {reference} ({service})."),
    },
    "case.status-changed": {
        "nl": ("Nieuws over uw aanvraag {reference}", "Uw aanvraag {reference} ({service}) is nu: {status}."),
        "fr": ("Du nouveau pour votre demande {reference}",
               "Votre demande {reference} ({service}) est à présent : {status}."),
        "de": ("Neues zu Ihrem Antrag {reference}", "Ihr Antrag {reference} ({service}) ist jetzt: {status}."),
        "en": ("News about your request {reference}", "Your request {reference} ({service}) is now: {status}."),
    },
    "case.message-added": {
        "nl": ("Nieuw bericht over {reference}", "Er is een nieuw bericht over uw aanvraag {reference}."),
        "fr": ("Nouveau message pour {reference}", "Un nouveau message concerne votre demande {reference}."),
        "de": ("Neue Nachricht zu {reference}", "Es gibt eine neue Nachricht zu Ihrem Antrag {reference}."),
        "en": ("New message about {reference}", "There is a new message about your request {reference}."),
    },
    "citizen.informed": {
        "nl": ("Bericht van {municipality}", "{message}"), "fr": ("Message de {municipality}", "{message}"),
        "de": ("Nachricht von {municipality}", "{message}"), "en": ("A message from {municipality}", "{message}"),
    },
    "citizen.offered": {
        "nl": ("Een aanvraag klaar voor u", "{message}"), "fr": ("Une demande prête pour vous", "{message}"),
        "de": ("Ein Antrag für Sie vorbereitet", "{message}"), "en": ("A request ready for you", "{message}"),
    },
    "appointment.booked": {
        "nl": ("Uw afspraak op {start}", "Uw afspraak ({service}) staat vast op {start}."),
        "fr": ("Votre rendez-vous le {start}", "Votre rendez-vous ({service}) est fixé au {start}."),
        "de": ("Ihr Termin am {start}", "Ihr Termin ({service}) ist am {start}."),
        "en": ("Your appointment on {start}", "Your appointment ({service}) is booked for {start}."),
    },
    "appointment.reminder": {
        "nl": ("Herinnering: afspraak op {start}", "Tot binnenkort: uw afspraak ({service}) is op {start}."),
        "fr": ("Rappel : rendez-vous le {start}", "À bientôt : votre rendez-vous ({service}) est le {start}."),
        "de": ("Erinnerung: Termin am {start}", "Bis bald: Ihr Termin ({service}) ist am {start}."),
        "en": ("Reminder: appointment on {start}", "See you soon: your appointment ({service}) is on {start}."),
    },
    "webhook.disabled": {
        "nl": ("Webhook uitgeschakeld", "De webhook naar {url} is uitgeschakeld: {reason}"),
        "fr": ("Webhook désactivé", "Le webhook vers {url} est désactivé : {reason}"),
        "de": ("Webhook abgeschaltet", "Der Webhook an {url} wurde abgeschaltet: {reason}"),
        "en": ("Webhook switched off", "The webhook to {url} was switched off: {reason}"),
    },
}


CitizenOf = Callable[[Session, uuid.UUID, uuid.UUID], uuid.UUID | None]
"""The citizen a case (municipality, case id) is for. The cases package answers it: the outbox sits
below every feature and reads none of their tables."""


def recipients(session: Session, event: OutboxEvent, citizen_of: CitizenOf) -> list[uuid.UUID]:
    """Whom this event concerns: the case's citizen when the step is one they hear of, the person a
    proactive action or appointment is for, or the tenant admins (a webhook switched off)."""
    if event.type not in TEXTS or not _citizen_hears_of(event):
        return []
    data = event.data
    if event.type == "webhook.disabled":
        return list(session.scalars(select(Membership.user_id).where(Membership.tenant_id == event.tenant_id,
                                                                     Membership.role == TENANT_ADMIN)))
    if event.type.startswith("citizen."):
        return [uuid.UUID(event.subject)] if event.subject else []
    if event.type.startswith("appointment."):
        return [uuid.UUID(data["citizen"])]
    citizen = citizen_of(session, event.tenant_id, uuid.UUID(data["case"]))
    return [citizen] if citizen else []


def _citizen_hears_of(event: OutboxEvent) -> bool:
    """Not of their own messages, nor of internal steps (such as the neighbourhood check)."""
    data = event.data
    if event.type == "case.message-added":
        return not data.get("from_citizen")
    if event.type == "case.status-changed":
        service = SERVICE_TYPES.get(str(data.get("service")))
        step = service.workflow.transition(data["from"], data["to"]) if service else None
        return step is not None and step.informs_citizen
    return True


@dataclass(frozen=True)
class Brand:
    names: Mapping[str, str]  # the municipality's display name per language
    default_language: str
    primary_colour: str
    accent_colour: str
    logo_url: str | None
    reply_to: str | None


def compose(event_type: str, data: Mapping[str, Any], person: User, brand: Brand, sender: str,
            languages: Sequence[str]) -> EmailMessage:
    """Plain text and HTML, in the person's language if the municipality speaks it."""
    texts = TEXTS[event_type]
    language = next((lang for lang in (person.preferred_language or "", *languages) if lang in texts), "en")
    subject, body = texts[language]
    municipality = pick(brand.names, [language, brand.default_language])[1]
    service = SERVICE_TYPES.get(str(data.get("service")))
    values = {key: str(value) for key, value in data.items()} | {
        "municipality": municipality, "service": pick(service.names, [language])[1] if service else "",
        "status": str(data.get("to", data.get("status", ""))).replace("_", " ")}
    subject, text = subject.format_map(_Blank(values)), body.format_map(_Blank(values))
    message = EmailMessage()
    message["Subject"] = f"{municipality}: {subject}"
    message["From"] = formataddr((municipality, sender))
    message["To"] = formataddr((person.display_name, person.email))
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    if brand.reply_to:
        message["Reply-To"] = brand.reply_to
    message.set_content(f"{text}\n\n-- \n{municipality}\n")
    logo = f'<img src="{html.escape(brand.logo_url)}" alt="" height="40">' if brand.logo_url else ""
    message.add_alternative(
        f'<!doctype html><html lang="{language}"><body style="margin:0;font-family:sans-serif">'
        f'<div style="background:{html.escape(brand.primary_colour)};color:#fff;padding:16px">{logo} '
        f"<strong>{html.escape(municipality)}</strong></div>"
        f'<div style="padding:16px"><p>{html.escape(text)}</p></div>'
        f'<div style="border-top:4px solid {html.escape(brand.accent_colour)};padding:8px 16px;color:#555">'
        f"{html.escape(municipality)}</div></body></html>", subtype="html")
    return message


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""
