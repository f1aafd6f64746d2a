"""The application factory: the composition root that wires kernel, tenancy and HTTP together."""

import inspect
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, Response, g
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from werkzeug.middleware.proxy_fix import ProxyFix

from api.access import check_declarations
from api.auditing import audit_request
from api.clients.routes import ClientIdConverter
from api.database import close_session, open_database, script_heads
from api.email_templates.routes import EventTypeConverter
from api.errors import register_error_handlers
from api.invalidation import install_caches
from api.json_provider import OrjsonProvider
from api.limits import install_limits
from api.logging import configure_logging, install_request_logging
from api.oauth.keyring import Keyring
from api.oauth.protect import VerifiedTokens, create_resource_protector
from api.oauth.server import create_authorization_server
from api.rate_limits import install_rate_limits
from api.request_checks import install_request_checks
from api.settings import Settings
from api.tenant_api import SlugConverter, leave_request_tenant
from townhall.audit.operations import append_and_commit
from townhall.audit.read_log import ReadLog
from townhall.payments.mollie import MollieProvider
from townhall.storage import LocalDiskStorage


class CookieSessionsWhenSent(SecureCookieSessionInterface):
    """Flask's signed-cookie session (the sign-in pages use it), without its work for requests that
    carry no cookie at all (every API call): an empty session is handed out, and saved only if written."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if "HTTP_COOKIE" not in request.environ or app.config["SESSION_COOKIE_NAME"] not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if session or session.modified or session.accessed:
            super().save_session(app, session, response)


class Townhall(Flask):
    """Flask with one commit point: a view that returns normally commits the request's session."""

    session_interface = CookieSessionsWhenSent()
    json_provider_class = OrjsonProvider

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # Every view and hook is synchronous (`check_synchronous` refuses others at start): Flask's
        # coroutine check would otherwise run for each of them on every request.
        return func

    def dispatch_request(self) -> Any:
        result = super().dispatch_request()
        current = g.get("db_session")
        if current is not None:
            response = self.make_response(result)
            entry = audit_request(response)  # in the same transaction as the change it records
            if entry is None:
                current.commit()
            else:
                append_and_commit(current, *entry)
            return response
        return result


def check_synchronous(app: Flask) -> None:
    """The app calls views, hooks and error handlers as they are (`Townhall.ensure_sync`): a
    coroutine function among them would answer with an unawaited coroutine, so none may start."""
    groups = [app.view_functions.values(), app.teardown_appcontext_funcs,
              *app.before_request_funcs.values(), *app.after_request_funcs.values(),
              *app.teardown_request_funcs.values(),
              *(handlers.values() for codes in app.error_handler_spec.values() for handlers in codes.values())]
    found = sorted(getattr(f, "__qualname__", repr(f))
                   for group in groups for f in group if inspect.iscoroutinefunction(f))
    if found:
        raise RuntimeError(f"asynchronous views, hooks or error handlers: {', '.join(found)}")


SECURITY_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
                    ("X-Frame-Options", "DENY"), ("Cache-Control", "no-store"))


def _security_headers(response: Response) -> Response:
    present = {name.lower() for name in response.headers.keys()}  # noqa: SIM118  (Headers iterates pairs)
    response.headers.extend([(name, value) for name, value in SECURITY_HEADERS if name.lower() not in present])
    return response


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    app = Townhall("api", instance_path=str(settings.instance_path), static_folder=None)
    app.config.update(
        TOWNHALL_SETTINGS=settings,
        # The largest body at all is a document upload; JSON bodies are held to max_body_bytes.
        MAX_CONTENT_LENGTH=max(settings.max_body_bytes, settings.max_document_bytes + 65_536),
        TOWNHALL_OPENAPI=(settings.home / "openapi.yaml").read_bytes(),
        TOWNHALL_MIGRATION_HEADS=script_heads(settings),
    )
    app.secret_key = settings.session_secret()
    app.config.update(
        SESSION_COOKIE_NAME="townhall_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
    )
    app.extensions["townhall.database"] = database = open_database(settings)
    if database.backend == "postgresql" and settings.audit_reads_seconds:
        app.extensions["townhall.read_log"] = ReadLog(database, settings.audit_reads_seconds)
    app.extensions["townhall.storage"] = LocalDiskStorage(settings.instance_path / "storage")
    if settings.mollie_api_key:  # online payment of fees (townhall.payments); the counter works without
        app.extensions["townhall.payments"] = MollieProvider(settings.mollie_api_key, settings.mollie_api_url)
    keyring = Keyring(settings.access_token_lifetime, settings.signing_key_cache_seconds)
    app.extensions["townhall.keyring"] = keyring
    install_caches(app, settings, keyring)  # tenant facts and revocations, kept true across processes
    app.extensions["townhall.oauth"] = create_authorization_server(app, settings, keyring)
    app.extensions["townhall.verified_tokens"] = verified = VerifiedTokens(settings.verified_token_cache_seconds)
    app.extensions["townhall.resource_protector"] = create_resource_protector(settings.base_url, keyring, verified)
    app.url_map.converters["slug"] = SlugConverter
    app.url_map.converters["client_id"] = ClientIdConverter
    app.url_map.converters["event_type"] = EventTypeConverter
    app.url_map.strict_slashes = False

    install_request_logging(app)
    register_error_handlers(app)
    install_request_checks(app)
    app.after_request(_security_headers)
    app.teardown_request(leave_request_tenant)
    app.teardown_appcontext(close_session)

    from api import blueprints  # noqa: PLC0415  (imports every route module once)

    for blueprint in blueprints.ALL:
        app.register_blueprint(blueprint)
    app.extensions["townhall.limiter"] = install_limits(app, settings)
    install_rate_limits(app)  # the APIs' quotas per municipality and client, and per citizen
    check_declarations(app)
    check_synchronous(app)
    if settings.trusted_proxy_hops:
        # Behind that many proxies the client's address (rate-limit keys), scheme and host are the
        # ones they forwarded; with none, those headers are anyone's to forge and are ignored.
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app
