"""Request and response helpers shared by every route: JSON bodies, ETags and preconditions."""

import hashlib
import json
from typing import Any

from flask import Response, request
from marshmallow import Schema
from werkzeug.exceptions import BadRequest, PreconditionFailed, PreconditionRequired, UnsupportedMediaType

from townhall.validation import load


def _with_detail(error: Exception, detail: str, code: str) -> Exception:
    error.townhall_detail = detail  # type: ignore[attr-defined]
    error.townhall_code = code  # type: ignore[attr-defined]
    return error


def json_body(schema: Schema, *, partial: bool = False) -> dict[str, Any]:
    """The request's JSON object, loaded by `schema` (415, 400 and 422 problems otherwise)."""
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise _with_detail(UnsupportedMediaType(), "Send the body as application/json.", "unsupported_media_type")
    raw = request.get_data(cache=True)  # over the size limit: 413 from werkzeug
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise _with_detail(BadRequest(), "The body is not valid JSON.", "malformed_json") from error
    if not isinstance(data, dict):
        raise _with_detail(BadRequest(), "The body must be a JSON object.", "malformed_json")
    return load(schema, data, partial=partial)


def strong_etag(payload: bytes) -> str:
    return '"' + hashlib.blake2b(payload, digest_size=12).hexdigest() + '"'


def require_if_match(current_etag: str) -> None:
    """Updates must name the version they change: 428 without If-Match, 412 when it is stale."""
    header = request.headers.get("If-Match")
    if header is None:
        raise _with_detail(PreconditionRequired(), "Send If-Match with the ETag you read.", "precondition_required")
    tags = [tag.strip() for tag in header.split(",")]
    if "*" not in tags and current_etag not in tags:  # strong comparison: W/ tags never match
        raise _with_detail(PreconditionFailed(), "The resource changed since you read it.", "precondition_failed")


def cacheable_json(body: dict[str, Any], *, max_age: int, vary: str | None = None) -> Response:
    """A public JSON response with a strong ETag; 304 when the client's copy is current."""
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
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
