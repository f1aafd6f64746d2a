"""/t/<tenant>/: the municipality's portal for citizens. Its catalogue (what it offers, the fee, how
long it takes, what to bring) for anyone; signed in, the person's cases in every municipality of the
consortium, each with its timeline, documents and the fee to pay. Every page reads and writes
through the kernel's queries and operations, as the API does."""

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, g, request, url_for

from api.access import public
from api.console.sign_in import begin_sign_in, finish_sign_in, sign_out_answer
from api.console.web import see_other
from api.database import session
from api.portal.form_texts import choice, label
from api.portal.forms import fields_of, posted
from api.portal.web import (
    case_visits,
    citizen_page,
    cookie,
    own_case,
    page,
    portal_client,
    preferred,
    refusal,
    service_name,
    signed_in,
    text,
)
from api.tenant_api import current_municipality, resolve_tenant, tenant_cache
from tenants.queries import slugs_by_id
from townhall.appointments.queries import counters_serving, offices_of
from townhall.cases.operations import add_message, open_case
from townhall.cases.queries import document, documents, messages, recent_own_cases, timeline
from townhall.errors import Conflict, InvalidInput, NotFound, Refused
from townhall.forms import json_schema
from townhall.localisation import pick
from townhall.payments.operations import start_online
from townhall.payments.provider import ProviderUnavailable
from townhall.payments.queries import paid_payment, payments_of_case
from townhall.proactive.operations import accept_offer, decline_offer
from townhall.proactive.queries import actions_for
from townhall.services.queries import catalogue, catalogue_entry
from townhall.services.registry import SERVICE_TYPES
from townhall.tenancy import person_scope

portal = Blueprint("portal", __name__, url_prefix="/t/<slug:tenant>", template_folder="templates")
portal.url_value_preprocessor(resolve_tenant)


@portal.url_defaults
def _current_tenant(_endpoint: str, values: dict[str, Any]) -> None:
    if "tenant" not in values and g.get("tenant") is not None:
        values["tenant"] = g.tenant.slug

MY_CASES = 100  # the most recent a person sees on one page


def _euros(cents: int) -> str:
    return f"€ {cents // 100},{cents % 100:02d}"


@portal.get("/")
@public
def home() -> Response:
    wanted = preferred()
    services = []
    for entry in catalogue(session(), g.tenant.id):
        service = SERVICE_TYPES.get(entry.service)
        if service is None:
            continue
        services.append({
            "code": entry.service, "name": pick(entry.names or service.names, wanted)[1],
            "description": pick(entry.descriptions or service.descriptions, wanted)[1],
            "fee": _euros(entry.fee_cents) if entry.fee_cents else None,
            "processing_days": entry.processing_days, "evidence": list(service.evidence),
            "channels": list(entry.channels)})
    services.sort(key=lambda found: str(found["name"]).casefold())
    return page("home.html", services=services)


@portal.get("/sign-in")
@public  # starts the sign-in at the authorization server
def sign_in() -> Response:
    return begin_sign_in(portal_client(), request.args.get("next"))


@portal.get("/callback")
@public  # the authorization server sends the person back here; the state binds it to the session
def callback() -> Response:
    return finish_sign_in(portal_client())


@portal.post("/sign-out")
@citizen_page
def sign_out() -> Response:
    return sign_out_answer(signed_in().row, url_for("portal.home"), cookie())


def _municipality_name(slug: str) -> str:
    found = tenant_cache().tenant(session(), slug)
    return pick(found.names, preferred())[1] if found is not None else slug


@portal.get("/cases")
@citizen_page
def my_cases() -> Response:
    """The person's own cases in every municipality of the consortium, the most recent first."""
    person = signed_in().user.id
    with person_scope(session(), person):
        found = recent_own_cases(session(), person, MY_CASES)
    slugs = slugs_by_id(session(), [case.tenant_id for case in found])
    names = {slug: _municipality_name(slug) for slug in set(slugs.values())}
    cases = [{"reference": case.reference, "service": service_name(case.service), "status": case.status,
              "municipality": names[slugs[case.tenant_id]], "due": case.due_on.isoformat(),
              "url": url_for("portal.case_page", tenant=slugs[case.tenant_id], case_id=case.id)}
             for case in found]
    return page("cases.html", cases=cases)


