"""The `Idempotency-Key` header of creating requests, the HTTP side of `townhall.idempotency`:
replay the first answer, refuse a different body (422), refuse while the first is still running (409)."""

import re
from collections.abc import Callable

from flask import Response, g, jsonify, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import BadRequest, Conflict, UnprocessableEntity

from api.database import session
from api.errors import http_error
from api.principal import principal
from townhall.idempotency import claim, find_record, fingerprint

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def idempotent(produce: Callable[[], Response]) -> Response:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return produce()
    key = raw.strip().strip('"')  # an RFC 8941 string, quoted or not
    if not _KEY.match(key):
        raise http_error(BadRequest, "Idempotency-Key: 1 to 255 visible ASCII characters.", "invalid_idempotency_key")
    client_id = principal().client_id
    print_ = fingerprint(request.method, request.path, request.get_json(silent=True))
    record = find_record(session(), g.tenant.id, client_id, key)
    if record is not None:
        if record.fingerprint != print_:
            raise http_error(UnprocessableEntity, "This Idempotency-Key was used with another request.",
                             "idempotency_key_reused")
        replay = jsonify(record.body)
        replay.status_code = record.status_code
        replay.headers.update(record.headers)
        replay.headers["Idempotent-Replayed"] = "true"
        return replay
    try:
        record = claim(session(), g.tenant.id, client_id, key, print_)
    except IntegrityError as error:
        raise http_error(Conflict, "A request with this Idempotency-Key is still running; retry shortly.",
                         "idempotency_key_in_flight", [("Retry-After", "1")]) from error
    response = produce()
    record.status_code = response.status_code
    record.body = response.get_json() or {}
    record.headers = {name: response.headers[name] for name in ("Location", "ETag") if name in response.headers}
    return response
