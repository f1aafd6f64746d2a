"""Validation of identity input (marshmallow; loads into plain dicts)."""

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from townhall.auth.models import ClientKind
from townhall.auth.scopes import PLATFORM_SCOPES, SCOPES, TENANT_ROLES
from townhall.validation import SLUG_PATTERN

GRANT_TYPES = ("client_credentials", "authorization_code", "refresh_token")


def redirect_uri_problem(uri: str) -> str | None:
    """None when `uri` is acceptable: https, or http on a loopback address (RFC 8252), no fragment."""
    parts = urlsplit(uri)
    if parts.fragment or not parts.netloc or parts.username or parts.password:
        return "An absolute URI without fragment or credentials."
    if parts.scheme == "https":
        return None
    if parts.scheme == "http":
        try:
            if ipaddress.ip_address(parts.hostname or "").is_loopback:
                return None
        except ValueError:
            pass
        return "Plain http is allowed only on a loopback address (127.0.0.1 or [::1])."
    return "Must be https (or http on a loopback address)."


class UserInput(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=320))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    password = fields.String(load_default=None, validate=validate.Length(min=12, max=200))
    preferred_language = fields.String(load_default=None, validate=validate.OneOf(("nl", "fr", "de", "en")))
    is_platform_operator = fields.Boolean(load_default=False)


class MembershipInput(Schema):
    user = fields.Email(required=True)
    role = fields.String(required=True, validate=validate.OneOf(TENANT_ROLES))


class ClientInput(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.Enum(ClientKind, by_value=True, required=True)
    grant_types = fields.List(fields.String(validate=validate.OneOf(GRANT_TYPES)), required=True,
                              validate=validate.Length(min=1, max=3))
    redirect_uris = fields.List(fields.String(validate=validate.Length(max=2048)), load_default=list,
                                validate=validate.Length(max=10))
    scopes = fields.List(fields.String(validate=validate.OneOf(tuple(SCOPES))), required=True,
                         validate=validate.Length(min=1))

    @validates("redirect_uris")
    def _redirects(self, value: list[str], **_: Any) -> None:
        problems = {str(i): [p] for i, uri in enumerate(value) if (p := redirect_uri_problem(uri))}
        if problems:
            raise ValidationError(problems)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        grants = set(data.get("grant_types", []))
        if data.get("kind") is ClientKind.PUBLIC and "client_credentials" in grants:
            raise ValidationError("A public client cannot use client credentials.", "grant_types")
        if "authorization_code" in grants and not data.get("redirect_uris"):
            raise ValidationError("The authorization code grant needs at least one.", "redirect_uris")
        if "refresh_token" in grants and "authorization_code" not in grants:
            raise ValidationError("Refresh tokens come with the authorization code grant.", "grant_types")
        if len(set(data.get("scopes", []))) != len(data.get("scopes", [])):
            raise ValidationError("Each scope once.", "scopes")


class PlatformClientInput(ClientInput):
    """A client of the platform itself: automation of the consortium (client credentials, platform
    scopes, tokens for /v1), or an app for staff who serve several municipalities (authorization
    code, municipal scopes, one municipality per token chosen with `resource`)."""

    scopes = fields.List(fields.String(validate=validate.OneOf((*SCOPES, *PLATFORM_SCOPES))), required=True,
                         validate=validate.Length(min=1))


class MemberInput(Schema):
    user = fields.Email(required=True, metadata={"description": "The person's e-mail address."})
    role = fields.String(required=True, validate=validate.OneOf(TENANT_ROLES))


class MemberRoles(Schema):
    roles = fields.List(fields.String(validate=validate.OneOf(TENANT_ROLES)), required=True,
                        validate=validate.Length(max=len(TENANT_ROLES)),
                        metadata={"description": "Every role the person has here; [] removes them from the staff."})


class TeamInput(Schema):
    slug = fields.String(required=True, validate=validate.Regexp(f"^{SLUG_PATTERN}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TeamMemberInput(Schema):
    user = fields.Email(required=True)


class DelegationInput(Schema):
    team = fields.String(required=True, validate=validate.Regexp(f"^{SLUG_PATTERN}$"))
    service = fields.String(required=True, validate=validate.Length(min=1, max=63))