@portal.get("/cases/<uuid:case_id>")
@citizen_page
def case_page(case_id: uuid.UUID) -> Response:
    return _case_page(case_id)


@portal.post("/cases/<uuid:case_id>/messages")
@citizen_page
def send_message(case_id: uuid.UUID) -> Response:
    """A message to the staff handling the case (the kernel checks it, as for the API)."""
    case = own_case(case_id)
    if case is None:
        return refusal(text()["no_case"], 404)
    try:
        with session().begin_nested():
            add_message(session(), case, g.principal.actor, True, request.form.get("body", ""))
    except InvalidInput as error:
        return _case_page(case_id, 422, error.errors.get("body", [error.detail]))
    return see_other(url_for("portal.case_page", case_id=case.id) + "#messages")


def _case_page(case_id: uuid.UUID, status: int = 200, message_errors: list[str] | None = None) -> Response:
    case = own_case(case_id)
    if case is None:
        return refusal(text()["no_case"], 404)
    payments = payments_of_case(session(), g.tenant.id, case.id)
    payable = case.status == "fee_due" and case.fee_cents > 0 and paid_payment(session(), g.tenant.id,
                                                                                 case.id) is None
    visits = case_visits(case.id)
    service = SERVICE_TYPES.get(case.service)
    can_visit = service is not None and case.status not in service.workflow.terminal and bool(
        counters_serving(session(), g.tenant.id, case.service))
    return page("case.html", status=status, case=case, service=service_name(case.service), fee=_euros(case.fee_cents),
                visits=visits, can_visit=can_visit,
                steps=timeline(session(), g.tenant.id, case.id, for_citizen=True),
                documents=documents(session(), g.tenant.id, case.id), payments=payments, payable=payable,
                messages=messages(session(), g.tenant.id, case.id), message_errors=message_errors,
                online=current_app.extensions.get("townhall.payments") is not None,
                notice=text()["paid_wait"] if request.args.get("paid") == "1" and payable else None)


@portal.post("/cases/<uuid:case_id>/pay")
@citizen_page
def pay(case_id: uuid.UUID) -> Response:
    """The fee paid online: a payment at the provider, and the citizen sent to its checkout. The
    case moves on only when the provider confirms the payment (townhall.payments)."""
    case = own_case(case_id)
    if case is None:
        return refusal(text()["no_case"], 404)
    provider = current_app.extensions.get("townhall.payments")
    if provider is None:
        return refusal(text()["pay_at_counter"], 409)
    back = url_for("portal.case_page", case_id=case.id, paid=1)
    base_url = current_app.config["TOWNHALL_SETTINGS"].base_url
    try:
        payment = start_online(session(), provider, current_municipality(), case, g.principal.actor, base_url + back)
    except ProviderUnavailable:
        return refusal(text()["provider_down"], 502)
    except Conflict as error:  # paid meanwhile, or no fee due any more
        return refusal(error.detail, 409)
    return see_other(str(payment.checkout_url))


