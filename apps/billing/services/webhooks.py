"""Stripe webhooks: verified, recorded by event id, processed once.

1. The gateway checks the `Stripe-Signature` (bad, or older than five minutes → 400; nothing is
   recorded or changed).
2. The event id is recorded; an event already processed is answered 200 and not acted on again.
   Concurrent deliveries of one event serialise on its row.
3. Subscription state is never read from the payload: the subscription is fetched from Stripe and
   upserted, so events that arrive late or out of order converge on Stripe's current state. A
   failed invoice payment shows as a past-due subscription, which starts the grace period; a paid
   one shows as active again, which ends it.
4. An unknown customer or price is logged and alerted; the event is marked `needs_attention` and
   answered 200 (Stripe retrying would not help). Stripe unreachable while processing → the caller
   answers 503 and Stripe delivers the event again later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.billing import stripe_gateway as gateway
from apps.billing.models import BillingAccount, EventStatus, StripeEvent
from apps.billing.notify import alert, email_admins
from apps.billing.services.subscriptions import subscription_sync
from apps.billing.stripe_data import invoice_subscription_id, metadata_organization_id, ref, when


@dataclass(frozen=True)
class Handled:
    status: str  # an EventStatus value
    organization_id: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class WebhookOutcome:
    event_id: str
    type: str
    status: str  # processed | ignored | needs_attention | duplicate


def _sync(subscription_id: str) -> Handled:
    try:
        data = gateway.subscription_get(subscription_id)
    except gateway.StripeRejected as exc:
        alert("unknown_subscription", f"Stripe has no subscription {subscription_id}: {exc.message}")
        return Handled(EventStatus.NEEDS_ATTENTION, None, exc.message)
    result = subscription_sync(data=data)
    if result.status != "ok":
        return Handled(EventStatus.NEEDS_ATTENTION, result.organization_id, result.status)
    return Handled(
        EventStatus.PROCESSED, result.organization_id, f"plan {result.plan_before} → {result.plan_after}"
    )


def _checkout_completed(session: dict[str, Any]) -> Handled:
    if session.get("mode") != "subscription":
        return Handled(EventStatus.IGNORED, None, f"mode {session.get('mode')}")
    customer_id = ref(session.get("customer"))
    account = BillingAccount.objects.filter(stripe_customer_id=customer_id).first() if customer_id else None
    claimed = metadata_organization_id(session)
    if account is None or (claimed is not None and claimed != account.organization_id):
        alert(
            "unknown_customer",
            f"checkout session {session.get('id')} for customer {customer_id!r} (organisation "
            f"{claimed}) matches no organisation's billing account",
        )
        return Handled(EventStatus.NEEDS_ATTENTION, None, "unknown customer")
    subscription_id = ref(session.get("subscription"))
    if not subscription_id:
        return Handled(EventStatus.PROCESSED, account.organization_id, "no subscription in the session")
    return _sync(subscription_id)


def _subscription_changed(subscription: dict[str, Any]) -> Handled:
    return _sync(ref(subscription.get("id")))


def _trial_will_end(subscription: dict[str, Any]) -> Handled:
    handled = _sync(ref(subscription.get("id")))
    trial_end = when(subscription.get("trial_end"))
    org_id = handled.organization_id
    if org_id is not None and trial_end is not None:
        day = trial_end.strftime("%Y-%m-%d")
        transaction.on_commit(
            lambda: email_admins(
                organization_id=org_id,
                subject=f"Your trial ends on {day}",
                body=(
                    f"The free trial of your Switchyard plan ends on {day}. Add a payment method under "
                    "Billing → Manage billing to keep the plan; otherwise the organisation moves to Free."
                ),
            )
        )
    return handled


def _invoice_changed(invoice: dict[str, Any]) -> Handled:
    subscription_id = invoice_subscription_id(invoice)
    if not subscription_id:
        return Handled(EventStatus.IGNORED, None, "invoice without a subscription")
    return _sync(subscription_id)


HANDLERS: dict[str, Callable[[dict[str, Any]], Handled]] = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "customer.subscription.paused": _subscription_changed,
    "customer.subscription.resumed": _subscription_changed,
    "customer.subscription.trial_will_end": _trial_will_end,
    "invoice.paid": _invoice_changed,
    "invoice.payment_failed": _invoice_changed,
    "invoice.payment_action_required": _invoice_changed,
}


def _record(event: dict[str, Any]) -> StripeEvent:
    defaults = {"type": event["type"][:80], "stripe_created": when(event.get("created"))}
    try:
        row, _ = StripeEvent.objects.get_or_create(stripe_id=event["id"], defaults=defaults)
    except IntegrityError:  # a concurrent delivery recorded it first
        row = StripeEvent.objects.get(stripe_id=event["id"])
    return row


def _process(row_pk: int, event: dict[str, Any]) -> WebhookOutcome:
    with transaction.atomic():
        row = StripeEvent.objects.select_for_update().get(pk=row_pk)
        if row.processed_at is not None:
            return WebhookOutcome(row.stripe_id, row.type, "duplicate")
        handler = HANDLERS.get(row.type)
        obj = (event.get("data") or {}).get("object") or {}
        handled = handler(obj) if handler is not None else Handled(EventStatus.IGNORED)
        row.status = handled.status
        row.organization_id = handled.organization_id
        row.detail = handled.detail[:2000]
        row.attempts += 1
        row.processed_at = timezone.now()
        row.save()
    return WebhookOutcome(row.stripe_id, row.type, row.status)


def webhook_receive(*, payload: bytes, signature: str) -> WebhookOutcome:
    """Verify, record and process one webhook delivery (see the module docstring)."""
    event = gateway.webhook_event(payload=payload, signature=signature)
    row = _record(event)
    if row.processed_at is not None:
        return WebhookOutcome(row.stripe_id, row.type, "duplicate")
    try:
        return _process(row.pk, event)
    except gateway.StripeUnavailable as exc:
        StripeEvent.objects.filter(pk=row.pk).update(
            attempts=F("attempts") + 1, detail=f"will be retried: {exc.message}"[:2000]
        )
        raise
