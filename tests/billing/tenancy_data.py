"""Billing data owned by one tenant, for tests/tenancy_cases.py: what another tenant must not see
or change."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone

from apps.billing.models import BillingAccount, UsageNotice
from apps.billing.selectors import period_of
from tests.tenancy import Tenant


def secrets(t: Tenant) -> dict[str, Any]:
    """Make (once) the owner's billing account and a usage notice naming a secret plan."""
    if "billing" in t.extra:
        return t.extra["billing"]  # type: ignore[no-any-return]
    slug = t.organization.slug
    account = BillingAccount.objects.create(
        organization=t.organization, stripe_customer_id=f"cus_{slug}_secret"
    )
    notice = UsageNotice.objects.create(
        organization=t.organization,
        period=period_of(timezone.now()),
        metric="events",
        threshold=80,
        used=8,
        limit=10,
        plan_name=f"{slug}-secret-plan",
    )
    t.extra["billing"] = {"account": account, "notice": notice}
    return t.extra["billing"]  # type: ignore[no-any-return]


def url(name: str) -> Any:
    def build(t: Tenant) -> str:
        secrets(t)
        return reverse(name)

    return build


def return_url(t: Tenant) -> str:
    secrets(t)
    return reverse("billing:checkout-return") + f"?session_id=cs_{t.organization.slug}_secret"


def hides_owner(owner: Tenant, intruder: Tenant, response: Any) -> None:
    assert response.status_code == 200, response.status_code
    body = response.content.decode()
    assert f"{owner.organization.slug}-secret-plan" not in body and owner.organization.name not in body


def leaves_owner_alone(owner: Tenant, intruder: Tenant, response: Any) -> None:
    """Checkout and the portal act on the caller's own organisation only."""
    assert response.status_code == 302, response.status_code
    account = BillingAccount.objects.get(organization=owner.organization)
    assert account.stripe_customer_id == f"cus_{owner.organization.slug}_secret"
    assert not account.subscriptions.exists()
    assert (
        not BillingAccount.objects.filter(stripe_customer_id=account.stripe_customer_id)
        .exclude(pk=account.pk)
        .exists()
    )
