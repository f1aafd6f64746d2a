"""The e-mail each event sends, per language: the platform's own words, which a municipality may
replace with its own (`email_templates`), and the placeholders each may use."""

import string
from collections.abc import Mapping

Texts = Mapping[str, Mapping[str, str]]
"""language → {"subject": ..., "body": ...}."""

# Subject and body per event type and language; {placeholders} come from the event and the case.
DEFAULTS: dict[str, dict[str, tuple[str, str]]] = {
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



PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "case.created": ("reference", "service", "municipality"),
    "case.status-changed": ("reference", "service", "status", "municipality"),
    "case.message-added": ("reference", "service", "municipality"),
    "citizen.informed": ("message", "municipality"),
    "citizen.offered": ("message", "municipality"),
    "appointment.booked": ("start", "service", "municipality"),
    "appointment.reminder": ("start", "service", "municipality"),
    "webhook.disabled": ("url", "reason", "municipality"),
}
"""What each event's text may name in braces: what the worker fills in when it sends."""

TEXTS: dict[str, dict[str, dict[str, str]]] = {
    event: {language: {"subject": subject, "body": body} for language, (subject, body) in languages.items()}
    for event, languages in DEFAULTS.items()}
"""The platform's own words, in the shape a municipality's template takes."""


def text_problems(text: str, event_type: str) -> list[str]:
    """Why `text` cannot be a template of `event_type` (empty: it can): only `{name}` of the event's
    placeholders, nothing else in braces (no attribute, index, format or conversion)."""
    allowed = PLACEHOLDERS[event_type]
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return ["A brace that does not close: write {{ or }} for a brace itself."]
    problems = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed or spec or conversion:
            problems.append(f"{{{name}}} is not a placeholder here; use one of "
                            + ", ".join(f"{{{p}}}" for p in allowed) + ".")
    return problems


def effective(event_type: str, custom: Texts) -> dict[str, dict[str, str]]:
    """Each language's subject and body: the municipality's where it set them, the platform's otherwise."""
    return {language: dict(custom.get(language) or default) for language, default in TEXTS[event_type].items()}
