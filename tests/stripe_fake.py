"""A small Stripe-shaped HTTP server for the tests.

The shop's real Stripe SDK talks to it through STRIPE_API_BASE: it creates, reads and expires
Checkout Sessions (honouring idempotency keys as Stripe does), serves a hosted payment page
whose Pay button completes the session, and sends webhooks signed exactly as Stripe signs them
(HMAC-SHA256 of "<timestamp>.<body>" with the endpoint secret, in a Stripe-Signature header).
Faults can be injected: an HTTP error status, or a delay longer than the client's timeout.
As on Stripe, an idempotency key replays its first answer, and reusing it with other parameters
is refused with an `idempotency_error`.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import itertools
import json
import re
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

SECRET_KEY = "sk_test_fake_key"
WEBHOOK_SECRET = "whsec_test_fake_secret"
_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{int(time.time() * 1000) % 10**9}{next(_ids):06d}"


def decode_form(body: str) -> dict:
    """Stripe's form encoding (`a[b][0][c]=v`) back into nested dicts and lists."""
    result: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = [key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", key)]
        node = result
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            following = None if last else parts[index + 1]
            default = value if last else ([] if following.isdigit() else {})
            if isinstance(node, list):
                position = int(part)
                while len(node) <= position:
                    node.append(None)
                if node[position] is None or last:
                    node[position] = default
                node = node[position]
            else:
                if part not in node or last:
                    node[part] = default
                node = node[part]
    return result


def signature_header(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class FakeStripe:
    def __init__(self):
        self.sessions: dict[str, dict] = {}
        self.idempotent: dict[str, tuple[int, dict]] = {}
        self.idempotent_params: dict[str, dict] = {}
        # Every API call as it arrived, injected faults included: (method, path, Idempotency-Key).
        self.calls: list[tuple[str, str, str | None]] = []
        self.busy = 0
        self.idle = threading.Condition()
        self.requests: list[tuple[str, str, dict]] = []
        self.faults: list[tuple[str, float]] = []
        self.webhook_url: str | None = None
        self.delivered: list[tuple[str, int]] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        fake = self

        class Handler(_Handler):
            stripe = fake

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def reset(self) -> None:
        # A request still sleeping on an injected delay must not land in the next test.
        self.wait_idle()
        with self.lock:
            self.sessions.clear()
            self.idempotent.clear()
            self.idempotent_params.clear()
            self.calls.clear()
            self.requests.clear()
            self.faults.clear()
            self.delivered.clear()
            self.webhook_url = None

    def wait_idle(self, timeout: float = 15.0) -> None:
        """Wait until no request is being handled (one delayed past the client's timeout, say)."""
        with self.idle:
            assert self.idle.wait_for(lambda: self.busy == 0, timeout), "the fake Stripe is still busy"

    @property
    def idempotency_keys(self) -> list[str | None]:
        """The Idempotency-Key of every session-creating call, faulted ones included, in order."""
        return [key for method, path, key in self.calls if method == "POST" and path == "/v1/checkout/sessions"]

    # --- faults -------------------------------------------------------------------------

    def fail_next(self, status: int = 500, times: int = 1) -> None:
        with self.lock:
            self.faults.extend([("status", status)] * times)

    def delay_next(self, seconds: float, times: int = 1) -> None:
        with self.lock:
            self.faults.extend([("delay", seconds)] * times)

    def take_fault(self) -> tuple[str, float] | None:
        with self.lock:
            return self.faults.pop(0) if self.faults else None

    # --- sessions -----------------------------------------------------------------------

    def create_session(self, params: dict) -> dict:
        items = params.get("line_items") or []
        amount = sum(int(i["quantity"]) * int(i["price_data"]["unit_amount"]) for i in items)
        currency = items[0]["price_data"]["currency"] if items else "usd"
        session_id = new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params.get("mode", "payment"),
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount,
            "amount_subtotal": amount,
            "currency": currency,
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "metadata": params.get("metadata") or {},
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "expires_at": int(params.get("expires_at") or time.time() + 86400),
            "payment_intent": None,
            "line_items_sent": items,
            "url": f"{self.url}/pay/{session_id}",
        }
        self.sessions[session_id] = session
        return session

    def session(self, session_id: str) -> dict:
        return self.sessions[session_id]

    def only_session(self) -> dict:
        assert len(self.sessions) == 1, f"expected one Checkout Session, found {len(self.sessions)}"
        return next(iter(self.sessions.values()))

    def pay(
        self, session_id: str, *, amount: int | None = None, currency: str | None = None, pending: bool = False
    ) -> dict:
        """The clinician pays on the hosted page (or their bank starts an async payment)."""
        with self.lock:
            session = self.sessions[session_id]
            session["status"] = "complete"
            session["payment_status"] = "unpaid" if pending else "paid"
            session["payment_intent"] = session["payment_intent"] or new_id("pi")
            if amount is not None:
                session["amount_total"] = amount
            if currency is not None:
                session["currency"] = currency
            return dict(session)

    def settle_async(self, session_id: str, *, succeeded: bool = True) -> dict:
        with self.lock:
            session = self.sessions[session_id]
            session["payment_status"] = "paid" if succeeded else "unpaid"
            return dict(session)

    def expire(self, session_id: str) -> dict:
        with self.lock:
            session = self.sessions[session_id]
            if session["status"] == "open":
                session["status"] = "expired"
            return dict(session)

    # --- webhooks -----------------------------------------------------------------------

    def event(self, event_type: str, session: dict, *, event_id: str | None = None) -> str:
        """The JSON body of a webhook event carrying `session`."""
        public = {k: v for k, v in session.items() if k != "line_items_sent"}
        return json.dumps(
            {
                "id": event_id or new_id("evt"),
                "object": "event",
                "api_version": "2024-06-20",
                "created": int(time.time()),
                "type": event_type,
                "livemode": False,
                "data": {"object": public},
            }
        )

    def signed(self, payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> dict[str, str]:
        return {"Stripe-Signature": signature_header(payload, secret, timestamp), "Content-Type": "application/json"}

    def deliver(self, event_type: str, session: dict, *, event_id: str | None = None) -> int:
        """POST a signed event to the shop's webhook URL, as Stripe does; returns the status."""
        payload = self.event(event_type, session, event_id=event_id)
        request = urllib.request.Request(
            self.webhook_url, data=payload.encode(), headers=self.signed(payload), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        self.delivered.append((event_type, status))
        return status


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client that gave up (a timeout test) is expected; anything else is printed."""
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    stripe: FakeStripe

    def log_message(self, *args) -> None:  # keep test output quiet
        return None

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", new_id("req"))
        self.end_headers()
        self.wfile.write(data)

    def _html(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _counted(self, handle) -> None:
        with self.stripe.idle:
            self.stripe.busy += 1
        try:
            handle()
        finally:
            with self.stripe.idle:
                self.stripe.busy -= 1
                self.stripe.idle.notify_all()

    def do_GET(self) -> None:
        self._counted(self._get)

    def do_POST(self) -> None:
        self._counted(self._post)

    def _api_guard(self) -> bool:
        """Authentication and injected faults, as the first thing an API call meets."""
        with self.stripe.lock:
            self.stripe.calls.append((self.command, urlsplit(self.path).path, self.headers.get("Idempotency-Key")))
        if self.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
            self._json(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})
            return False
        fault = self.stripe.take_fault()
        if fault and fault[0] == "delay":
            time.sleep(fault[1])
        elif fault:
            self._json(int(fault[1]), {"error": {"type": "api_error", "message": "Injected failure"}})
            return False
        return True

    def _body(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode() if length else ""

    def _get(self) -> None:
        path = urlsplit(self.path).path
        if match := re.fullmatch(r"/v1/checkout/sessions/([\w]+)", path):
            if not self._api_guard():
                return
            self.stripe.requests.append(("GET", path, {}))
            session = self.stripe.sessions.get(match.group(1))
            if session is None:
                self._json(404, {"error": {"type": "invalid_request_error", "message": "No such checkout.session"}})
            else:
                self._json(200, {k: v for k, v in session.items() if k != "line_items_sent"})
        elif match := re.fullmatch(r"/pay/([\w]+)", path):
            self._payment_page(match.group(1))
        else:
            self._json(404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}})

    def _post(self) -> None:
        path = urlsplit(self.path).path
        body = self._body()
        if match := re.fullmatch(r"/pay/([\w]+)", path):
            self._pay(match.group(1), dict(parse_qsl(body)))
            return
        if not self._api_guard():
            return
        params = decode_form(body)
        self.stripe.requests.append(("POST", path, params))
        if path == "/v1/checkout/sessions":
            key = self.headers.get("Idempotency-Key")
            with self.stripe.lock:
                if key and key in self.stripe.idempotent and self.stripe.idempotent_params[key] != params:
                    status, response = (
                        400,
                        {
                            "error": {
                                "type": "idempotency_error",
                                "message": "Keys for idempotent requests can only be used with the same parameters "
                                "they were first used with.",
                            }
                        },
                    )
                elif key and key in self.stripe.idempotent:
                    status, response = self.stripe.idempotent[key]
                else:
                    session = self.stripe.create_session(params)
                    status, response = 200, {k: v for k, v in session.items() if k != "line_items_sent"}
                    if key:
                        self.stripe.idempotent[key] = (status, response)
                        self.stripe.idempotent_params[key] = params
            self._json(status, response)
        elif match := re.fullmatch(r"/v1/checkout/sessions/([\w]+)/expire", path):
            session = self.stripe.sessions.get(match.group(1))
            if session is None or session["status"] != "open":
                self._json(400, {"error": {"type": "invalid_request_error", "message": "Session is not open"}})
            else:
                self._json(200, self.stripe.expire(session["id"]))
        else:
            self._json(404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}})

    def _payment_page(self, session_id: str) -> None:
        session = self.stripe.sessions.get(session_id)
        if session is None:
            self._html(404, "<h1>No such session</h1>")
            return
        rows = "".join(
            f"<li>{html.escape(i['price_data']['product_data']['name'])} × {i['quantity']}</li>"
            for i in session["line_items_sent"]
        )
        amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
        state = "" if session["status"] == "open" else f"<p id='state'>This session is {session['status']}.</p>"
        self._html(
            200,
            f"<!doctype html><title>Pay {amount}</title><h1>Test payment</h1><ul>{rows}</ul>"
            f"<p id='amount'>{amount}</p>{state}"
            f"<form method='post'><label>Card number <input name='card' value='4242424242424242'></label>"
            f"<button type='submit'>Pay {amount}</button></form>"
            f"<a href='{html.escape(session['cancel_url'])}'>Back to the shop</a>",
        )

    def _pay(self, session_id: str, form: dict) -> None:
        session = self.stripe.sessions.get(session_id)
        if session is None or session["status"] != "open":
            self._html(400, "<h1>This session cannot be paid</h1>")
            return
        paid = self.stripe.pay(session_id)
        if self.stripe.webhook_url:
            self.stripe.deliver("checkout.session.completed", paid)
        self.send_response(303)
        self.send_header("Location", session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id))
        self.end_headers()