@portal.get("/cases/<uuid:case_id>/documents/<uuid:document_id>")
@citizen_page
def download(case_id: uuid.UUID, document_id: uuid.UUID) -> Response:
    case = own_case(case_id)
    found = document(session(), g.tenant.id, case.id, document_id) if case is not None else None
    if found is None:
        return refusal(text()["no_case"], 404)
    response = Response(current_app.extensions["townhall.storage"].get(found.storage_key), mimetype=found.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{found.filename}"'
    return response


def _offered_entry(code: str) -> Any:
    entry = catalogue_entry(session(), g.tenant.id, code)
    return entry if entry is not None and entry.enabled and code in SERVICE_TYPES else None


MAPPED = frozenset({"public-space-report"})  # the services whose form has a place to pin
BELGIUM = (50.85, 4.35)  # where the map opens for a municipality without an office yet


def _map(code: str) -> dict[str, Any] | None:
    """The map that fills a report's latitude and longitude, if tiles are set up."""
    settings = current_app.config["TOWNHALL_SETTINGS"]
    if code not in MAPPED or not settings.map_tiles_url:
        return None
    offices = offices_of(session(), g.tenant.id)
    lat, long = (offices[0][0].lat, offices[0][0].long) if offices else BELGIUM
    return {"tiles": settings.map_tiles_url, "attribution": settings.map_attribution, "lat": lat, "long": long}


@portal.route("/apply/<string(maxlength=63):code>", methods=["GET", "POST"])
@citizen_page
def apply(code: str) -> Response:
    """Apply for a service with the form its published schema describes; the kernel opens the case
    as it does for the API, and its messages are shown at the fields."""
    entry = _offered_entry(code)
    if entry is None:
        return refusal(text()["not_offered"], 404)
    service = SERVICE_TYPES[code]
    fields = fields_of(json_schema(service.form))
    values: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = {name: value for name, value in request.form.items() if name != "csrf"}
        today = datetime.now(ZoneInfo(g.tenant.time_zone)).date()
        try:
            with session().begin_nested():
                case, _ = open_case(session(), current_app.extensions["townhall.storage"], current_municipality(),
                                    code, posted(fields, request.form, request.files), signed_in().user.id,
                                    g.principal.actor, today, preferred())
            return see_other(url_for("portal.case_page", case_id=case.id))
        except InvalidInput as error:
            errors = {name.removeprefix("form."): messages for name, messages in error.errors.items()}
        except Refused as error:
            errors = {"": [error.detail]}
        status = 422
    return page("apply.html", status=status, code=code, fields=fields, values=values, errors=errors, map=_map(code),
                service=pick(entry.names or service.names, preferred())[1],
                fee=_euros(entry.fee_cents) if entry.fee_cents else None, label=label, choice=choice)


@portal.get("/for-you")
@citizen_page
def for_you() -> Response:
    return _for_you_page()


def _for_you_page(status: int = 200, errors: dict[str, list[str]] | None = None,
                  failed: uuid.UUID | None = None) -> Response:
    """What the municipality did or offers on its own initiative for the person, newest first."""
    actions = []
    for action in reversed(actions_for(session(), g.tenant.id, signed_in().user.id)):
        service = SERVICE_TYPES.get(action.service or "")
        needed = [found for found in fields_of(json_schema(service.form)) if found.kind == "file"
                  and found.name not in action.form] if service is not None else []
        actions.append({"action": action, "service": service_name(action.service) if action.service else None,
                        "needed": needed, "errors": errors if action.id == failed else {}})
    return page("for_you.html", status=status, actions=actions, label=label)


@portal.post("/for-you/<uuid:action_id>/accept")
@citizen_page
def accept_offer_page(action_id: uuid.UUID) -> Response:
    """Yes to an offer: its pre-filled case is opened, completed with what the citizen adds (a photo)."""
    found = next((a for a in actions_for(session(), g.tenant.id, signed_in().user.id) if a.id == action_id), None)
    service = SERVICE_TYPES.get(found.service or "") if found is not None else None
    if found is None or service is None:
        return refusal(text()["no_offer"], 404)
    completed = posted([f for f in fields_of(json_schema(service.form)) if f.kind == "file"], request.form,
                       request.files)
    try:
        with session().begin_nested():
            action = accept_offer(session(), current_municipality(), current_app.extensions["townhall.storage"],
                                  action_id, signed_in().user.id, datetime.now(ZoneInfo(g.tenant.time_zone)).date(),
                                  preferred(), completed)
    except InvalidInput as error:
        return _for_you_page(422, {name.removeprefix("form."): m for name, m in error.errors.items()}, action_id)
    except (Conflict, Refused) as error:
        return _for_you_page(409 if isinstance(error, Conflict) else 422, {"": [error.detail]}, action_id)
    return see_other(url_for("portal.case_page", case_id=action.case_id))


@portal.post("/for-you/<uuid:action_id>/decline")
@citizen_page
def decline_offer_page(action_id: uuid.UUID) -> Response:
    try:
        with session().begin_nested():
            decline_offer(session(), g.tenant.id, action_id, signed_in().user.id)
    except NotFound:
        return refusal(text()["no_offer"], 404)
    except Conflict as error:
        return _for_you_page(409, {"": [error.detail]}, action_id)
    return see_other(url_for("portal.for_you"))
