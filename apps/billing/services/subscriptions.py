"""Subscriptions: Checkout, the Customer Portal, keeping our copy of Stripe's subscriptions, and the
grace period after a failed payment.

Our copy is only ever written from a subscription fetched from Stripe (`subscription_sync`), never
from a webhook's payload, so events that arrive late or out of order cannot roll it back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Organization, Person, Project, Role
from apps.accounts.services import require_role
from apps.billing import stripe_gateway as gateway
from apps.billing.models import (
    LIVE_STATUSES,
    PAYMENT_FAILED_STATUSES,
    BillingAccount,
    Plan,
    Subscription,
    SubscriptionStatus,
)
from apps.billing.notify import alert, email_admins
from apps.billing.selectors import PlanLimits, organization_plan, plan_for_prices
from apps.billing.stripe_data import (
    ref,
    subscription_period,
    subscription_price_ids,
    when,
)
from apps.core.errors import ApplicationError, NotFound

logger = logging.getLogger(__name__)

PAYMENT_GRACE = timedelta(days=7)


def account_for(*, organization: Organization) -> BillingAccount:
    account, _ = BillingAccount.objects.get_or_create(organization=organization)
    return account


def _with_customer(*, organization: Organization, email: str) -> BillingAccount:
    account = account_for(organization=organization)
    if account.stripe_customer_id:
        return account
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(pk=account.pk)
        if not account.stripe_customer_id:
            account.stripe_customer_id = gateway.customer_create(
                organization_id=organization.pk, name=organization.name, email=email
            )
            account.save(update_fields=["stripe_customer_id", "updated_at"])
    return account


def checkout_start(
    *, organization: Organization, plan_key: str, actor: Person, success_url: str, cancel_url: str
) -> str:
    """The Stripe Checkout address where an admin subscribes the organisation to a plan."""
    require_role(user=actor, organization=organization, at_least=Role.ADMIN)
    if not gateway.configured():
        raise gateway.StripeNotConfigured()
    plan = Plan.objects.filter(key=plan_key, is_active=True).first()
    if plan is None:
        raise NotFound("Plan not found")
    if not plan.self_serve:
        raise ApplicationError(f"The {plan.name} plan is not sold online; contact us.", code="not_self_serve")
    if not plan.purchasable:
        raise ApplicationError(
            f"The {plan.name} plan cannot be bought online yet (no Stripe price is set for it).",
            code="plan_unavailable",
        )
    if not organization_plan(organization_id=organization.pk).is_free:
        raise ApplicationError(
            "The organisation already has a subscription: change or cancel it under Manage billing.",
            code="already_subscribed",
        )
    account = _with_customer(organization=organization, email=getattr(actor, "email", "") or "")
    assert account.stripe_customer_id
    session = gateway.checkout_session_create(
        customer_id=account.stripe_customer_id,
        organization_id=organization.pk,
        plan_key=plan.key,
        prices=plan.price_ids(),
        trial_days=0 if account.trial_used else plan.trial_days,
        success_url=success_url,
        cancel_url=cancel_url,
    )
    return str(session["url"])


def checkout_return(*, organization: Organization, session_id: str, actor: Person) -> PlanLimits:
    """Back from Checkout: sync the new subscription now rather than wait for the webhook."""
    require_role(user=actor, organization=organization, at_least=Role.VIEWER)
    account = BillingAccount.objects.filter(organization=organization).first()
    if account is None or not account.stripe_customer_id or not session_id.startswith("cs_"):
        raise NotFound("Checkout session not found")
    try:
        session = gateway.checkout_session_get(session_id)
    except gateway.StripeRejected as exc:
        raise NotFound("Checkout session not found") from exc
    if (
        session.get("client_reference_id") != str(organization.pk)
        or ref(session.get("customer")) != account.stripe_customer_id
    ):
        raise NotFound("Checkout session not found")
    subscription_id = ref(session.get("subscription"))
    if subscription_id:
        subscription_sync(data=gateway.subscription_get(subscription_id))
    return organization_plan(organization_id=organization.pk)


def portal_start(*, organization: Organization, actor: Person, return_url: str) -> str:
    """The Stripe Customer Portal: payment methods, plan changes, cancellation, invoices."""
    require_role(user=actor, organization=organization, at_least=Role.ADMIN)
    if not gateway.configured():
        raise gateway.StripeNotConfigured()
    account = BillingAccount.objects.filter(organization=organization).first()
    if account is None or not account.stripe_customer_id:
        raise ApplicationError("There is no billing account yet: choose a plan first.", code="no_customer")
    return gateway.portal_session_create(customer_id=account.stripe_customer_id, return_url=return_url)


@dataclass(frozen=True)
class SyncResult:
    status: str  # ok | unknown_customer | unknown_price
    organization_id: int | None
    plan_before: str = ""
    plan_after: str = ""


def _account_for_subscription(data: dict[str, Any]) -> BillingAccount | None:
    customer_id = ref(data.get("customer"))
    if not customer_id:
        return None
    return BillingAccount.objects.filter(stripe_customer_id=customer_id).first()


def subscription_sync(*, data: dict[str, Any], now: datetime | None = None) -> SyncResult:
    """Upsert our copy of a subscription fetched from Stripe; apply a plan change it brings."""
    now = now or timezone.now()
    account = _account_for_subscription(data)
    if account is None:
        alert(
            "unknown_customer",
            f"subscription {data.get('id')} belongs to customer {ref(data.get('customer'))!r}, "
            "which no organisation has",
        )
        return SyncResult("unknown_customer", None)
    org_id = account.organization_id
    plan = plan_for_prices(subscription_price_ids(data))
    status = str(data.get("status") or SubscriptionStatus.INCOMPLETE)
    before = organization_plan(organization_id=org_id, now=now)
    period_start, period_end = subscription_period(data)
    newly_failed = False
    with transaction.atomic():
        sub, _ = Subscription.objects.select_for_update().get_or_create(
            stripe_id=str(data["id"]), defaults={"account": account, "status": status}
        )
        sub.account = account
        if plan is not None:
            sub.plan = plan
        sub.status = status
        sub.stripe_created = when(data.get("created"))
        sub.started_at = when(data.get("start_date")) or sub.stripe_created
        sub.current_period_start, sub.current_period_end = period_start, period_end
        sub.cancel_at_period_end = bool(data.get("cancel_at_period_end"))
        sub.canceled_at = when(data.get("canceled_at"))
        sub.trial_end = when(data.get("trial_end"))
        if status in PAYMENT_FAILED_STATUSES and sub.payment_failed_at is None:
            sub.payment_failed_at, sub.grace_until, newly_failed = now, now + PAYMENT_GRACE, True
        elif status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING):
            sub.payment_failed_at = sub.grace_until = sub.downgraded_at = None
        sub.synced_at = now
        sub.save()
        if sub.trial_end is not None and not account.trial_used:
            BillingAccount.objects.filter(pk=account.pk).update(trial_used=True)
    after = organization_plan(organization_id=org_id, now=now)
    _after_change(org_id, before, after, newly_failed=newly_failed)
    if plan is None:
        kept = f"it stays on {sub.plan.name}" if sub.plan else "it does not change the plan"
        alert(
            "unknown_price",
            f"subscription {sub.stripe_id} of organisation {org_id} has prices "
            f"{subscription_price_ids(data)} that no plan uses; {kept}",
        )
        return SyncResult("unknown_price", org_id, before.key, after.key)
    return SyncResult("ok", org_id, before.key, after.key)


def _after_change(org_id: int, before: PlanLimits, after: PlanLimits, *, newly_failed: bool) -> None:
    if (before.key, before.state, before.retention_days) != (after.key, after.state, after.retention_days):
        plan_apply(organization_id=org_id)
    if before.key != after.key:
        transaction.on_commit(
            lambda: email_admins(
                organization_id=org_id,
                subject=f"Your organisation is now on the {after.name} plan",
                body=_plan_text(after),
            )
        )
    if newly_failed and after.grace_until is not None:
        until = after.grace_until.strftime("%Y-%m-%d %H:%M UTC")
        transaction.on_commit(
            lambda: email_admins(
                organization_id=org_id,
                subject="A payment failed",
                body=(
                    f"Stripe could not collect the payment for your {after.name} plan. Update the payment "
                    f"method under Billing → Manage billing before {until}; after that the organisation "
                    "moves to the Free plan and its limits."
                ),
            )
        )


def _plan_text(plan: PlanLimits) -> str:
    limit = f"{plan.event_limit:,}" if plan.event_limit else "no hard limit"
    return (
        f"Plan: {plan.name}\nIncluded events per month: {plan.included_events:,} ({limit})\n"
        f"Retention: {plan.retention_days} days\nSeats: {plan.seats or 'unlimited'}\n"
    )


def plan_apply(*, organization_id: int) -> PlanLimits:
    """Make the plan in force take effect: project retention (the TTL of calls stored from now on).
    Ingest reads the plan's limits afresh within apps.ingest.selectors.CONFIG_TTL_S (10 s) in every
    process."""
    limits = organization_plan(organization_id=organization_id)
    projects = Project.objects.filter(organization_id=organization_id)
    projects.exclude(retention_days=limits.retention_days).update(retention_days=limits.retention_days)
    return limits


def grace_sweep(*, now: datetime | None = None) -> int:
    """Subscriptions whose payment grace has ended: move the organisation to Free (once, with an
    e-mail) and cancel the subscription at Stripe so it stops charging. Returns how many ended."""
    now = now or timezone.now()
    ended = 0
    due = Subscription.objects.filter(grace_until__lte=now, status__in=LIVE_STATUSES).select_related(
        "account", "plan"
    )
    for sub in due:
        org_id = sub.account.organization_id
        if sub.downgraded_at is None:
            Subscription.objects.filter(pk=sub.pk).update(downgraded_at=now)
            plan_apply(organization_id=org_id)
            ended += 1
            email_admins(
                organization_id=org_id,
                subject="Your organisation is now on the Free plan",
                body=(
                    f"The payment for the {sub.plan.name if sub.plan else 'paid'} plan was not made within "
                    f"the grace period, so the subscription is cancelled and the Free plan's limits apply. "
                    "Subscribe again under Billing at any time; no data has been deleted."
                ),
            )
        try:
            subscription_sync(data=gateway.subscription_cancel(sub.stripe_id), now=now)
        except (gateway.StripeUnavailable, gateway.StripeNotConfigured) as exc:
            logger.warning("cancelling %s after its grace period: %s; will retry", sub.stripe_id, exc.message)
        except gateway.StripeRejected as exc:
            _after_refused_cancel(sub, exc, now)
    return ended


def _after_refused_cancel(sub: Subscription, exc: gateway.StripeRejected, now: datetime) -> None:
    """Stripe refuses to cancel what is already cancelled: fetch it; alert if it is still live."""
    try:
        result = subscription_sync(data=gateway.subscription_get(sub.stripe_id), now=now)
    except (gateway.StripeRejected, gateway.StripeUnavailable):
        result = None
    still_live = Subscription.objects.filter(pk=sub.pk, status__in=LIVE_STATUSES).exists()
    if result is None or still_live:
        alert(
            "cancel_failed", f"Stripe refused to cancel {sub.stripe_id} after its grace period: {exc.message}"
        )
