"""Checks every request passes before any view runs: what no field of the API may ever hold."""

from typing import Any

from flask import Flask, request
from werkzeug.exceptions import BadRequest, NotFound, RequestHeaderFieldsTooLarge, RequestURITooLarge

from api.errors import http_error
from townhall.errors import InvalidInput

# JSON numbers are refused beyond 64 bits: neither the rule engine nor the databases hold them.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
NUL = "\x00"
# The app's own limits on a request's head. gunicorn's (gunicorn.conf.py) are set above them, so that
# these requests reach the app and are answered as problems rather than by gunicorn's HTML page.
MAX_REQUEST_TARGET = 8192
MAX_HEADER_FIELD = 8192
MAX_HEADERS_TOTAL = 32768


def check_json_values(data: Any) -> None:
    """NUL characters (PostgreSQL text cannot store them) and integers past 64 bits, anywhere in a
    JSON document, are a 422 naming each place, before any query runs."""
    errors: dict[str, list[str]] = {}
    pending: list[tuple[str, Any]] = [("", data)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, str):
            if NUL in value:
                errors[where or "_schema"] = ["Must not contain NUL characters."]
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int | float):
            # The JSON parser reads a whole number past 64 bits as an inexact float: refuse both.
            if not INT64_MIN <= value <= INT64_MAX or (isinstance(value, float) and abs(value) >= 2**63):
                errors[where or "_schema"] = ["Must be a number between -2^63 and 2^63-1."]
        elif isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{key}" if where else str(key)
                if NUL in key:
                    errors[path.replace(NUL, "\\u0000")] = ["Names must not contain NUL characters."]
                else:
                    pending.append((path, item))
        elif isinstance(value, list):
            pending.extend((f"{where}.{index}" if where else str(index), item) for index, item in enumerate(value))
    if errors:
        raise InvalidInput(errors)


def _check_head() -> None:
    """414 for a path and query past 8 KiB, 431 for a header field past 8 KiB or headers past 32 KiB."""
    target = request.environ.get("RAW_URI") or request.full_path
    if len(target) > MAX_REQUEST_TARGET:
        raise http_error(RequestURITooLarge, f"Keep the path and query under {MAX_REQUEST_TARGET} bytes.",
                         "uri_too_long")
    sizes = [len(name) + len(value) + 2 for name, value in request.headers.items()]
    if any(size > MAX_HEADER_FIELD for size in sizes) or sum(sizes) > MAX_HEADERS_TOTAL:
        raise http_error(RequestHeaderFieldsTooLarge, f"Keep each header field under {MAX_HEADER_FIELD} bytes "
                         f"and all of them under {MAX_HEADERS_TOTAL}.", "headers_too_large")


def _check_query_and_form() -> None:
    """Every query parameter of the API holds one value: a repeated one (`?limit=1&limit=500`) is
    refused rather than silently read as its first value; no parameter or form field holds NUL."""
    repeated = sorted({name for name, values in request.args.lists() if len(values) > 1})
    if repeated:
        raise http_error(BadRequest, f"Give each query parameter once: {', '.join(repeated)} repeated.",
                         "invalid_parameter")
    if NUL in request.path:  # no resource is named so; PostgreSQL would refuse the lookup
        raise http_error(NotFound, "Nothing is found at this path.", "not_found")
    if any(NUL in name or NUL in value for name, value in request.args.items()):
        raise http_error(BadRequest, "Query parameters must not contain NUL characters.", "invalid_parameter")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields = [*request.form.items(multi=True), *((name, file.filename or "")
                                                     for name, file in request.files.items(multi=True))]
        if any(NUL in (name or "") or NUL in (value or "") for name, value in fields):  # a part may lack a name
            raise http_error(BadRequest, "Form fields must not contain NUL characters.", "invalid_parameter")


def install_request_checks(app: Flask) -> None:
    app.before_request(_check_head)
    app.before_request(_check_query_and_form)
