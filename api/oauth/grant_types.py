"""The grant types the platform offers (Authlib classes over `townhall.auth.grants`, which stores codes
and refresh tokens): client credentials, authorization code with PKCE (S256 only, for
every client), refresh token with rotation and reuse detection. No password, no implicit grant."""

import uuid
from typing import Any, TypeVar

from authlib.oauth2.rfc6749 import InvalidRequestError, InvalidScopeError, grants
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import current_app, g

from api.database import session
from api.oauth.clients import Client, InvalidTargetError
from townhall.auth.grants import (
    CodeRequest,
    find_code,
    find_refresh_token,
    issue_code,
    mark_code_used,
    retire_refresh_token,
)
from townhall.auth.models import AuthorizationCode, PlatformAuthorizationCode, RefreshToken, User, UserStatus
from townhall.auth.queries import access_in_tenant
from townhall.auth.scopes import CITIZEN_SCOPES, PERSON_PLATFORM_SCOPES, PLATFORM_OPERATOR, PLATFORM_SCOPES
from townhall.clock import utcnow


class Person:
    """Authlib's view of the signed-in user, with what they may do in the client's municipality."""

    def __init__(self, user: User, roles: frozenset[str], allowed_scopes: frozenset[str],
                 services: frozenset[str] = frozenset()) -> None:
        self.user = user
        self.roles = roles
        self.allowed_scopes = allowed_scopes
        self.services = services  # delegated to one of the person's teams (`*`: all)

    def get_user_id(self) -> str:
        return str(self.user.id)


def person_in(user: User, client: Client) -> Person:
    if client.tenant is None:  # the platform API: a person's own view; operators also manage the platform
        operator = user.is_platform_operator
        return Person(user, frozenset({PLATFORM_OPERATOR} if operator else ()),
                      PERSON_PLATFORM_SCOPES | (frozenset(PLATFORM_SCOPES) if operator else frozenset()))
    access = access_in_tenant(session(), user.id, client.tenant.id)
    return Person(user, access.roles, access.scopes | CITIZEN_SCOPES, access.delegated_services)


def _person(user_id: uuid.UUID, client: Client) -> Person | None:
    user = session().get(User, user_id)
    if user is None or user.status is not UserStatus.ACTIVE:
        return None
    return person_in(user, client)


def audience_of(client: Client) -> str:
    """The one API a client's tokens are for: its municipality's, or the platform's."""
    return str(current_app.config["TOWNHALL_SETTINGS"].audience(client.tenant.slug if client.tenant else None))


class StrictScope:
    """Asking for a scope the client (or the person) may not have is `invalid_scope`, never a
    silently smaller token."""

    request: Any

    def validate_requested_scope(self) -> None:
        asked = set(scope_to_list(self.request.payload.scope) or [])
        if not asked <= set(self.request.client.row.scopes):
            raise InvalidScopeError()
        person = getattr(self.request, "user", None)
        if isinstance(person, Person) and not asked <= person.allowed_scopes:
            raise InvalidScopeError(description="You may not grant these scopes here.")
        super().validate_requested_scope()  # type: ignore[misc]


class ResourceIndicator:
    """RFC 8707: `resource` names the one API a token is for, and it must be one the client (and the
    person) may use; anything else is `invalid_target`."""

    request: Any

    def validate_requested_scope(self) -> None:
        client: Client = self.request.client
        wanted = self.request.payload.datalist.get("resource", [])
        if len(wanted) > 1 or (wanted and wanted[0] != audience_of(client)):
            raise InvalidTargetError(description="A token is for one API this client serves.")
        if client.is_platform_client:
            self._check_platform_target(client)
        super().validate_requested_scope()  # type: ignore[misc]

    def _check_platform_target(self, client: Client) -> None:
        if client.tenant is None:
            return  # the platform API: operators' automation, or a person's view across municipalities
        if isinstance(self, grants.ClientCredentialsGrant):
            raise InvalidTargetError(description="Platform automation works on the platform API only.")
        # Staff who serve several municipalities: only where they hold a role or a delegation (checked
        # once the person has signed in).
        person = getattr(self.request, "user", None)
        if isinstance(person, Person) and not (person.roles or person.services):
            raise InvalidTargetError(description="You do not work for this municipality.")


