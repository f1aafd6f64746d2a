"""A real HTTP receiver for webhook tests: records what arrives, reads it as a CloudEvents receiver
does (refusing with 415 what is not a structured-mode CloudEvent), answers as told."""

import random
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.http import HTTPMessage, from_structured
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

STRUCTURED = "application/cloudevents+json"


class NotACloudEvent(ValueError):
    """The request is not a CloudEvent in structured mode."""


def read_cloud_event(headers: dict[str, str], body: bytes) -> BaseCloudEvent:
    """As a CloudEvents HTTP receiver reads a request (HTTP protocol binding 1.0, section 3): it is
    in structured mode when its media type is `application/cloudevents+json`, and then the SDK
    parses the body as a 1.0 event (required attributes present and typed, `time` an aware moment).
    The Python SDK (2.2) leaves the media type to its caller and reads any body as structured, so
    the check a JavaScript or Go receiver makes is made here, before it."""
    media_type, *parameters = (part.strip().lower() for part in headers.get("content-type", "").split(";"))
    if media_type != STRUCTURED:
        raise NotACloudEvent(f"{headers.get('content-type')!r} is not {STRUCTURED}")
    charset = next((p.removeprefix("charset=") for p in parameters if p.startswith("charset=")), "utf-8")
    if charset.strip('"') != "utf-8":
        raise NotACloudEvent(f"charset {charset} is not utf-8")
    return from_structured(HTTPMessage(headers=headers, body=body), JSONFormat(), CloudEvent)


def free_port() -> int:
    """A local port nobody listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    event: BaseCloudEvent | None = None  # as the CloudEvents SDK read it; None: refused (415 or 400)


@dataclass
class Receiver:
    """`mode`: ok, fail (500), flaky (500 for `failure_rate` of requests), redirect (302 elsewhere),
    slow (answers after `delay` seconds), endless (promises a gigabyte and trickles it). With `tls`
    it speaks https with that context and records the names clients ask for (SNI)."""

    mode: str = "ok"
    failure_rate: float = 0.1
    delay: float = 2.0
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    randomness: random.Random = field(default_factory=lambda: random.Random(7))  # noqa: S311
    tls: ssl.SSLContext | None = None
    server_names: list[str | None] = field(default_factory=list)

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                event: BaseCloudEvent | None = None
                try:
                    event = read_cloud_event(headers, body)
                except NotACloudEvent:
                    refusal = 415  # what a CloudEvents receiver answers to a plain JSON POST
                except (BaseCloudEventException, ValueError, TypeError):
                    refusal = 400  # the right media type, not a valid event
                with receiver.lock:
                    receiver.requests.append(Received(headers, body, event))
                if event is None:
                    self.send_response(refusal)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with receiver.lock:
                    failing = receiver.mode == "fail" or (receiver.mode == "flaky"
                                                          and receiver.randomness.random() < receiver.failure_rate)
                if receiver.mode == "slow":
                    time.sleep(receiver.delay)
                if receiver.mode == "endless":
                    self.send_response(200)
                    self.send_header("Content-Length", str(10**9))
                    self.end_headers()
                    try:
                        for _ in range(40):
                            self.wfile.write(b"x" * 16_384)
                            time.sleep(0.05)
                    except OSError:
                        pass  # the worker stopped reading, as it should
                    return
                if receiver.mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                else:
                    self.send_response(500 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        if self.tls is not None:
            self.tls.sni_callback = lambda _socket, name, _context: receiver.server_names.append(name)
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def tls_for(directory: Path, name: str) -> tuple[ssl.SSLContext, Path]:
    """A throwaway certificate authority and a server certificate for `name` that it signs: the
    server's TLS context, and the authority's PEM file for clients to trust."""
    now = datetime.now(UTC)
    authority_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    authority_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Townhall test authority")])
    authority = (x509.CertificateBuilder().subject_name(authority_name).issuer_name(authority_name)
                 .public_key(authority_key.public_key()).serial_number(x509.random_serial_number())
                 .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
                 .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                 .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                              key_encipherment=False, data_encipherment=False, key_agreement=False,
                                              key_cert_sign=True, crl_sign=True, encipher_only=False,
                                              decipher_only=False), critical=True)
                 .add_extension(x509.SubjectKeyIdentifier.from_public_key(authority_key.public_key()), critical=False)
                 .sign(authority_key, hashes.SHA256()))
    server = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
              .issuer_name(authority_name).public_key(server_key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key.public_key()),
                             critical=False)
              .sign(authority_key, hashes.SHA256()))
    authority_file, chain, key = directory / "authority.pem", directory / "server.pem", directory / "server.key"
    authority_file.write_bytes(authority.public_bytes(serialization.Encoding.PEM))
    chain.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)
    return context, authority_file
