"""/console/: the consortium's console for platform operators: every municipality with its health
(open and overdue cases, deliveries waiting or given up, webhooks the platform disabled), a new
municipality, suspending or reactivating one, and its plan. Same sign-in, sessions and CSRF as the
municipalities' consoles; the same operations as the platform API."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, request, url_for

from api.access import ACCESS_ATTRIBUTE, public
from api.console.routes import refused
from api.console.sign_in import ConsoleClient, begin_sign_in, finish_sign_in, sign_out_answer
from api.console.texts import LANGUAGES
from api.console.web import Signed, csrf_ok, page, refusal, see_other, session_row, signed_in, text
from api.database import session
from tenants.models import TenantStatus
from tenants.operations import create_tenant, set_plan, set_status
from tenants.plans import DEFAULT_PLAN, PLANS
from tenants.queries import all_tenants, require_tenant
from townhall.auth.console_client import (
    CONSORTIUM_CLIENT_ID,
    CONSORTIUM_SCOPE,
    consortium_callback_url,
    ensure_consortium_console_client,
)
from townhall.auth.models import User, UserStatus
from townhall.auth.queries import Access
from townhall.cases.queries import queue_health
from townhall.errors import TownhallError
from townhall.outbox.queries import delivery_health
from townhall.tenancy import tenant_scope

consortium = Blueprint("consortium", __name__, url_prefix="/console", template_folder="templates")
View = TypeVar("View", bound=Callable[..., Any])
SHOWN = 100  # municipalities on the page, each with its health (one transaction, a few queries each)
NOBODY_HERE = Access(frozenset(), frozenset(), ())


def operator_page(view: View) -> View:
    """The page needs a signed-in platform operator; every POST must carry the session's CSRF token."""

    def guarded(*args: Any, **kwargs: Any) -> Any:
        row = session_row()
        if row is None or row.user_id is None:
            back = request.full_path if request.method == "GET" else request.path
            return see_other(url_for("consortium.sign_in", next=back.rstrip("?")))
        user = session().get(User, row.user_id)
        g.console = Signed(row, user, NOBODY_HERE) if user is not None else None
        if user is None or user.status is not UserStatus.ACTIVE or not user.is_platform_operator:
            return refusal(text()["not_operator"], 403)
        if request.method == "POST" and not csrf_ok(row):
            return refusal(text()["expired"], 400)
        return view(*args, **kwargs)

    guarded.__name__ = view.__name__
    guarded.__doc__ = view.__doc__
    setattr(guarded, ACCESS_ATTRIBUTE, "console:platform_operator")
    return guarded  # type: ignore[return-value]


def _client() -> ConsoleClient:
    base_url = current_app.config["TOWNHALL_SETTINGS"].base_url
    ensure_consortium_console_client(session(), base_url)
    return ConsoleClient(CONSORTIUM_CLIENT_ID, consortium_callback_url(base_url), CONSORTIUM_SCOPE, "/console")


@consortium.get("/sign-in")
@public  # starts the sign-in at the authorization server
def sign_in() -> Response:
    return begin_sign_in(_client(), request.args.get("next"))


@consortium.get("/callback")
@public  # the authorization server sends the person back here; the state binds it to the session
def callback() -> Response:
    return finish_sign_in(_client())


@consortium.post("/sign-out")
@operator_page
def sign_out() -> Response:
    return sign_out_answer(signed_in().row, url_for("consortium.signed_out"))


@consortium.get("/signed-out")
@public
def signed_out() -> Response:
    return page("signed_out.html", sign_in_url=url_for("consortium.sign_in"))


def _health() -> list[dict[str, Any]]:
    today = datetime.now(UTC).date()
    rows = []
    for tenant in all_tenants(session(), limit=SHOWN):
        with tenant_scope(session(), tenant.id):
            queue = queue_health(session(), tenant.id, today)
            pending, dead, disabled = delivery_health(session(), tenant.id)
        rows.append({"tenant": tenant, "open": queue.open, "overdue": queue.overdue, "pending": pending,
                     "dead": dead, "disabled": disabled})
    return rows


def _home(status: int = 200, errors: dict[str, list[str]] | None = None, **values: Any) -> Response:
    return page("consortium.html", status=status, section="consortium", municipalities=_health(), errors=errors,
                all_languages=LANGUAGES, plans=PLANS, typed=values.pop("typed", {}), **values)


@consortium.get("/")
@operator_page
def home() -> Response:
    return _home()


@consortium.post("/municipalities")
@operator_page
def create_municipality() -> Response:
    form = request.form
    typed = {"slug": form.get("slug", "").strip().lower()[:63], "nis_code": form.get("nis_code", "").strip()[:5],
             "default_language": form.get("default_language", ""), "languages": form.getlist("languages"),
             "names": {code: name for code in LANGUAGES if (name := form.get(f"names.{code}", "").strip())},
             "plan": form.get("plan", DEFAULT_PLAN)}
    try:
        with session().begin_nested():
            create_tenant(session(), typed, f"user:{signed_in().user.id}")
    except TownhallError as error:
        return _home(422, refused(error), typed=typed)
    return see_other(url_for("consortium.home", done="saved"))


@consortium.post("/municipalities/<slug:slug>/status")
@operator_page
def change_status(slug: str) -> Response:
    tenant = require_tenant(session(), slug)
    wanted = TenantStatus.SUSPENDED if request.form.get("status") == "suspended" else TenantStatus.ACTIVE
    if set_status(session(), tenant, wanted, f"user:{signed_in().user.id}"):
        current_app.extensions["townhall.tenant_cache"].forget(slug)
    return see_other(url_for("consortium.home", done="saved"))


@consortium.post("/municipalities/<slug:slug>/plan")
@operator_page
def change_plan(slug: str) -> Response:
    tenant = require_tenant(session(), slug)
    try:
        with session().begin_nested():
            changed = set_plan(session(), tenant, request.form.get("plan", ""), f"user:{signed_in().user.id}")
    except TownhallError as error:
        return _home(422, refused(error))
    if changed:
        current_app.extensions["townhall.tenant_cache"].forget(slug)
    return see_other(url_for("consortium.home", done="saved" if changed else "unchanged"))
