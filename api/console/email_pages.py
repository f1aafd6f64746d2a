"""The e-mails the municipality sends, in its own words: a form per event over the same kernel
operation (and placeholder checks) as `/v1/admin/email-templates`."""

from flask import Response, g, request, url_for

from api.console.routes import console, refused
from api.console.texts import LANGUAGES
from api.console.web import console_page, page, see_other, text
from api.database import session
from api.principal import principal
from townhall.errors import NotFound, TownhallError
from townhall.outbox.models import EmailTemplate
from townhall.outbox.operations import save_email_template
from townhall.outbox.queries import email_template_of, email_templates_of
from townhall.outbox.texts import PLACEHOLDERS, TEXTS, Texts, effective


@console.get("/emails")
@console_page("config:write")
def emails() -> Response:
    templates = email_templates_of(session(), g.tenant.id)
    return page("emails.html", section="emails", events=PLACEHOLDERS,
                customised={event: sorted(t.texts) for event, t in templates.items()})


def _template(event_type: str) -> EmailTemplate | None:
    if event_type not in PLACEHOLDERS:
        raise NotFound("No e-mail is sent for this event.")
    return email_template_of(session(), g.tenant.id, event_type)


def _email_page(event_type: str, template: EmailTemplate | None, shown: Texts, status: int = 200,
                errors: dict[str, list[str]] | None = None) -> Response:
    return page("email.html", status=status, section="emails", event_type=event_type, texts=shown,
                defaults=TEXTS[event_type], placeholders=PLACEHOLDERS[event_type], all_languages=LANGUAGES,
                version=template.version if template else 0, errors=errors)


@console.get("/emails/<event_type:event_type>")
@console_page("config:write")
def email(event_type: str) -> Response:
    template = _template(event_type)
    return _email_page(event_type, template, effective(event_type, template.texts if template else {}))


@console.post("/emails/<event_type:event_type>")
@console_page("config:write")
def save_email(event_type: str) -> Response:
    """A language whose subject and body are both empty, or `reset` ticked, sends the platform's words."""
    template = _template(event_type)
    form = request.form
    texts = {language: {"subject": form.get(f"{language}.subject", "").strip(),
                        "body": form.get(f"{language}.body", "").strip().replace("\r\n", "\n")}
             for language in LANGUAGES if form.get(f"{language}.reset") != "on"}
    texts = {language: value for language, value in texts.items() if value["subject"] or value["body"]}
    if form.get("version") != str(template.version if template else 0):
        return _email_page(event_type, template, effective(event_type, texts), 409, {"": [text()["stale"]]})
    try:
        with session().begin_nested():
            save_email_template(session(), g.tenant.id, event_type, {"texts": texts}, template,
                                actor=principal().actor)
    except TownhallError as error:
        return _email_page(event_type, template, effective(event_type, texts), 422, refused(error))
    return see_other(url_for("console.email", event_type=event_type, done="saved"))
