"""Metered usage: ClickHouse hourly counts → Stripe meter events, exactly once per unit, through
retries, lost answers, late data and refusals; and the reconciliation page."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role
from apps.billing.models import BillingAccount, Plan, ReportStatus, Subscription, UsageReport
from apps.billing.notify import BILLING_ALERTS
from apps.billing.selectors import hour_floor
from apps.billing.services.metering import usage_report_run
from apps.billing.tasks import report_usage
from tests.billing.fake_stripe import FakeStripe
from tests.billing.flows import subscribe
from tests.ingest.events import event, post_batch
from tests.tenancy import Tenant, add_member

pytestmark = pytest.mark.django_db

METER = "switchyard_events"


def _ts(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _ingest(tenant: Tenant, moment: datetime, n: int) -> None:
    response = post_batch(tenant.api("ingest"), [event(ts=_ts(moment)) for _ in range(n)])
    assert response.status_code == 200 and response.json()["accepted"] == n, response.content


@pytest.fixture
def metered(tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan]) -> dict[str, object]:
    """A Team subscription that started six hours ago, and events in two closed hours and the
    open one: 3 in hour A, 2 in hour B, 1 now."""
    subscribe(tenant, stripe, "team", started_ago_s=6 * 3600)
    now = timezone.now()
    hour_a = hour_floor(now) - timedelta(hours=4)
    hour_b = hour_a + timedelta(hours=1)
    _ingest(tenant, hour_a + timedelta(minutes=10), 3)
    _ingest(tenant, hour_b + timedelta(minutes=59), 2)
    _ingest(tenant, now, 1)
    customer = BillingAccount.objects.get(organization=tenant.organization).stripe_customer_id
    return {"a": hour_a, "b": hour_b, "customer": customer, "org": tenant.organization.pk}


def _ident(m: dict[str, object], hour: str, suffix: str = "") -> str:
    moment = m[hour]
    assert isinstance(moment, datetime)
    return f"sy-{m['org']}-{METER}-{moment:%Y%m%d%H}{suffix}"


def _stripe_hours(stripe: FakeStripe, m: dict[str, object]) -> dict[str, int]:
    by_ts = stripe.meter_by_hour(str(m["customer"]))
    names = {int(m[h].timestamp()): h for h in ("a", "b")}  # type: ignore[attr-defined]
    return {names.get(ts, str(ts)): value for ts, value in by_ts.items()}


def test_closed_hours_are_reported_once_with_deterministic_identifiers(
    metered: dict[str, object], stripe: FakeStripe
) -> None:
    first = report_usage.apply().get()  # the beat task, through Celery
    assert first["created"] == 2 and first["sent"] == 2 and first["pending"] == 0
    assert _stripe_hours(stripe, metered) == {"a": 3, "b": 2}  # the open hour waits
    assert set(UsageReport.objects.values_list("identifier", flat=True)) == {
        _ident(metered, "a"),
        _ident(metered, "b"),
    }
    again = usage_report_run()
    assert (again.created, again.sent) == (0, 0)
    assert stripe.meter_total(str(metered["customer"])) == 5
    assert stripe.calls("POST", "/v1/billing/meter_events") == 2


def test_late_events_are_reported_as_a_separate_correction(
    metered: dict[str, object], stripe: FakeStripe, tenant: Tenant
) -> None:
    usage_report_run()
    _ingest(tenant, metered["a"] + timedelta(minutes=30), 4)  # type: ignore[operator]
    run = usage_report_run()
    assert (run.created, run.corrections, run.sent) == (1, 1, 1)
    correction = UsageReport.objects.get(is_correction=True)
    assert (correction.identifier, correction.quantity) == (_ident(metered, "a", "-c7"), 4)
    assert _stripe_hours(stripe, metered) == {"a": 7, "b": 2}
    assert usage_report_run().created == 0


def test_a_lost_answer_is_retried_without_billing_twice(
    metered: dict[str, object], stripe: FakeStripe
) -> None:
    # Stripe records the first report but every answer to it (and the library's retries) is lost.
    stripe.fail("POST", "/v1/billing/meter_events", times=3, after_processing=True)
    run = usage_report_run()
    assert run.stripe_unavailable and (run.sent, run.pending) == (0, 2)
    assert stripe.meter_total(str(metered["customer"])) == 3  # Stripe has hour A already
    assert set(UsageReport.objects.values_list("status", flat=True)) == {ReportStatus.PENDING}

    retry = usage_report_run()  # the next beat run
    assert (retry.created, retry.sent, retry.pending) == (0, 2, 0)
    assert _stripe_hours(stripe, metered) == {"a": 3, "b": 2}
    assert UsageReport.objects.get(identifier=_ident(metered, "a")).attempts == 2


def test_stripe_down_leaves_reports_pending_until_it_is_back(
    metered: dict[str, object], stripe: FakeStripe
) -> None:
    stripe.down = True
    run = usage_report_run()
    assert run.stripe_unavailable and run.pending == 2 and stripe.meter_events == {}
    stripe.down = False
    assert usage_report_run().sent == 2
    assert stripe.meter_total(str(metered["customer"])) == 5


def test_a_refused_report_is_failed_alerted_and_retried_from_the_admin(
    metered: dict[str, object], stripe: FakeStripe
) -> None:
    customer = stripe.customers.pop(str(metered["customer"]))  # deleted at Stripe
    alerts = BILLING_ALERTS.labels("usage_rejected")._value.get()
    run = usage_report_run()
    assert run.failed == 2 and BILLING_ALERTS.labels("usage_rejected")._value.get() == alerts + 2
    assert usage_report_run().created == 0  # refused hours are not re-created every run

    stripe.customers[customer["id"]] = customer
    from apps.billing.admin import retry_reports

    retry_reports(None, None, UsageReport.objects.all())  # type: ignore[arg-type]
    assert usage_report_run().sent == 2
    assert stripe.meter_total(customer["id"]) == 5


def test_hours_before_the_subscription_are_not_billed(
    tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan]
) -> None:
    subscribe(tenant, stripe, "team", started_ago_s=3 * 3600)
    since = hour_floor(Subscription.objects.get().started_at)  # type: ignore[arg-type]
    _ingest(tenant, since - timedelta(minutes=30), 5)  # on the Free plan
    _ingest(tenant, since + timedelta(minutes=1), 2)
    assert usage_report_run().sent == 1
    assert UsageReport.objects.get().quantity == 2


def test_reconciliation_compares_counted_and_reported(
    metered: dict[str, object], stripe: FakeStripe, tenant: Tenant
) -> None:
    usage_report_run()
    _ingest(tenant, metered["a"] + timedelta(minutes=40), 4)  # type: ignore[operator]
    body = tenant.web().get(reverse("billing:reconciliation")).content.decode()
    rows = {line.split("</td>")[0] for line in body.split("<tr><td>")[1:]}
    assert f"{metered['a']:%Y-%m-%d %H}:00" in rows and f"{metered['b']:%Y-%m-%d %H}:00" in rows
    assert body.count(">to report<") == 1 and body.count(">ok<") == 1 and body.count(">not due yet<") == 1
    viewer = add_member(tenant, Role.VIEWER, "v")
    client = tenant.web()
    client.force_login(viewer)
    assert client.get(reverse("billing:reconciliation")).status_code == 403


def test_without_stripe_no_hour_is_flagged_to_report(tenant: Tenant, plans: dict[str, Plan]) -> None:
    """The embedded demo has no STRIPE_API_KEY: usage is counted, nothing is reported, and the page
    says so instead of flagging every closed hour orange."""
    _ingest(tenant, hour_floor(timezone.now()) - timedelta(hours=3), 4)
    page = tenant.web().get(reverse("billing:reconciliation"))
    body = page.content.decode()
    assert page.status_code == 200
    assert ">to report<" not in body and 'class="badge warn"' not in body
    assert body.count(">not metered<") == 1 and "Stripe is not configured" in body


def test_a_free_plan_with_stripe_has_nothing_to_report(
    tenant: Tenant, stripe: FakeStripe, plans: dict[str, Plan]
) -> None:
    _ingest(tenant, hour_floor(timezone.now()) - timedelta(hours=3), 4)
    body = tenant.web().get(reverse("billing:reconciliation")).content.decode()
    assert ">to report<" not in body and body.count(">not metered<") == 1
    assert "no metered price" in body
