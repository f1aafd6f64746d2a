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
from townhall.outbox.texts import TEXTS, Texts, effective
from townhall.services.registry import SERVICE_TYPES

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
            languages: Sequence[str], custom: Texts | None = None) -> EmailMessage:
    """Plain text and HTML, in the person's language if the municipality speaks it, in the
    municipality's own words (`custom`, its e-mail template) where it wrote them."""
    texts = effective(event_type, custom or {})
    language = next((lang for lang in (person.preferred_language or "", *languages) if lang in texts), "en")
    subject, body = texts[language]["subject"], texts[language]["body"]
    municipality = pick(brand.names, [language, brand.default_language])[1]
    service = SERVICE_TYPES.get(str(data.get("service")))
    values = {key: str(value) for key, value in data.items()} | {
        "municipality": municipality, "service": pick(service.names, [language])[1] if service else "",
        "status": str(data.get("to", data.get("status", ""))).replace("_", " ")}
    subject, text = subject.format_map(_Blank(values)), body.format_map(_Blank(values))
    message = EmailMessage()
    # One header line whatever the texts and values hold (a rule's message may have several lines):
    # the mail library refuses a header with a line break of any kind, and the worker with it.
    message["Subject"] = " ".join(f"{municipality}: {subject}".split())
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
