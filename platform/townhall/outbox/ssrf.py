"""Server-side request forgery: a webhook may only call out to the public internet.

A URL must be https on port 443 (or a port the platform operator allows,
`TOWNHALL_WEBHOOK_ALLOWED_PORTS`), and every address its host resolves to must be public. This is
checked when the subscription is saved and again before every delivery (the name may point
elsewhere by then); the delivery then connects to the very address that was checked (`Target`),
so a name that answers differently a moment later (DNS rebinding) cannot move it. Redirects are
never followed. Loopback and private ranges are allowed only when the platform operator says so
(`TOWNHALL_WEBHOOKS_ALLOW_PRIVATE`, for development and tests), and then plain http and any port too.
"""

import ipaddress
import socket
from collections.abc import Collection
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

HTTPS_PORT = 443


class Refused(ValueError):
    """Why a webhook URL may not be called."""


@dataclass(frozen=True)
class Policy:
    """Where the platform operator lets webhooks go."""

    allow_private: bool = False
    ports: frozenset[int] = field(default_factory=frozenset)  # besides 443

    @classmethod
    def of(cls, allow_private: bool, ports: Collection[int] = ()) -> "Policy":
        return cls(allow_private, frozenset(ports))


@dataclass(frozen=True)
class Target:
    """A checked URL: the name it gives (for the Host header, TLS SNI and the certificate) and the
    one address, among those checked, to connect to."""

    scheme: str
    host: str
    port: int
    address: str
    path: str = "/"
    query: str = ""

    @property
    def pinned_url(self) -> str:
        """The URL with the checked address in place of the name: nothing looks the name up again."""
        literal = f"[{self.address}]" if ":" in self.address else self.address
        return urlunsplit((self.scheme, f"{literal}:{self.port}", self.path or "/", self.query, ""))

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = HTTPS_PORT if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"


def check(url: str, policy: Policy) -> Target:
    """The address to call for `url`, resolved once; refused unless every address is allowed."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (policy.allow_private and parts.scheme == "http"):
        raise Refused("A webhook URL is https.")
    if not parts.hostname or parts.username or parts.password:
        raise Refused("A webhook URL names a host, without credentials in it.")
    try:
        port = parts.port or (HTTPS_PORT if parts.scheme == "https" else 80)
    except ValueError as error:
        raise Refused("A webhook URL's port is a number from 1 to 65535.") from error
    if not policy.allow_private and port != HTTPS_PORT and port not in policy.ports:
        allowed = ", ".join(str(p) for p in sorted({HTTPS_PORT, *policy.ports}))
        raise Refused(f"A webhook URL uses port {allowed}, not {port}.")
    try:
        found = [info[4][0] for info in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)]
    except (OSError, ValueError, UnicodeError) as error:
        raise Refused(f"The host {parts.hostname} does not resolve.") from error
    if not found:
        raise Refused(f"The host {parts.hostname} does not resolve.")
    for address in found:
        ip = ipaddress.ip_address(str(address).split("%")[0])
        if not policy.allow_private and not ip.is_global:
            raise Refused(f"The host {parts.hostname} resolves to a non-public address ({ip}).")
    return Target(parts.scheme, parts.hostname, port, str(found[0]).split("%")[0], parts.path, parts.query)
