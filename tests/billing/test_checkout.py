"""Self-serve: Checkout → webhook → plan change → quota change, the billing page, the portal, and
running without Stripe (the demo) or while Stripe is down."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from apps.accounts.models import Project
from apps.accounts.services import project_create
from apps.billing.models import Plan, StripeEvent, Subscription
from apps.billing.selectors import organization_plan
from apps.billing.services.subscriptions import plan_apply
from apps.ingest.selectors import ingest_config_forget
from apps.warehouse.client import ProjectScope
from tests.billing.conftest import deliver
from tests.billing.fake_stripe import FakeStripe
from tests.billing.flows import start_checkout, subscribe
from tests.ingest.events import event, post_batch, stored_count
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db


def _free_limit(tenant: Tenant, events: int) -> None:
    Plan.objects.filter(key="free").update(included_events=events, event_limit=events)
    plan_apply(organization_id=tenant.organization.pk)


def test_checkout_webhooks_change_the_plan_and_lift_the_quota(
    tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan]
) -> None:
    _free_limit(tenant, 3)
    ingest = tenant.api("ingest")
    assert post_batch(ingest, [event(), event(), event()]).status_code == 200
    blocked = [event(), event()]
    over = post_batch(ingest, blocked)
    assert over.status_code == 429
    assert over.json()["error"]["message"].startswith(
        "Monthly quota of 3 events on the Free plan reached (3 used"
    )
    assert 60 <= int(over["Retry-After"]) <= 3600

    session_id = start_checkout(tenant, "team")
    checkout = stripe.sessions[session_id]
    assert checkout["customer"] in stripe.customers and checkout["client_reference_id"] == str(
        tenant.organization.pk
    )
    assert [i["price"] for i in checkout["_line_items"]] == ["price_team_base", "price_team_events"]
    assert checkout["_subscription_data"]["trial_period_days"] == "14"
    assert (
        organization_plan(organization_id=tenant.organization.pk).key == "free"
    )  # not before Stripe says so

    created, paid, completed = stripe.complete_checkout(session_id)
    for e in (completed, paid, created):  # Stripe does not promise an order
        assert deliver(e).status_code == 200
    plan = organization_plan(organization_id=tenant.organization.pk)
    assert (plan.key, plan.state, plan.event_limit) == ("team", "trialing", 50_000_000)
    assert Project.objects.get(pk=tenant.project.pk).retention_days == 90
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {"processed"}

    ingest_config_forget(tenant.project.pk)  # as CONFIG_TTL_S (10 s) later, in any process
    retried = post_batch(ingest, blocked)  # what the SDK kept, sent again
    assert retried.status_code == 200 and retried.json()["accepted"] == 2
    assert stored_count(tenant.project.pk) == 5
    sql = "SELECT max(retention_days) FROM llm_calls WHERE project_id = {project_id:UInt64}"
    assert ProjectScope(tenant.project.pk).query(sql, feature="test").scalar() == 90
    assert [m.subject for m in mail.outbox] == ["[Switchyard] Your organisation is now on the Team plan"]
    assert mail.outbox[0].to == [tenant.user.email]


def test_back_from_checkout_the_plan_is_synced_before_any_webhook(
    tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan]
) -> None:
    session_id = start_checkout(tenant, "business")
    stripe.complete_checkout(session_id)  # no webhook delivered yet
    page = tenant.web().get(reverse("billing:checkout-return") + f"?session_id={session_id}", follow=True)
    assert "is on the Business plan" in page.content.decode()
    assert organization_plan(organization_id=tenant.organization.pk).key == "business"
    assert project_create(organization=tenant.organization, name="New", actor=None).retention_days == 365


def test_a_trial_is_given_once(tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan]) -> None:
    sub = subscribe(tenant, stripe, "team")
    assert sub["status"] == "trialing"
    cancelled = stripe.event("customer.subscription.deleted", sub)
    stripe.subscriptions[sub["id"]]["status"] = "canceled"
    assert deliver(cancelled).status_code == 200
    assert organization_plan(organization_id=tenant.organization.pk).key == "free"
    second = start_checkout(tenant, "team")
    assert "trial_period_days" not in stripe.sessions[second]["_subscription_data"]


def test_billing_page_shows_plan_usage_estimate_and_invoices(
    tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan]
) -> None:
    Plan.objects.filter(key="team").update(trial_days=0)
    subscribe(tenant, stripe, "team")
    post_batch(tenant.api("ingest"), [event() for _ in range(7)])
    body = tenant.web().get(reverse("billing:overview")).content.decode()
    assert "Team" in body and "renews" in body
    assert "Events this month" in body and ">7<" in body and "of 5,000,000 included" in body
    assert "Next invoice: <strong>$49.00</strong>" in body
    assert "SY-0001" in body and "$49.00" in body and "https://invoice.stripe.test/" in body
    assert "Manage billing" in body

    portal = tenant.web().post(reverse("billing:portal"))
    assert portal.status_code == 302 and portal["Location"] == "https://billing.stripe.test/p/session"


def test_members_see_usage_but_not_invoices_or_checkout(
    tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan]
) -> None:
    from apps.accounts.models import Role
    from tests.tenancy import add_member

    member = add_member(tenant, Role.MEMBER, "m")
    client = tenant.web()
    client.force_login(member)
    body = client.get(reverse("billing:overview")).content.decode()
    assert "Events this month" in body and "Invoices" not in body and "Upgrade" not in body
    refused = client.post(reverse("billing:checkout"), {"plan": "team"})
    assert refused.status_code == 403 and not stripe.sessions


def test_without_stripe_everyone_is_on_free_and_nothing_calls_stripe(
    tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan], settings: object
) -> None:
    settings.STRIPE_API_KEY = ""  # type: ignore[attr-defined]  # the embedded demo
    body = tenant.web().get(reverse("billing:overview")).content.decode()
    assert "Paid plans are not available on this server" in body and "Upgrade" not in body
    page = tenant.web().post(reverse("billing:checkout"), {"plan": "team"}, follow=True)
    assert "Paid plans are not available on this server" in page.content.decode()
    assert post_batch(tenant.api("ingest"), [event()]).status_code == 200
    assert stripe.requests == []


def test_stripe_down_pages_say_so_and_ingest_keeps_working(
    tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan]
) -> None:
    subscribe(tenant, stripe, "team")
    stripe.down = True
    body = tenant.web().get(reverse("billing:overview")).content.decode()
    assert "Stripe cannot be reached right now" in body and "Team" in body
    page = tenant.web().post(reverse("billing:portal"), follow=True)
    assert "Stripe cannot be reached right now" in page.content.decode()
    assert post_batch(tenant.api("ingest"), [event(), event()]).json()["accepted"] == 2
    assert Subscription.objects.get().status == "trialing"


def test_a_plan_without_prices_or_not_self_serve_is_not_sold(
    tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan]
) -> None:
    Plan.objects.filter(key="team").update(stripe_price_id="", stripe_metered_price_id="")
    for plan, message in (("team", "cannot be bought online yet"), ("enterprise", "not sold online")):
        page = tenant.web().post(reverse("billing:checkout"), {"plan": plan}, follow=True)
        assert message in page.content.decode()
    assert not stripe.sessions
