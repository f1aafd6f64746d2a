"""How a client is shown: never its secret, except once in the answer that creates or rotates it."""

from marshmallow import Schema, fields


class ClientOut(Schema):
    client_id = fields.String()
    name = fields.String()
    kind = fields.Function(lambda client: client.kind.value)
    grant_types = fields.List(fields.String())
    redirect_uris = fields.List(fields.String())
    scopes = fields.List(fields.String())
    status = fields.Function(lambda client: client.status.value)
    created_at = fields.DateTime()
    secret_rotated_at = fields.DateTime(allow_none=True)
