"""A real HTTP receiver for webhook tests: records what arrives, answers as told."""

import random
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    """A local port nobody listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """`mode`: ok, fail (500), flaky (500 for `failure_rate` of requests), redirect (302 elsewhere),
    slow (answers after `delay` seconds), endless (promises a gigabyte and trickles it)."""

    mode: str = "ok"
    failure_rate: float = 0.1
    delay: float = 2.0
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    randomness: random.Random = field(default_factory=lambda: random.Random(7))  # noqa: S311

    def start(self, port: int = 0) -> str:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver.lock:
                    receiver.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
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

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
