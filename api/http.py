"""Request and response helpers shared by every route: JSON bodies, ETags and preconditions."""

import base64
import hashlib
import uuid
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, request
from marshmallow import Schema
from werkzeug.exceptions import (
    BadRequest,
    PreconditionFailed,
    PreconditionRequired,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)

from api.errors import http_error
from api.request_checks import check_json_values
from townhall.validation import load


def json_body(schema: type[Schema], *, partial: bool = False) -> dict[str, Any]:
    """The request's JSON object, loaded by `schema` (415, 400 and 422 problems otherwise)."""
    return load(schema, json_object(), partial=partial)


def json_object() -> dict[str, Any]:
    """The request's body as a JSON object (415 and 400 problems otherwise), not yet validated."""
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise http_error(UnsupportedMediaType, "Send the body as application/json.", "unsupported_media_type")
    if (request.content_length or 0) > current_app.config["TOWNHALL_SETTINGS"].max_body_bytes:
        raise RequestEntityTooLarge()
    raw = request.get_data(cache=True)  # over the size limit: 413 from werkzeug
    try:
        data = current_app.json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise http_error(BadRequest, "The body is not valid JSON.", "malformed_json") from error
    if not isinstance(data, dict):
        raise http_error(BadRequest, "The body must be a JSON object.", "malformed_json")
    check_json_values(data)
    return data


MERGE_PATCH = "application/merge-patch+json"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: `patch`'s members replace the target's, `null` removes one, objects merge deeply;
    anything but an object replaces the whole target."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = merge_patch(merged.get(name), value)
    return merged


def patched(current: dict[str, Any], current_etag: str) -> dict[str, Any]:
    """`current` with the request's JSON Merge Patch applied (RFC 7396; sent as
    `application/merge-patch+json` or `application/json`), `If-Match` naming the version read: 415,
    428 and 412 problems otherwise."""
    if request.mimetype == "application/json-patch+json":
        raise http_error(UnsupportedMediaType, f"Send a JSON Merge Patch ({MERGE_PATCH}, RFC 7396), not a JSON "
                         "Patch.", "unsupported_media_type")
    require_if_match(current_etag)  # before the body, as every update here (docs/api.md)
    result: dict[str, Any] = merge_patch(current, json_object())
    return result


def strong_etag(payload: bytes) -> str:
    return '"' + hashlib.blake2b(payload, digest_size=12).hexdigest() + '"'


def version_etag(version: int) -> str:
    """The strong ETag of a versioned row: what `If-Match` must name to change it."""
    return f'"v{version}"'


def versioned(body: dict[str, Any], version: int, status: int = 200) -> Response:
    """A JSON answer about one versioned row, with its ETag."""
    text = current_app.json.dumps(body)
    return Response(text, status, {"ETag": version_etag(version)}, mimetype="application/json")


def bad_parameter(detail: str) -> Exception:
    """A 400 problem for a query parameter this API cannot use."""
    return http_error(BadRequest, detail, "invalid_parameter")


def bad_cursor() -> Exception:
    """A 400 problem for a cursor this API did not give out: only its own `next` links are valid."""
    return http_error(BadRequest, "cursor is not one this API gave out.", "invalid_cursor")


def id_cursor(cursor: str | None) -> uuid.UUID | None:
    """The position of an id-ordered list page, from `page_params`' cursor."""
    try:
        return uuid.UUID(cursor) if cursor else None
    except ValueError as error:
        raise bad_cursor() from error


def require_if_match(current_etag: str) -> None:
    """Updates must name the version they change: 428 without If-Match, 412 when it is stale."""
    header = request.headers.get("If-Match")
    if header is None:
        raise http_error(PreconditionRequired, "Send If-Match with the ETag you read.", "precondition_required")
    tags = [tag.strip() for tag in header.split(",")]
    if "*" not in tags and current_etag not in tags:  # strong comparison: W/ tags never match
        raise http_error(PreconditionFailed, "The resource changed since you read it.", "precondition_failed")


def cacheable_json(body: dict[str, Any], *, max_age: int, vary: str | None = None) -> Response:
    """A public JSON response with a strong ETag; 304 when the client's copy is current."""
    payload = current_app.json.dumps(body).encode()
    etag = strong_etag(payload)
    # If-None-Match uses the weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".
    not_modified = request.if_none_match.contains_weak(etag.strip('"')) or request.if_none_match.star_tag
    response = Response(b"" if not_modified else payload, status=304 if not_modified else 200,
                        mimetype="application/json")
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    if vary:
        response.headers["Vary"] = vary
    return response


def page_params(default: int = 50, maximum: int = 200) -> tuple[int, str | None]:
    """`limit` (1..maximum) and the opaque `cursor` of a list request; 400 problems when malformed."""
    raw_limit = request.args.get("limit", str(default))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= maximum:
        raise http_error(BadRequest, f"limit must be a whole number from 1 to {maximum}.", "invalid_parameter")
    cursor = request.args.get("cursor")
    if cursor is None:
        return int(raw_limit), None
    try:
        padded = cursor.encode() + b"=" * (-len(cursor) % 4)
        after = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeError) as error:  # binascii.Error is a ValueError
        raise bad_cursor() from error
    if not after:
        raise bad_cursor()
    return int(raw_limit), after


def paged(items: list[dict[str, Any]], limit: int, key: str, hide: tuple[str, ...] = ()) -> Response:
    """A page of at most `limit` items (fetch limit + 1 to know whether more follow) and its next link.
    `key` names the sort key the cursor carries; `hide` fields are only for the cursor, not shown."""
    page, more = items[:limit], len(items) > limit
    next_url = None
    if more:
        cursor = base64.urlsafe_b64encode(str(page[-1][key]).encode()).decode().rstrip("=")
        args = request.args.to_dict() | {"limit": str(limit), "cursor": cursor}
        next_url = request.base_url + "?" + urlencode(args)
    shown = [{k: v for k, v in item.items() if k not in hide} for item in page]
    response = Response(current_app.json.dumps({"items": shown, "next": next_url}), mimetype="application/json")
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response