class ClientCredentials(ResourceIndicator, StrictScope, grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


GrantRow = TypeVar("GrantRow", bound=AuthorizationCode | PlatformAuthorizationCode | RefreshToken)


def _remember_grant(row: GrantRow) -> GrantRow:
    """The tokens issued now belong to this grant: the generator and save_token read it here."""
    g.oauth_grant_id = row.grant_id
    g.auth_time = row.auth_time
    return row


class StoredCode:
    """Authlib's view of a stored authorization code."""

    def __init__(self, row: AuthorizationCode | PlatformAuthorizationCode) -> None:
        self.row = row

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    @property
    def code_challenge(self) -> str:
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str:
        return self.row.code_challenge_method

    def get_nonce(self) -> None:
        return None

    def get_auth_time(self) -> int:
        return int(self.row.auth_time.timestamp())


RESPONSE_MODES = ("query",)
"""How the authorization response reaches the client: the code in the redirect URI's query only."""


class AuthorizationCodeGrant(ResourceIndicator, StrictScope, grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        # Authlib ignores response_mode: a client asking for fragment or form_post would get a code in
        # the query without being told. Refused to the (validated) redirect URI, in the query.
        mode = self.request.payload.data.get("response_mode")
        if mode is not None and mode not in RESPONSE_MODES:
            raise InvalidRequestError("Only response_mode=query is supported.", state=self.request.payload.state,
                                      redirect_uri=redirect_uri)
        return redirect_uri

    def save_authorization_code(self, code: str, request_: Any) -> None:
        person: Person = request_.user
        payload = request_.payload
        tenant = self.request.client.tenant
        issue_code(session(), tenant.id if tenant else None, CodeRequest(
            client_id=request_.client.get_client_id(), user_id=person.user.id,
            redirect_uri=payload.redirect_uri, scope=request_.scope or "",
            code_challenge=payload.data.get("code_challenge", ""),
            code_challenge_method=payload.data.get("code_challenge_method", ""),
            auth_time=g.get("auth_time") or utcnow(),
        ), code)

    def query_authorization_code(self, code: str, client: Client) -> StoredCode | None:
        # A platform client names the municipality again at the token endpoint; without it, only a
        # code for the platform API matches.
        found = find_code(session(), code, client.get_client_id(),
                          current_app.config["TOWNHALL_SETTINGS"].access_token_lifetime, platform=client.tenant is None)
        return StoredCode(_remember_grant(found)) if found else None

    def delete_authorization_code(self, authorization_code: StoredCode) -> None:
        mark_code_used(session(), authorization_code.row)  # kept: a second use must be recognised

    def authenticate_user(self, authorization_code: StoredCode) -> Person | None:
        return _person(authorization_code.row.user_id, self.request.client)


class StoredRefreshToken:
    def __init__(self, row: RefreshToken) -> None:
        self.row = row

    def check_client(self, client: Client) -> bool:
        return self.row.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.row.scope


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every use gives a new refresh token

    def authenticate_refresh_token(self, refresh_token: str) -> StoredRefreshToken | None:
        if self.request.client.tenant is None:  # a platform client that did not name the municipality
            return None
        found = find_refresh_token(session(), refresh_token,
                                   current_app.config["TOWNHALL_SETTINGS"].access_token_lifetime)
        return StoredRefreshToken(_remember_grant(found)) if found else None

    def authenticate_user(self, refresh_token: StoredRefreshToken) -> Person | None:
        return _person(refresh_token.row.user_id, self.request.client)

    def revoke_old_credential(self, refresh_token: StoredRefreshToken) -> None:
        retire_refresh_token(session(), refresh_token.row)


class S256Required(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client and every authorization request, S256 only (plain is refused)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required.")
        super().validate_code_challenge(grant, redirect_uri)

