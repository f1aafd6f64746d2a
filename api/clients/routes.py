"""/t/<tenant>/v1/clients: tenant admins manage their municipality's OAuth clients (`clients:manage`)."""

from typing import Any

from flask import Response, g, jsonify, url_for
from werkzeug.routing import BaseConverter

from api.clients.schemas import ClientOut
from api.database import session
from api.http import json_object, page_params, paged, patched, require_if_match
from api.oauth.protect import requires
from api.principal import principal
from api.tenant_api import tenant_api
from townhall.auth.models import OAuthClient
from townhall.auth.operations import create_client, rotate_client_secret, update_client
from townhall.auth.queries import client_by_id, clients_of_tenant
from townhall.errors import NotFound

_out = ClientOut()


class ClientIdConverter(BaseConverter):
    """`<tenant slug>.<random>`: anything else never reaches the database."""

    regex = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.[A-Za-z0-9_-]{8,64}"


def _etag(client: OAuthClient) -> str:
    return f'"v{client.version}"'


def _one(client: OAuthClient, status: int = 200, secret: str | None = None) -> Response:
    body: dict[str, Any] = _out.dump(client)
    if secret is not None:
        body["client_secret"] = secret  # shown this once; only its hash is stored
    response = jsonify(body)
    response.status_code = status
    response.headers["ETag"] = _etag(client)
    return response


def _find(client_id: str) -> OAuthClient:
    client = client_by_id(session(), client_id)
    if client is None or client.tenant_id != g.tenant.id:
        raise NotFound("No such client in this municipality.")
    return client


@tenant_api.get("/clients")
@requires("clients:manage")
def list_clients() -> Response:
    limit, after = page_params()
    clients = clients_of_tenant(session(), g.tenant.id, after=after, limit=limit + 1)
    return paged([_out.dump(c) for c in clients], limit, key="client_id")


@tenant_api.post("/clients")
@requires("clients:manage")
def register_client() -> Response:
    data = json_object()  # validated by the operation, shared with the CLI
    client, secret = create_client(session(), g.tenant.id, g.tenant.slug, data, actor=principal().actor)
    response = _one(client, 201, secret)
    response.headers["Location"] = url_for("tenant_api.get_client", client_id=client.client_id)
    return response


@tenant_api.get("/clients/<client_id:client_id>")
@requires("clients:manage")
def get_client(client_id: str) -> Response:
    return _one(_find(client_id))


@tenant_api.patch("/clients/<client_id:client_id>")
@requires("clients:manage")
def change_client(client_id: str) -> Response:
    """JSON Merge Patch (RFC 7396) of the changeable fields; the merged client is checked as a whole."""
    client = _find(client_id)
    current = {"name": client.name, "redirect_uris": client.redirect_uris, "scopes": client.scopes,
               "status": client.status.value}
    update_client(session(), client, patched(current, _etag(client)), actor=principal().actor)
    return _one(client)


@tenant_api.post("/clients/<client_id:client_id>/secret")
@requires("clients:manage")
def rotate_secret(client_id: str) -> Response:
    client = _find(client_id)
    require_if_match(_etag(client))
    return _one(client, secret=rotate_client_secret(session(), client, actor=principal().actor))

