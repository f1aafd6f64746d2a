"""A local stand-in of Mollie's payments API (v2: create, get, refund), served over real HTTP for
the official `mollie-api-python` client that Townhall uses. The test plays the citizen and Mollie:
`pay()` is the citizen paying at the checkout, then the test posts Mollie's notice to Townhall."""

import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from flask import Flask

from townhall.payments.mollie import MollieProvider

API_KEY = "test_" + "standin" * 5  # the form Mollie's keys have: test_ and 30 or more word characters
_AMOUNT = re.compile(r"^[0-9]+\.[0-9]{2}$")


@dataclass
class StandInPayment:
    body: dict[str, Any]
    refunds: list[dict[str, Any]] = field(default_factory=list)


class MollieStandIn:
    def __init__(self) -> None:
        self.payments: dict[str, StandInPayment] = {}
        self.lock = threading.Lock()
        self.refused_refunds = False  # True: Mollie answers refunds with an error
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                checkout = re.fullmatch(r"/checkout/(tr_\w+)", self.path)
                if checkout and checkout.group(1) in stand_in.payments:
                    stand_in.checkout_page(self, checkout.group(1))
                    return
                if not stand_in.authorised(self):
                    return
                match = re.fullmatch(r"/v2/payments/(tr_\w+)", self.path.split("?")[0])
                found = stand_in.payments.get(match.group(1)) if match else None
                if found is None:
                    stand_in.error(self, 404, "No payment exists with token.")
                    return
                stand_in.answer(self, 200, found.body)

            def do_POST(self) -> None:
                checkout = re.fullmatch(r"/checkout/(tr_\w+)", self.path)
                if checkout and checkout.group(1) in stand_in.payments:
                    stand_in.pay_at_checkout(self, checkout.group(1))
                    return
                if not stand_in.authorised(self):
                    return
                data = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
                if self.path == "/v2/payments":
                    stand_in.create(self, data)
                    return
                match = re.fullmatch(r"/v2/payments/(tr_\w+)/refunds", self.path)
                if match:
                    stand_in.refund(self, match.group(1), data)
                    return
                stand_in.error(self, 404, "No such endpoint.")

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what Mollie does -------------------------------------------------------------------------
    def authorised(self, handler: BaseHTTPRequestHandler) -> bool:
        if handler.headers.get("Authorization") != f"Bearer {API_KEY}":
            self.error(handler, 401, "Missing authentication, or failed to authenticate")
            return False
        return True

    def create(self, handler: BaseHTTPRequestHandler, data: dict[str, Any]) -> None:
        amount = data.get("amount") or {}
        if not _AMOUNT.match(str(amount.get("value", ""))) or amount.get("currency") != "EUR" \
                or not data.get("description") or not data.get("redirectUrl"):
            self.error(handler, 422, "The amount, description or redirect URL is invalid.")
            return
        ref = "tr_" + secrets.token_hex(5)
        body = {"resource": "payment", "id": ref, "mode": "test", "status": "open", "amount": amount,
                "description": data["description"], "redirectUrl": data["redirectUrl"],
                "webhookUrl": data.get("webhookUrl"), "metadata": data.get("metadata"),
                "createdAt": "2026-12-08T00:00:00+00:00",
                "_links": {"self": {"href": f"{self.url}/v2/payments/{ref}", "type": "application/hal+json"},
                           "checkout": {"href": f"{self.url}/checkout/{ref}", "type": "text/html"}}}
        with self.lock:
            self.payments[ref] = StandInPayment(body)
        self.answer(handler, 201, body)

    def refund(self, handler: BaseHTTPRequestHandler, ref: str, data: dict[str, Any]) -> None:
        found = self.payments.get(ref)
        if found is None:
            self.error(handler, 404, "No payment exists with token.")
            return
        if self.refused_refunds or found.body["status"] != "paid":
            self.error(handler, 422, "The payment cannot be refunded.")
            return
        refund = {"resource": "refund", "id": "re_" + secrets.token_hex(5), "amount": data.get("amount"),
                  "status": "pending", "paymentId": ref, "description": data.get("description", "")}
        with self.lock:
            found.refunds.append(refund)
        self.answer(handler, 201, refund)

    @staticmethod
    def answer(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/hal+json")
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)

    def error(self, handler: BaseHTTPRequestHandler, status: int, detail: str) -> None:
        self.answer(handler, status, {"status": status, "title": "Error", "detail": detail})

    # --- Mollie's checkout, for a browser -----------------------------------------------------------
    def checkout_page(self, handler: BaseHTTPRequestHandler, ref: str) -> None:
        body = self.payments[ref].body
        html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Checkout</title></head>'
                f'<body><main><h1>Pay {body["amount"]["currency"]} {body["amount"]["value"]}</h1>'
                f'<p>{body["description"]}</p><form method="post"><button type="submit">Pay</button></form>'
                f'</main></body></html>').encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(html)))
        handler.end_headers()
        handler.wfile.write(html)

    def pay_at_checkout(self, handler: BaseHTTPRequestHandler, ref: str) -> None:
        """As Mollie: the payment is paid, the merchant's webhook told (its id only), the citizen sent back."""
        self.settle(ref)
        body = self.payments[ref].body
        requests.post(body["webhookUrl"], data={"id": ref}, timeout=10).raise_for_status()
        handler.send_response(303)
        handler.send_header("Location", body["redirectUrl"])
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    # --- what the test does as the citizen --------------------------------------------------------
    def settle(self, ref: str, status: str = "paid", value: str | None = None) -> None:
        """The citizen paid (or gave up); `value`: what the provider says was paid, if not the asked amount."""
        with self.lock:
            body = self.payments[ref].body
            body["status"] = status
            if value is not None:
                body["amount"] = {**body["amount"], "value": value}


@contextmanager
def mollie_for(app: Flask) -> Iterator[MollieStandIn]:
    """The app paying through the stand-in, as it would through Mollie with a key set."""
    stand_in = MollieStandIn()
    app.extensions["townhall.payments"] = MollieProvider(API_KEY, stand_in.url)
    try:
        yield stand_in
    finally:
        app.extensions.pop("townhall.payments", None)
        stand_in.stop()
