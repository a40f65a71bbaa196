"""Billing journeys that several tests start from."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tests.billing.conftest import deliver
from tests.billing.fake_stripe import FakeStripe
from tests.tenancy import Tenant


def start_checkout(tenant: Tenant, plan: str = "team") -> str:
    """An admin clicks Upgrade: we are sent to Stripe Checkout. Returns the session id."""
    response = tenant.web().post(reverse("billing:checkout"), {"plan": plan})
    assert response.status_code == 302, response.content
    assert response["Location"].startswith("https://checkout.stripe.test/c/pay/cs_"), response["Location"]
    return str(response["Location"].rsplit("/", 1)[1])


def subscribe(
    tenant: Tenant, stripe: FakeStripe, plan: str = "team", *, started_ago_s: int = 0
) -> dict[str, Any]:
    """Checkout completed and every webhook delivered. Returns Stripe's subscription."""
    session_id = start_checkout(tenant, plan)
    for event in stripe.complete_checkout(session_id, started_ago_s=started_ago_s):
        response = deliver(event)
        assert response.status_code == 200, response.content
    return stripe.subscriptions[stripe.sessions[session_id]["subscription"]]
