"""The tenant APIs as resource server: who may call a route, proven by a JWT access token.

A token is accepted only when it is ours (signature from the published key set, `iss`), meant for
this tenant (`aud` = this tenant's API base URL and `tenant` = its slug), typed `at+jwt`, current,
and carries the route's scopes. Verification reads no database: the key set is cached in process, and
so, briefly, is a token whose signature was checked (`VerifiedTokens`).
"""

from collections.abc import Callable
from typing import Any, TypeVar

from authlib.integrations.flask_oauth2 import ResourceProtector, token_authenticated
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6750 import InsufficientScopeError, InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from authlib.oauth2.rfc9068.claims import JWTAccessTokenClaims
from flask import current_app, g, request
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from werkzeug.exceptions import BadRequest, Forbidden, Unauthorized

from api.access import ACCESS_ATTRIBUTE
from api.database import session
from api.errors import http_error
from api.oauth.endpoints import RevocationList
from api.oauth.keyring import Keyring
from api.rate_limits import check_rate
from townhall.auth.principal import principal_from_claims
from townhall.cache import TimedCache

View = TypeVar("View", bound=Callable[..., Any])
REALM = "townhall"


class VerifiedTokens:
    """Per process: tokens whose signature was checked, for at most `ttl` seconds
    (TOWNHALL_VERIFIED_TOKEN_CACHE_SECONDS). A token sent again skips the signature check, never the
    rest: audience, tenant, expiry, scopes and revocation are checked on every request, so no change
    notice concerns this cache."""

    MAX_ENTRIES = 10_000  # bounded memory: callers choose the keys

    def __init__(self, ttl: float) -> None:
        self._entries: TimedCache[str, tuple[dict[str, Any], dict[str, Any]]] = TimedCache(
            ttl, max_entries=self.MAX_ENTRIES)

    @property
    def ttl(self) -> float:
        return self._entries.ttl

    @ttl.setter
    def ttl(self, value: float) -> None:
        self._entries.ttl = value

    def get(self, token_string: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        return self._entries.get(token_string)

    def put(self, token_string: str, claims: dict[str, Any], header: dict[str, Any]) -> None:
        self._entries.put(token_string, (claims, header))


class TenantTokenValidator(JWTBearerTokenValidator):  # type: ignore[misc]
    def __init__(self, issuer: str, keyring: Keyring, verified: VerifiedTokens) -> None:
        super().__init__(issuer=issuer, resource_server=None, realm=REALM)
        self.keyring = keyring
        self.verified = verified

    @property
    def resource_server(self) -> str:
        """This request's API: the municipality's in the URL, else the platform's."""
        tenant = g.get("tenant")
        return str(current_app.config["TOWNHALL_SETTINGS"].audience(tenant.slug if tenant else None))

    @resource_server.setter
    def resource_server(self, _value: object) -> None:
        pass

    def get_jwks(self) -> KeySet:
        return self.keyring.public_keys(session(), g.get("token_kid"))

    def authenticate_token(self, token_string: str) -> Any:
        """The signature check of RFC 9068 (authlib's, with the options it uses), done once per token
        and cache life; the claims are validated for this request in `validate_token`."""
        known = self.verified.get(token_string)
        if known is None:
            try:
                header = jws.extract_compact(token_string.encode()).headers()
            except (JoseError, ValueError, UnicodeError) as error:
                raise InvalidTokenError(realm=REALM) from error
            if str(header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
                raise InvalidTokenError(realm=REALM)  # RFC 9068: only access tokens, never an ID token
            g.token_kid = header.get("kid")
            try:
                token = jwt.decode(token_string, key=self.get_jwks())
            except (JoseError, ValueError) as error:
                raise InvalidTokenError(realm=REALM) from error
            known = (token.claims, token.header)
            self.verified.put(token_string, *known)
        return JWTAccessTokenClaims(known[0], known[1], self._claims_options())

    def _claims_options(self) -> dict[str, Any]:
        essential, optional = {"essential": True}, {"essential": False}
        return {"iss": {"essential": True, "validate": self.validate_iss}, "exp": essential,
                "aud": {"essential": True, "value": self.resource_server}, "sub": essential,
                "client_id": essential, "iat": essential, "jti": essential, "auth_time": optional,
                "acr": optional, "amr": optional, "scope": optional, "groups": optional, "roles": optional,
                "entitlements": optional}

    def validate_token(self, token: Any, scopes: Any, request_: Any, **kwargs: Any) -> None:
        super().validate_token(token, scopes, request_, **kwargs)
        tenant = g.get("tenant")
        if token.get("tenant") != (tenant.slug if tenant else None):
            raise InvalidTokenError(realm=REALM)
        revocations: RevocationList = current_app.extensions["townhall.revocations"]
        if tenant is not None and revocations.is_revoked(tenant.id, dict(token)):
            raise InvalidTokenError(realm=REALM)


def _problem_for(error: OAuth2Error, scopes: str) -> Exception:
    if isinstance(error, InsufficientScopeError):
        challenge = f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scopes}"'
        return http_error(Forbidden, f"The token lacks a scope this route needs: {scopes}.",
                          "insufficient_scope", [("WWW-Authenticate", challenge)])
    if request.headers.get("Authorization"):
        return http_error(Unauthorized, "The access token is not valid here.", "invalid_token",
                          [("WWW-Authenticate", f'Bearer realm="{REALM}", error="invalid_token"')])
    return http_error(Unauthorized, "Send an access token.", "unauthorized",
                      [("WWW-Authenticate", f'Bearer realm="{REALM}"')])


def requires(scopes: str) -> Callable[[View], View]:
    """The route needs a token for this API with every scope in `scopes` (space-separated; empty:
    any valid token)."""

    def decorate(view: View) -> View:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            # RFC 6750 allows the token as a query or form-encoded body parameter; this API refuses both.
            if "access_token" in request.args or (request.mimetype == "application/x-www-form-urlencoded"
                                                  and "access_token" in request.form):
                raise http_error(BadRequest, "Send the token in the Authorization header, never in the URL or body.",
                                 "token_not_in_header")
            protector: ResourceProtector = current_app.extensions["townhall.resource_protector"]
            try:
                token = protector.acquire_token(scopes)
            except OAuth2Error as error:
                raise _problem_for(error, scopes) from None
            g.principal = principal_from_claims(token)  # once per request; every route asks it
            check_rate(g.principal)
            return view(*args, **kwargs)

        guarded.__name__ = view.__name__
        guarded.__doc__ = view.__doc__
        setattr(guarded, ACCESS_ATTRIBUTE, f"scopes:{scopes}")
        return guarded  # type: ignore[return-value]

    return decorate


class TenantResourceProtector(ResourceProtector):  # type: ignore[misc]
    """authlib's Flask protector, handed Flask's request as it is: the validators read only its
    headers, so authlib's OAuth2 request wrapper (which builds the full URL) is work for nothing on
    every API call (ADR 0009)."""

    def acquire_token(self, scopes: Any = None, **kwargs: Any) -> Any:
        kwargs["scopes"] = scopes
        for claim, value in kwargs.items():
            if isinstance(value, str):
                kwargs[claim] = [value]
        token = self.validate_request(request=request, **kwargs)
        token_authenticated.send(self, token=token)
        g.authlib_server_oauth2_token = token  # where authlib's `current_token` looks
        return token


def create_resource_protector(issuer: str, keyring: Keyring, verified: VerifiedTokens) -> ResourceProtector:
    protector = TenantResourceProtector()
    protector.register_token_validator(TenantTokenValidator(issuer, keyring, verified))
    return protector
