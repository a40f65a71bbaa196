"""POST /billing/stripe/webhook: signatures, idempotency, out-of-order events, unknown customers
and prices, Stripe down while processing, and payment failure → grace → downgrade."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Project
from apps.billing.models import BillingAccount, EventStatus, Plan, StripeEvent, Subscription
from apps.billing.notify import BILLING_ALERTS
from apps.billing.selectors import organization_plan
from apps.billing.services.subscriptions import PAYMENT_GRACE, grace_sweep
from tests.billing.conftest import deliver
from tests.billing.fake_stripe import FakeStripe, sign
from tests.billing.flows import start_checkout, subscribe
from tests.ingest.events import event, post_batch
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db


def _alerts(reason: str) -> float:
    return BILLING_ALERTS.labels(reason)._value.get()


def _checkout_events(tenant: Tenant, stripe: FakeStripe) -> list[dict]:  # type: ignore[type-arg]
    return stripe.complete_checkout(start_checkout(tenant, "team"))


@pytest.mark.parametrize(
    "how",
    ["wrong secret", "five minutes too old", "tampered body", "no header", "not a signature"],
)
def test_a_bad_or_old_signature_is_400_and_changes_nothing(
    how: str, tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan]
) -> None:
    created = _checkout_events(tenant, stripe)[0]
    payload = json.dumps(created).encode()
    signature = {
        "wrong secret": sign(payload, secret="whsec_someone_else"),
        "five minutes too old": sign(payload, timestamp=int(time.time()) - 301),
        "tampered body": sign(payload.replace(b'"trialing"', b'"active"')),
        "no header": "",
        "not a signature": "v1=abc",
    }[how]
    fetches = stripe.calls("GET", "/v1/subscriptions/")
    response = Client().post(
        "/billing/stripe/webhook",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_webhook"
    assert not StripeEvent.objects.exists() and not Subscription.objects.exists()
    assert stripe.calls("GET", "/v1/subscriptions/") == fetches


def test_a_replayed_event_is_200_and_acts_once(
    tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan]
) -> None:
    created = _checkout_events(tenant, stripe)[0]
    first, again, third = deliver(created), deliver(created), deliver(created)
    assert first.status_code == again.status_code == third.status_code == 200
    assert (first.json()["status"], again.json()["status"], third.json()["status"]) == (
        "processed",
        "duplicate",
        "duplicate",
    )
    row = StripeEvent.objects.get()
    assert (row.stripe_id, row.attempts, row.organization_id) == (created["id"], 1, tenant.organization.pk)
    assert stripe.calls("GET", "/v1/subscriptions/") == 1
    assert len(mail.outbox) == 1


def test_events_out_of_order_converge_on_stripes_state(
    tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan]
) -> None:
    created = _checkout_events(tenant, stripe)[0]
    sub = stripe.subscriptions[created["data"]["object"]["id"]]
    sub["status"] = "canceled"
    deleted = stripe.event("customer.subscription.deleted", sub)
    assert deliver(deleted).status_code == 200
    assert deliver(created).status_code == 200  # the older event arrives last
    assert Subscription.objects.get().status == "canceled"
    assert organization_plan(organization_id=tenant.organization.pk).key == "free"


def test_unknown_customer_and_price_are_alerted_not_crashed(
    tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan], caplog: pytest.LogCaptureFixture
) -> None:
    created = _checkout_events(tenant, stripe)[0]
    sub = stripe.subscriptions[created["data"]["object"]["id"]]
    stranger = {**sub, "id": "sub_stranger", "customer": "cus_nobody"}
    stripe.subscriptions["sub_stranger"] = stranger
    odd_price = json.loads(json.dumps({**sub, "id": "sub_odd_price"}))
    odd_price["items"]["data"][0]["price"] = {"id": "price_nobody_knows"}
    odd_price["items"]["data"] = odd_price["items"]["data"][:1]
    stripe.subscriptions["sub_odd_price"] = odd_price
    before = (_alerts("unknown_customer"), _alerts("unknown_price"))
    with caplog.at_level(logging.ERROR, logger="apps.billing"):
        assert deliver(stripe.event("customer.subscription.created", stranger)).status_code == 200
        assert deliver(stripe.event("customer.subscription.created", odd_price)).status_code == 200
    assert (_alerts("unknown_customer"), _alerts("unknown_price")) == (before[0] + 1, before[1] + 1)
    assert "cus_nobody" in caplog.text and "price_nobody_knows" in caplog.text
    statuses = set(StripeEvent.objects.values_list("status", flat=True))
    assert statuses == {EventStatus.NEEDS_ATTENTION}
    assert Subscription.objects.get().stripe_id == "sub_odd_price"  # kept, but no plan from it
    assert organization_plan(organization_id=tenant.organization.pk).key == "free"


def test_stripe_down_while_processing_is_503_then_processed_on_redelivery(
    tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan]
) -> None:
    created = _checkout_events(tenant, stripe)[0]
    stripe.fail("GET", "/v1/subscriptions/", times=3, status=500)  # every try of the library
    down = deliver(created)
    assert down.status_code == 503 and down.json()["error"]["code"] == "stripe_unavailable"
    row = StripeEvent.objects.get()
    assert row.processed_at is None and row.attempts == 1 and "retried" in row.detail
    assert deliver(created).json()["status"] == "processed"
    assert organization_plan(organization_id=tenant.organization.pk).key == "team"


def test_payment_failure_grace_then_downgrade(
    tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan]
) -> None:
    Plan.objects.filter(key="team").update(trial_days=0)
    sub = subscribe(tenant, stripe, "team")
    mail.outbox.clear()
    assert deliver(stripe.fail_payment(sub["id"])).status_code == 200
    plan = organization_plan(organization_id=tenant.organization.pk)
    assert (plan.key, plan.state) == ("team", "payment_failed")
    assert plan.grace_until is not None
    assert abs((plan.grace_until - timezone.now()) - PAYMENT_GRACE) < timedelta(minutes=1)
    assert [m.subject for m in mail.outbox] == ["[Switchyard] A payment failed"]
    page = tenant.web().get(reverse("billing:overview")).content.decode()
    assert "A payment failed" in page

    assert grace_sweep(now=timezone.now() + PAYMENT_GRACE - timedelta(hours=1)) == 0  # still in grace
    assert organization_plan(organization_id=tenant.organization.pk).key == "team"

    later = timezone.now() + PAYMENT_GRACE + timedelta(hours=1)
    assert grace_sweep(now=later) == 1
    assert grace_sweep(now=later) == 0  # once
    assert stripe.subscriptions[sub["id"]]["status"] == "canceled"
    local = Subscription.objects.get()
    assert local.status == "canceled" and local.downgraded_at is not None
    assert organization_plan(organization_id=tenant.organization.pk).key == "free"
    assert Project.objects.get(pk=tenant.project.pk).retention_days == 30
    assert mail.outbox[-1].subject == "[Switchyard] Your organisation is now on the Free plan"

    Plan.objects.filter(key="free").update(event_limit=1)  # Free's limit applies to ingest again
    from apps.billing.services.subscriptions import plan_apply

    plan_apply(organization_id=tenant.organization.pk)
    refused = post_batch(tenant.api("ingest"), [event(), event()])
    assert refused.status_code == 429 and "on the Free plan" in refused.json()["error"]["message"]


def test_payment_collected_within_grace_keeps_the_plan(
    tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan]
) -> None:
    Plan.objects.filter(key="team").update(trial_days=0)
    sub = subscribe(tenant, stripe, "team")
    failed = stripe.fail_payment(sub["id"])
    paid = stripe.collect_payment(sub["id"])
    assert deliver(paid).status_code == 200
    assert deliver(failed).status_code == 200  # the older failure arrives after the payment
    plan = organization_plan(organization_id=tenant.organization.pk)
    assert (plan.key, plan.state, plan.grace_until) == ("team", "active", None)
    assert grace_sweep(now=timezone.now() + PAYMENT_GRACE * 2) == 0
    assert BillingAccount.objects.get().stripe_customer_id == sub["customer"]


def test_a_plan_switch_in_the_portal_and_the_trial_reminder(
    tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan]
) -> None:
    sub = subscribe(tenant, stripe, "team")
    mail.outbox.clear()
    reminder = deliver(stripe.event("customer.subscription.trial_will_end", sub))
    assert reminder.json()["status"] == "processed"
    assert mail.outbox[0].subject.startswith("[Switchyard] Your trial ends on ")

    items = stripe.subscriptions[sub["id"]]["items"]["data"]
    items[0]["price"] = {"id": "price_business_base"}  # the customer switched plans in the portal
    items[1]["price"] = {"id": "price_business_events"}
    assert deliver(stripe.event("customer.subscription.updated", sub)).status_code == 200
    plan = organization_plan(organization_id=tenant.organization.pk)
    assert (plan.key, plan.retention_days, plan.seats) == ("business", 365, 100)
    assert Project.objects.get(pk=tenant.project.pk).retention_days == 365
    assert mail.outbox[-1].subject == "[Switchyard] Your organisation is now on the Business plan"
