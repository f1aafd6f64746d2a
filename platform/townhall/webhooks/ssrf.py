"""Server-side request forgery: a webhook may only call out to the public internet.

A URL must be https and every address its host resolves to must be public; this is checked when the
subscription is saved and again before every delivery (the name may point elsewhere by then), and
redirects are never followed. Loopback and private ranges are allowed only when the platform operator
says so (`TOWNHALL_WEBHOOKS_ALLOW_PRIVATE`, for development and tests), and then plain http too.
"""

import ipaddress
import socket
from urllib.parse import urlsplit


class Refused(ValueError):
    """Why a webhook URL may not be called."""


def check(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise Refused("A webhook URL is https.")
    if not parts.hostname or parts.username or parts.password:
        raise Refused("A webhook URL names a host, without credentials in it.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)}
    except (OSError, ValueError, UnicodeError) as error:
        raise Refused(f"The host {parts.hostname} does not resolve.") from error
    for address in found:
        ip = ipaddress.ip_address(str(address).split("%")[0])
        if not allow_private and not ip.is_global:
            raise Refused(f"The host {parts.hostname} resolves to a non-public address ({ip}).")
