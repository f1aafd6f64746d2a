"""One error envelope for the whole API: RFC 9457 problem details (application/problem+json); on
the OAuth endpoints, RFC 6749 §5.2 errors, the shape OAuth clients read."""

import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from townhall.errors import Conflict, Forbidden, InvalidInput, NotFound, Refused, StaleVersion, TownhallError

PROBLEM_TYPE = "application/problem+json"
log = logging.getLogger("townhall.errors")

_DOMAIN_STATUS: dict[type[TownhallError], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    Forbidden: (403, "forbidden"),
    InvalidInput: (422, "validation_failed"),
    Refused: (422, "refused"),
    StaleVersion: (412, "precondition_failed"),
}


# RFC 6749 (token), RFC 7009 (revocation) and RFC 7662 (introspection) endpoints: every error they
# answer, ours or Flask's (405, 413, 414, 429, 503, ...), is `{"error", "error_description"}`.
OAUTH_ENDPOINTS = frozenset({"/oauth/token", "/oauth/revoke", "/oauth/introspect"})
_OAUTH_ERRORS = {401: "invalid_client", 403: "unauthorized_client", 429: "slow_down", 500: "server_error",
                 503: "temporarily_unavailable"}


def oauth_error(status: int, description: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    """An RFC 6749 §5.2 error; 429 is `slow_down` (RFC 8628's registered token endpoint error), other
    client errors without a code of their own `invalid_request`."""
    error = _OAUTH_ERRORS.get(status, "invalid_request" if status < 500 else "server_error")
    body = {"error": error, "error_description": description}
    response = Response(current_app.json.dumps(body), status=status, mimetype="application/json")
    for name, value in headers:
        if name.lower() != "content-type":
            response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def problem(
    status: int,
    detail: str | None = None,
    *,
    code: str | None = None,
    title: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    errors: Mapping[str, list[str]] | None = None,
) -> Response:
    if has_request_context() and request.path in OAUTH_ENDPOINTS:
        return oauth_error(status, detail or title or HTTPStatus(status).phrase, headers)
    body: dict[str, object] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["code"] = code or HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    if errors is not None:
        body["errors"] = dict(errors)
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    response = Response(current_app.json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    for name, value in headers:
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def http_error(kind: type[HTTPException], detail: str, code: str,
               headers: Iterable[tuple[str, str]] = ()) -> HTTPException:
    """A werkzeug HTTP error that our handler turns into a problem with this detail, code and headers."""
    error = kind()
    error.townhall_detail = detail  # type: ignore[attr-defined]
    error.townhall_code = code  # type: ignore[attr-defined]
    error.townhall_headers = list(headers)  # type: ignore[attr-defined]
    return error


def _http_error(error: HTTPException) -> Response:
    if isinstance(error, InternalServerError) and error.original_exception is not None:
        return _unexpected(error.original_exception)
    status = error.code or 500
    detail = getattr(error, "townhall_detail", None) or error.description
    if status == 429:  # Flask-Limiter's description is the limit itself
        detail = f"Too many requests ({detail}); retry after the seconds Retry-After gives."
    headers = [*error.get_headers(), *getattr(error, "townhall_headers", [])]
    return problem(status, detail, code=getattr(error, "townhall_code", None), headers=headers)


def _domain_error(error: TownhallError) -> Response:
    for kind, (status, code) in _DOMAIN_STATUS.items():
        if isinstance(error, kind):
            errors = error.errors if isinstance(error, InvalidInput) else None
            return problem(status, error.detail, code=getattr(error, "code", None) or code, errors=errors)
    return _unexpected(error)


def _unavailable(error: Exception) -> Response:
    log.warning("database unavailable", extra={"error_class": type(error).__name__})
    return problem(503, "The service is briefly unavailable; retry shortly.", code="unavailable",
                   headers=[("Retry-After", "1")])


def _unexpected(error: BaseException) -> Response:
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout):
        return _unavailable(error)
    log.error("unhandled error", exc_info=error)
    return problem(500, "Something went wrong on our side. Quote the request id when you report it.",
                   code="internal_error")


def _integrity(_error: IntegrityError) -> Response:
    """A uniqueness or reference rule of the database said no: a conflict, never a crash."""
    return problem(409, "This conflicts with data that exists already.", code="conflict")


def _lost_race(_error: StaleDataError) -> Response:
    """Two changes of the same version raced; the other one committed first."""
    return problem(412, "The resource changed while you changed it; read it again.", code="precondition_failed")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(TownhallError, _domain_error)
    app.register_error_handler(OperationalError, _unavailable)
    app.register_error_handler(InterfaceError, _unavailable)
    app.register_error_handler(PoolTimeout, _unavailable)
    app.register_error_handler(StaleDataError, _lost_race)
    app.register_error_handler(IntegrityError, _integrity)
    app.register_error_handler(Exception, _unexpected)
