"""A local HTTP server that speaks the subset of the Stripe API Switchyard uses, for the real
`stripe` library to talk to (STRIPE_API_BASE points at it). No network.

It keeps customers, Checkout and portal sessions, subscriptions, invoices and meter events in
memory, enforces the rules our code must respect (API key, idempotency keys replay the first
answer, one meter event per identifier, metered prices without a quantity, the 35-day window),
and lets tests play Stripe's side: complete a checkout, fail or collect a payment, and make
requests fail (before or after Stripe has acted on them).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

API_KEY = "sk_test_switchyard_fake"
WEBHOOK_SECRET = "whsec_test_switchyard_fake"
METER = "switchyard_events"
PRICES: dict[str, dict[str, Any]] = {
    "price_team_base": {"unit_amount": 4_900, "usage_type": "licensed"},
    "price_team_events": {"unit_amount_decimal": "0.0005", "usage_type": "metered", "meter": METER},
    "price_business_base": {"unit_amount": 49_900, "usage_type": "licensed"},
    "price_business_events": {"unit_amount_decimal": "0.0003", "usage_type": "metered", "meter": METER},
    "price_nobody_knows": {"unit_amount": 100, "usage_type": "licensed"},
}
DAY = 86_400


class StripeErrorResponse(Exception):
    def __init__(self, status: int, message: str, *, code: str = "", kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.body = status, {"error": {"type": kind, "code": code, "message": message}}


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (a[b][0][c]=v) back into dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: listify(v) for k, v in node.items()}
            if node and all(k.isdigit() for k in node):
                return [node[k] for k in sorted(node, key=int)]
        return node

    return listify(root)  # type: ignore[no-any-return]


@dataclass
class Failure:
    method: str
    path_prefix: str
    times: int
    status: int = 500
    after_processing: bool = False  # Stripe acted, but the answer is lost


@dataclass
class FakeStripe:
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    meter_events: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    idempotent: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    down: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def reset(self) -> None:
        with self.lock:
            for store in (
                self.customers,
                self.sessions,
                self.subscriptions,
                self.invoices,
                self.meter_events,
            ):
                store.clear()
            self.requests.clear()
            self.idempotent.clear()
            self.failures.clear()
            self.down = False

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_test{next(self._ids):06d}"

    # -- what tests do on Stripe's side ---------------------------------------------------------

    def fail(
        self, method: str, path_prefix: str, *, times: int, status: int = 500, after_processing: bool = False
    ) -> None:
        with self.lock:
            self.failures.append(Failure(method, path_prefix, times, status, after_processing))

    def event(self, kind: str, obj: dict[str, Any], *, created: int | None = None) -> dict[str, Any]:
        return {
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": "2025-10-29.clover",
            "created": created or int(time.time()),
            "type": kind,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": json.loads(json.dumps(obj))},
        }

    def complete_checkout(self, session_id: str, *, started_ago_s: int = 0) -> list[dict[str, Any]]:
        """The customer pays on the Checkout page: a subscription (trialing if the session asked
        for a trial) and its first invoice. Returns the events Stripe would send, in order."""
        with self.lock:
            session = self.sessions[session_id]
            now = int(time.time()) - started_ago_s
            data = session["_subscription_data"]
            trial_days = int(data.get("trial_period_days") or 0)
            sub_id = self.new_id("sub")
            sub = {
                "id": sub_id,
                "object": "subscription",
                "customer": session["customer"],
                "status": "trialing" if trial_days else "active",
                "created": now,
                "start_date": now,
                "cancel_at_period_end": False,
                "canceled_at": None,
                "ended_at": None,
                "trial_start": now if trial_days else None,
                "trial_end": now + trial_days * DAY if trial_days else None,
                "metadata": data.get("metadata") or {},
                "items": {
                    "object": "list",
                    "data": [
                        {
                            "id": self.new_id("si"),
                            "object": "subscription_item",
                            "price": {"id": item["price"], "object": "price", **PRICES[item["price"]]},
                            "quantity": int(item["quantity"]) if "quantity" in item else None,
                            "current_period_start": now,
                            "current_period_end": now + 30 * DAY,
                        }
                        for item in session["_line_items"]
                    ],
                },
            }
            self.subscriptions[sub_id] = sub
            session.update(status="complete", subscription=sub_id, payment_status="paid")
            invoice = self._invoice(sub, paid=True, amount=0 if trial_days else self._base_amount(sub))
            return [
                self.event("customer.subscription.created", sub),
                self.event("invoice.paid", invoice),
                self.event("checkout.session.completed", self._public(session)),
            ]

    def fail_payment(self, sub_id: str) -> dict[str, Any]:
        with self.lock:
            sub = self.subscriptions[sub_id]
            sub["status"] = "past_due"
            return self.event(
                "invoice.payment_failed", self._invoice(sub, paid=False, amount=self._base_amount(sub))
            )

    def collect_payment(self, sub_id: str) -> dict[str, Any]:
        with self.lock:
            sub = self.subscriptions[sub_id]
            sub["status"] = "active"
            invoice = next(i for i in self.invoices.values() if i["status"] == "open" and i["_sub"] == sub_id)
            invoice.update(status="paid", amount_paid=invoice["amount_due"])
            return self.event("invoice.paid", self._public(invoice))

    def meter_total(self, customer_id: str) -> int:
        with self.lock:
            return sum(
                int(e["payload"]["value"])
                for e in self.meter_events.values()
                if e["payload"]["stripe_customer_id"] == customer_id
            )

    def meter_by_hour(self, customer_id: str) -> dict[int, int]:
        out: dict[int, int] = {}
        with self.lock:
            for e in self.meter_events.values():
                if e["payload"]["stripe_customer_id"] == customer_id:
                    out[e["timestamp"]] = out.get(e["timestamp"], 0) + int(e["payload"]["value"])
        return out

    def calls(self, method: str, path_prefix: str) -> int:
        with self.lock:
            return sum(1 for m, p in self.requests if m == method and p.startswith(path_prefix))

    # -- helpers --------------------------------------------------------------------------------

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    @staticmethod
    def _base_amount(sub: dict[str, Any]) -> int:
        return sum(int(i["price"].get("unit_amount") or 0) for i in sub["items"]["data"])

    def _invoice(self, sub: dict[str, Any], *, paid: bool, amount: int) -> dict[str, Any]:
        invoice_id = self.new_id("in")
        invoice = {
            "id": invoice_id,
            "object": "invoice",
            "number": f"SY-{len(self.invoices) + 1:04d}",
            "customer": sub["customer"],
            "status": "paid" if paid else "open",
            "amount_due": amount,
            "amount_paid": amount if paid else 0,
            "currency": "usd",
            "created": int(time.time()),
            "hosted_invoice_url": f"https://invoice.stripe.test/{invoice_id}",
            "parent": {"type": "subscription_details", "subscription_details": {"subscription": sub["id"]}},
            "_sub": sub["id"],
        }
        self.invoices[invoice_id] = invoice
        return self._public(invoice)

    # -- the API --------------------------------------------------------------------------------

    def handle(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/customers":
            customer = {"id": self.new_id("cus"), "object": "customer", **params}
            self.customers[customer["id"]] = customer
            return 200, customer
        if method == "POST" and path == "/v1/checkout/sessions":
            return 200, self._checkout_create(params)
        if method == "GET" and path.startswith("/v1/checkout/sessions/"):
            return 200, self._public(self._get(self.sessions, path, "checkout session"))
        if method == "POST" and path == "/v1/billing_portal/sessions":
            self._customer(params.get("customer"))
            return 200, {
                "id": self.new_id("bps"),
                "object": "billing_portal.session",
                "url": "https://billing.stripe.test/p/session",
            }
        if method == "GET" and path.startswith("/v1/subscriptions/"):
            return 200, self._get(self.subscriptions, path, "subscription")
        if method == "DELETE" and path.startswith("/v1/subscriptions/"):
            sub = self._get(self.subscriptions, path, "subscription")
            if sub["status"] == "canceled":
                raise StripeErrorResponse(
                    400, "This subscription is already canceled.", code="resource_missing"
                )
            sub.update(status="canceled", canceled_at=int(time.time()), ended_at=int(time.time()))
            return 200, sub
        if method == "GET" and path == "/v1/invoices":
            self._customer(params.get("customer"))
            data = [self._public(i) for i in self.invoices.values() if i["customer"] == params["customer"]]
            return 200, {"object": "list", "data": data[::-1], "has_more": False, "url": "/v1/invoices"}
        if method == "POST" and path == "/v1/invoices/create_preview":
            sub = self.subscriptions.get(params.get("subscription", ""))
            if sub is None:
                raise StripeErrorResponse(404, "No such subscription", code="resource_missing")
            usage = self.meter_total(sub["customer"])
            return 200, {
                "object": "invoice",
                "customer": sub["customer"],
                "status": "draft",
                "currency": "usd",
                "amount_due": self._base_amount(sub) + round(usage * 0.0005),
                "period_end": sub["items"]["data"][0]["current_period_end"],
            }
        if method == "POST" and path == "/v1/billing/meter_events":
            return 200, self._meter_event(params)
        raise StripeErrorResponse(404, f"Unrecognized request URL ({method}: {path}).")

    def _get(self, store: dict[str, dict[str, Any]], path: str, what: str) -> dict[str, Any]:
        key = path.rsplit("/", 1)[1]
        if key not in store:
            raise StripeErrorResponse(404, f"No such {what}: '{key}'", code="resource_missing")
        return store[key]

    def _customer(self, customer_id: Any) -> dict[str, Any]:
        if customer_id not in self.customers:
            raise StripeErrorResponse(400, f"No such customer: '{customer_id}'", code="resource_missing")
        return self.customers[customer_id]

    def _checkout_create(self, params: dict[str, Any]) -> dict[str, Any]:
        self._customer(params.get("customer"))
        if params.get("mode") != "subscription":
            raise StripeErrorResponse(400, "mode must be subscription here")
        for item in params.get("line_items") or []:
            price = PRICES.get(item.get("price"))
            if price is None:
                raise StripeErrorResponse(
                    400, f"No such price: '{item.get('price')}'", code="resource_missing"
                )
            if price["usage_type"] == "metered" and "quantity" in item:
                raise StripeErrorResponse(
                    400, "Quantity should not be specified where usage_type is `metered`."
                )
            if price["usage_type"] == "licensed" and "quantity" not in item:
                raise StripeErrorResponse(400, "Quantity is required for a licensed price.")
        if "{CHECKOUT_SESSION_ID}" not in params.get("success_url", ""):
            raise StripeErrorResponse(400, "test fake: success_url should carry {CHECKOUT_SESSION_ID}")
        session_id = self.new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "subscription",
            "status": "open",
            "customer": params["customer"],
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {},
            "subscription": None,
            "payment_status": "unpaid",
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            "success_url": params["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id),
            "_line_items": params.get("line_items") or [],
            "_subscription_data": params.get("subscription_data") or {},
        }
        self.sessions[session_id] = session
        return self._public(session)

    def _meter_event(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("event_name") != METER:
            raise StripeErrorResponse(400, f"No active meter found for event_name {params.get('event_name')}")
        payload = params.get("payload") or {}
        self._customer(payload.get("stripe_customer_id"))
        value = payload.get("value", "")
        if not value.isdigit():
            raise StripeErrorResponse(400, "payload[value] must be a whole number")
        timestamp = int(params.get("timestamp") or time.time())
        if not time.time() - 35 * DAY <= timestamp <= time.time() + 300:
            raise StripeErrorResponse(400, "timestamp must be within the past 35 days")
        identifier = params.get("identifier") or self.new_id("mev")
        if identifier in self.meter_events:
            raise StripeErrorResponse(
                400, f"An event with identifier {identifier} already exists.", code="duplicate_meter_event"
            )
        event = {
            "object": "billing.meter_event",
            "created": int(time.time()),
            "event_name": METER,
            "identifier": identifier,
            "livemode": False,
            "payload": {"stripe_customer_id": payload["stripe_customer_id"], "value": value},
            "timestamp": timestamp,
        }
        self.meter_events[identifier] = event
        return event

    def serve(
        self, method: str, path: str, params: dict[str, Any], headers: Any
    ) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append((method, path))
            if headers.get("Authorization") != f"Bearer {API_KEY}":
                return 401, StripeErrorResponse(401, "Invalid API Key provided").body
            failure = next(
                (
                    f
                    for f in self.failures
                    if f.times > 0 and f.method == method and path.startswith(f.path_prefix)
                ),
                None,
            )
            if failure is not None:
                failure.times -= 1
                if not failure.after_processing:
                    return failure.status, StripeErrorResponse(
                        failure.status, "injected failure", kind="api_error"
                    ).body
            key = headers.get("Idempotency-Key") if method == "POST" else None
            if key and key in self.idempotent:
                status, body = self.idempotent[key]
            else:
                try:
                    status, body = self.handle(method, path, params)
                except StripeErrorResponse as exc:
                    status, body = exc.status, exc.body
                if key and status < 500:
                    self.idempotent[key] = (status, body)
            if failure is not None:  # processed, but the answer is lost
                return failure.status, StripeErrorResponse(
                    failure.status, "injected failure", kind="api_error"
                ).body
            return status, body


def start(fake: FakeStripe) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            if fake.down:
                self.connection.close()
                return
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            params = _nest(
                parse_qsl(url.query, keep_blank_values=True) + parse_qsl(body, keep_blank_values=True)
            )
            status, payload = fake.serve(method, url.path, params, self.headers)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", fake.new_id("req"))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="fake-stripe", daemon=True).start()
    return server


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"
