"""The only code in Switchyard that calls Stripe.

Functions take and return plain values (str, int, dicts of JSON), so the rest of billing never
sees a Stripe object. Errors become one of three ApplicationErrors:

- `StripeNotConfigured`: no `STRIPE_API_KEY` (the embedded demo): paid plans are not offered;
- `StripeUnavailable`: Stripe could not be reached, timed out, failed (5xx) or throttled us; the
  caller retries later (pages say so, metering leaves the report pending, webhooks answer 503);
- `StripeRejected`: Stripe refused the request (4xx): retrying the same request will not help.

A `StripeClient` per (key, base address) is used instead of the module globals, so nothing else
can change where Switchyard's requests go; `STRIPE_API_BASE` points it at a local fake in tests.
Writes carry an idempotency key where a retry could duplicate something (customers, meter events).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import stripe
from django.conf import settings

from apps.core.errors import ApplicationError

TIMEOUT_S = 15
WRITE_RETRIES = 2  # the library's own retries (same idempotency key), with backoff
READ_RETRIES = 0  # pages would rather say "Stripe is unreachable" at once
WEBHOOK_TOLERANCE_S = 300  # older signatures are refused (replay protection)


class StripeNotConfigured(ApplicationError):
    def __init__(self) -> None:
        super().__init__(
            "Paid plans are not available on this server (Stripe is not configured).",
            code="billing_not_configured",
            status=400,
        )


class StripeUnavailable(ApplicationError):
    def __init__(self, detail: str = "") -> None:
        message = "Stripe cannot be reached right now; try again in a few minutes."
        super().__init__(
            f"{message} ({detail})" if detail else message, code="stripe_unavailable", status=503
        )


class StripeRejected(ApplicationError):
    def __init__(self, message: str, *, stripe_code: str = "") -> None:
        super().__init__(f"Stripe refused the request: {message}", code="stripe_rejected", status=502)
        self.stripe_code = stripe_code


class InvalidWebhook(ApplicationError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid_webhook", status=400)


def configured() -> bool:
    return bool(settings.STRIPE_API_KEY)


_clients: dict[tuple[str, str], stripe.StripeClient] = {}
_clients_lock = threading.Lock()


def _client() -> stripe.StripeClient:
    if not configured():
        raise StripeNotConfigured()
    key = (settings.STRIPE_API_KEY, settings.STRIPE_API_BASE.rstrip("/"))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = stripe.StripeClient(
                key[0],
                base_addresses={"api": key[1], "meter_events": key[1]},
                max_network_retries=WRITE_RETRIES,
                http_client=stripe.RequestsClient(timeout=TIMEOUT_S),
            )
        return client


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
        raise StripeUnavailable(type(exc).__name__) from exc
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        raise StripeUnavailable("Stripe refused the API key; check STRIPE_API_KEY") from exc
    except stripe.StripeError as exc:  # invalid request, idempotency, card errors
        raise StripeRejected(
            getattr(exc, "user_message", None) or str(exc) or type(exc).__name__,
            stripe_code=str(getattr(exc, "code", "") or ""),
        ) from exc


def _plain(value: Any) -> Any:
    """A Stripe object as plain JSON values (StripeObject is a dict subclass)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _read() -> Any:
    return {"max_network_retries": READ_RETRIES}


def customer_create(*, organization_id: int, name: str, email: str) -> str:
    """A Stripe customer for an organisation; retried calls return the same customer."""
    with _translated():
        customer = _client().v1.customers.create(
            params={"name": name, "email": email, "metadata": {"organization_id": str(organization_id)}},
            options={"idempotency_key": f"switchyard-customer-{organization_id}"},
        )
    return str(customer.id)


def checkout_session_create(
    *,
    customer_id: str,
    organization_id: int,
    plan_key: str,
    prices: list[tuple[str, bool]],
    trial_days: int,
    success_url: str,
    cancel_url: str,
) -> dict[str, Any]:
    """A subscription Checkout session; `prices` are (price id, metered). Returns {id, url}."""
    metadata = {"organization_id": str(organization_id), "plan": plan_key}
    subscription_data: dict[str, Any] = {"metadata": metadata}
    if trial_days:
        subscription_data["trial_period_days"] = trial_days
    params: dict[str, Any] = {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": str(organization_id),
        "line_items": [{"price": p} if metered else {"price": p, "quantity": 1} for p, metered in prices],
        "subscription_data": subscription_data,
        "metadata": metadata,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    with _translated():
        session = _client().v1.checkout.sessions.create(params=cast(Any, params))
    return {"id": session.id, "url": session.url}


def checkout_session_get(session_id: str) -> dict[str, Any]:
    with _translated():
        return cast(
            dict[str, Any], _plain(_client().v1.checkout.sessions.retrieve(session_id, options=_read()))
        )


def portal_session_create(*, customer_id: str, return_url: str) -> str:
    """A Customer Portal session (payment methods, plan changes, cancellation, invoices)."""
    with _translated():
        session = _client().v1.billing_portal.sessions.create(
            params={"customer": customer_id, "return_url": return_url}
        )
    return str(session.url)


def subscription_get(subscription_id: str) -> dict[str, Any]:
    with _translated():
        return cast(dict[str, Any], _plain(_client().v1.subscriptions.retrieve(subscription_id)))


def subscription_cancel(subscription_id: str) -> dict[str, Any]:
    with _translated():
        return cast(
            dict[str, Any],
            _plain(
                _client().v1.subscriptions.cancel(
                    subscription_id, options={"idempotency_key": f"switchyard-cancel-{subscription_id}"}
                )
            ),
        )


def invoices_list(*, customer_id: str, limit: int = 12) -> list[dict[str, Any]]:
    with _translated():
        page = _client().v1.invoices.list(params={"customer": customer_id, "limit": limit}, options=_read())
    return cast(list[dict[str, Any]], _plain(list(page.data)))


def invoice_preview(*, customer_id: str, subscription_id: str) -> dict[str, Any]:
    """The next invoice as Stripe would draw it now (metered usage so far included)."""
    with _translated():
        preview = _client().v1.invoices.create_preview(
            params={"customer": customer_id, "subscription": subscription_id}, options=_read()
        )
    return cast(dict[str, Any], _plain(preview))


def meter_event_create(
    *,
    event_name: str,
    customer_id: str,
    value: int,
    identifier: str,
    timestamp: int,
    idempotency_key: str = "",
) -> None:
    """Report `value` units to a Billing Meter. Stripe keeps one event per identifier; the
    idempotency key (the identifier unless given) makes a retried request replay the first answer."""
    with _translated():
        _client().v1.billing.meter_events.create(
            params={
                "event_name": event_name,
                "payload": {"stripe_customer_id": customer_id, "value": str(value)},
                "identifier": identifier,
                "timestamp": timestamp,
            },
            options={"idempotency_key": idempotency_key or identifier},
        )


def webhook_event(*, payload: bytes, signature: str) -> dict[str, Any]:
    """The event in a webhook request, once its `Stripe-Signature` checks out (HMAC-SHA256 over
    `t.payload` with the endpoint secret, at most WEBHOOK_TOLERANCE_S old)."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise InvalidWebhook("Webhooks are not configured on this server (STRIPE_WEBHOOK_SECRET)")
    if not signature:
        raise InvalidWebhook("Missing Stripe-Signature header")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_S)
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook(f"Signature verification failed: {exc.user_message or exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidWebhook("The body is not a JSON event") from exc
    data = cast(dict[str, Any], _plain(event))
    if not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str):
        raise InvalidWebhook("The event has no id or type")
    return data
