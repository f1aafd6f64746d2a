"""/t/<tenant>/v1/admin/email-templates: the words of each e-mail the municipality sends its citizens
(and its admins), per language, which its tenant admins may rewrite (`config:write`)."""

from typing import Any

from flask import Response, g, jsonify
from werkzeug.routing import BaseConverter

from api.database import session
from api.http import json_object, patched, require_if_match, version_etag, versioned
from api.oauth.protect import requires
from api.principal import principal
from api.tenant_api import tenant_api
from townhall.errors import NotFound
from townhall.outbox.models import EmailTemplate
from townhall.outbox.operations import save_email_template
from townhall.outbox.queries import email_template_of, email_templates_of
from townhall.outbox.texts import PLACEHOLDERS, effective


class EventTypeConverter(BaseConverter):
    """An event type as the outbox names it (`case.created`); anything else is 404 at once."""

    regex = r"[a-z]+(?:[.-][a-z]+){1,3}"


def template_view(event_type: str, template: EmailTemplate | None) -> dict[str, Any]:
    custom = template.texts if template else {}
    return {"event_type": event_type, "placeholders": list(PLACEHOLDERS[event_type]),
            "texts": effective(event_type, custom), "customised": sorted(custom)}


def _known(event_type: str) -> EmailTemplate | None:
    if event_type not in PLACEHOLDERS:
        raise NotFound("No e-mail is sent for this event.")
    return email_template_of(session(), g.tenant.id, event_type)


def _one(event_type: str, template: EmailTemplate | None) -> Response:
    """Never rewritten: version 0, so a first change names `"v0"` in If-Match."""
    return versioned(template_view(event_type, template), template.version if template else 0)


@tenant_api.get("/admin/email-templates")
@requires("config:write")
def list_email_templates() -> Response:
    templates = email_templates_of(session(), g.tenant.id)
    return jsonify(items=[template_view(event, templates.get(event)) for event in PLACEHOLDERS], next=None)


@tenant_api.get("/admin/email-templates/<event_type:event_type>")
@requires("config:write")
def get_email_template(event_type: str) -> Response:
    return _one(event_type, _known(event_type))


@tenant_api.put("/admin/email-templates/<event_type:event_type>")
@requires("config:write")
def replace_email_template(event_type: str) -> Response:
    """The texts whole: a language left out goes back to the platform's words."""
    template = _known(event_type)
    require_if_match(version_etag(template.version if template else 0))
    saved = save_email_template(session(), g.tenant.id, event_type, json_object(), template,
                                actor=principal().actor)
    return _one(event_type, saved)


@tenant_api.patch("/admin/email-templates/<event_type:event_type>")
@requires("config:write")
def change_email_template(event_type: str) -> Response:
    """A JSON Merge Patch of `texts`: a subject or body changes alone, `null` resets a language."""
    template = _known(event_type)
    current = {"texts": effective(event_type, template.texts if template else {})}
    merged = patched(current, version_etag(template.version if template else 0))
    saved = save_email_template(session(), g.tenant.id, event_type, merged, template, actor=principal().actor)
    return _one(event_type, saved)
