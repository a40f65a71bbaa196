"""Reads for billing: an organisation's plan as it applies now, its usage, and its budgets.

Other apps call these (through plain dataclasses and ints):
- ingest: `organization_plan` (limits, retention) and `organization_events_this_month` (quota);
- replay: `replay_budget_remaining(organization_id=…) -> int nano-USD`;
- accounts: `plan_retention_days` for new projects (seat checks live in services.quotas).

Usage periods are calendar months in UTC, the same months ingest quotas count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from apps.accounts.models import Invitation, Membership, Project
from apps.billing import stripe_gateway as gateway
from apps.billing.models import (
    FREE_PLAN_KEY,
    LIVE_STATUSES,
    PAYMENT_FAILED_STATUSES,
    BillingAccount,
    Plan,
    ReplaySpend,
    ReportStatus,
    Subscription,
    SubscriptionStatus,
    UsageNotice,
    UsageReport,
)
from apps.billing.plans import seed_defaults
from apps.billing.stripe_data import when
from apps.warehouse.client import WarehouseUnavailable, system_query


@dataclass(frozen=True)
class PlanLimits:
    """The plan an organisation is on right now and where that comes from."""

    key: str
    name: str
    included_events: int
    event_limit: int  # 0 = no hard cap
    retention_days: int
    seats: int  # 0 = unlimited
    replay_budget_nano_usd: int
    state: str  # free | active | trialing | payment_failed | downgraded
    subscription_id: int | None = None
    trial_end: datetime | None = None
    grace_until: datetime | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False

    @property
    def is_free(self) -> bool:
        return self.subscription_id is None or self.state == "downgraded"


def period_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def free_plan() -> Plan:
    """The Free plan row, or its shipped defaults (unsaved) if the row is missing."""
    plan = Plan.objects.filter(key=FREE_PLAN_KEY).first()
    return plan if plan is not None else Plan(**seed_defaults(FREE_PLAN_KEY))


def plan_for_prices(price_ids: list[str]) -> Plan | None:
    if not price_ids:
        return None
    return (
        Plan.objects.filter(stripe_price_id__in=price_ids).first()
        or Plan.objects.filter(stripe_metered_price_id__in=price_ids).first()
    )


def current_subscription(*, organization_id: int) -> Subscription | None:
    """The subscription that decides the plan: the newest live one with a known plan."""
    return (
        Subscription.objects.filter(
            account__organization_id=organization_id, status__in=LIVE_STATUSES, plan__isnull=False
        )
        .select_related("plan", "account")
        .order_by("-stripe_created", "-pk")
        .first()
    )


def _limits(plan: Plan, state: str, sub: Subscription | None = None) -> PlanLimits:
    return PlanLimits(
        key=plan.key,
        name=plan.name,
        included_events=plan.included_events,
        event_limit=plan.event_limit,
        retention_days=plan.retention_days,
        seats=plan.seats,
        replay_budget_nano_usd=plan.replay_budget_nano_usd,
        state=state,
        subscription_id=sub.pk if sub else None,
        trial_end=sub.trial_end if sub else None,
        grace_until=sub.grace_until if sub else None,
        current_period_end=sub.current_period_end if sub else None,
        cancel_at_period_end=sub.cancel_at_period_end if sub else False,
    )


def organization_plan(*, organization_id: int, now: datetime | None = None) -> PlanLimits:
    """The plan that applies now: the live subscription's, or Free. A failed payment keeps the
    plan until the grace period ends, then the organisation is on Free ("downgraded")."""
    now = now or timezone.now()
    sub = current_subscription(organization_id=organization_id)
    if sub is None or sub.plan is None:
        return _limits(free_plan(), "free")
    if sub.grace_until is not None and sub.grace_until <= now:
        return _limits(free_plan(), "downgraded", sub)
    if sub.status in PAYMENT_FAILED_STATUSES or sub.payment_failed_at is not None:
        return _limits(sub.plan, "payment_failed", sub)
    return _limits(sub.plan, "trialing" if sub.status == SubscriptionStatus.TRIALING else "active", sub)


def plan_retention_days(*, organization_id: int) -> int:
    return organization_plan(organization_id=organization_id).retention_days


# -- usage --------------------------------------------------------------------------------------

_ORG_MONTH_SQL = """
SELECT sum(calls) FROM llm_calls_1h
WHERE project_id IN {project_ids:Array(UInt64)} AND bucket >= toStartOfMonth(now('UTC'))
"""

_ALL_MONTH_SQL = """
SELECT project_id, sum(calls) FROM llm_calls_1h
WHERE bucket >= toStartOfMonth(now('UTC'))
GROUP BY project_id
"""


def project_ids_of(*, organization_id: int) -> list[int]:
    return list(Project.objects.filter(organization_id=organization_id).values_list("pk", flat=True))


def organization_events_this_month(*, organization_id: int) -> int:
    """Events stored this calendar month across all of the organisation's projects (rollups)."""
    ids = project_ids_of(organization_id=organization_id)
    if not ids:
        return 0
    result = system_query(_ORG_MONTH_SQL, {"project_ids": ids}, feature="billing-quota")
    return int(result.scalar() or 0)


def events_this_month_by_organization() -> dict[int, int]:
    """Every organisation's events this month (for usage notices)."""
    rows = system_query(_ALL_MONTH_SQL, feature="billing-notices").rows
    owners = dict(Project.objects.filter(pk__in=[r[0] for r in rows]).values_list("pk", "organization_id"))
    totals: dict[int, int] = defaultdict(int)
    for project_id, calls in rows:
        if project_id in owners:
            totals[owners[project_id]] += int(calls)
    return dict(totals)


def replay_spent_this_month(*, organization_id: int, now: datetime | None = None) -> int:
    period = period_of(now or timezone.now())
    spent = ReplaySpend.objects.filter(organization_id=organization_id, period=period).aggregate(
        total=Sum("spent_nano_usd")
    )["total"]
    return int(spent or 0)


def replay_budget_remaining(*, organization_id: int) -> int:
    """Nano-USD the organisation may still spend on replay providers this calendar month (≥ 0).

    The replay engine calls this before starting (and while running) a job, and reports what the
    job spent with `apps.billing.services.quotas.replay_spend_record`.
    """
    plan = organization_plan(organization_id=organization_id)
    return max(0, plan.replay_budget_nano_usd - replay_spent_this_month(organization_id=organization_id))


@dataclass(frozen=True)
class Seats:
    members: int
    open_invitations: int
    limit: int  # 0 = unlimited

    @property
    def used(self) -> int:
        return self.members + self.open_invitations


def seats_of(*, organization_id: int) -> Seats:
    plan = organization_plan(organization_id=organization_id)
    return Seats(
        members=Membership.objects.filter(organization_id=organization_id).count(),
        open_invitations=Invitation.objects.filter(
            organization_id=organization_id, accepted_at__isnull=True, expires_at__gt=timezone.now()
        ).count(),
        limit=plan.seats,
    )


def hour_floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


# -- metered usage --------------------------------------------------------------------------------

_HOURLY_SQL = """
SELECT project_id, bucket, sum(calls) FROM llm_calls_1h
WHERE project_id IN {project_ids:Array(UInt64)}
  AND bucket >= {start:DateTime('UTC')} AND bucket < {end:DateTime('UTC')}
GROUP BY project_id, bucket
"""


def hourly_counts(
    *, organization_ids: list[int], start: datetime, end: datetime
) -> dict[int, dict[datetime, int]]:
    """Events per organisation and hour in [start, end), from the hourly rollup."""
    owners = dict(
        Project.objects.filter(organization_id__in=organization_ids).values_list("pk", "organization_id")
    )
    counts: dict[int, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    if not owners:
        return counts
    rows = system_query(
        _HOURLY_SQL,
        {"project_ids": list(owners), "start": start, "end": end},
        feature="billing-metering",
    ).rows
    for project_id, bucket, calls in rows:
        hour = bucket if bucket.tzinfo else bucket.replace(tzinfo=UTC)
        counts[owners[project_id]][hour] += int(calls)
    return counts


def reported_by_hour(*, account_id: int, start: datetime, end: datetime) -> dict[datetime, int]:
    rows = (
        UsageReport.objects.filter(account_id=account_id, hour__gte=start, hour__lt=end)
        .values("hour")
        .annotate(total=Sum("quantity"))
    )
    return {r["hour"]: int(r["total"]) for r in rows}


@dataclass(frozen=True)
class HourUsage:
    """One hour of an organisation's usage: counted in ClickHouse against reported to Stripe."""

    hour: datetime
    counted: int
    sent: int
    pending: int
    failed: int
    due: bool  # closed long enough ago to be reported
    metered: bool = True  # under a subscription with a metered price, with Stripe configured

    @property
    def reported(self) -> int:
        return self.sent + self.pending + self.failed

    @property
    def difference(self) -> int:
        return self.counted - self.reported

    @property
    def state(self) -> str:
        if self.failed:
            return "failed"
        if self.counted < self.reported:
            return "over-reported"
        if self.counted > self.reported:
            if not self.metered:
                return "not metered"
            return "to report" if self.due else "not due yet"
        return "pending" if self.pending else "ok"


def usage_reconciliation(
    *,
    organization_id: int,
    start: datetime,
    end: datetime,
    due_before: datetime,
    metered_since: datetime | None = None,
) -> list[HourUsage]:
    """Every hour in [start, end) with events or reports, newest first. Hours before
    `metered_since` (all of them when None: no Stripe, or no metered subscription) are counted
    but never to be reported."""
    counts = hourly_counts(organization_ids=[organization_id], start=start, end=end).get(organization_id, {})
    by_status: dict[datetime, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = (
        UsageReport.objects.filter(account__organization_id=organization_id, hour__gte=start, hour__lt=end)
        .values("hour", "status")
        .annotate(total=Sum("quantity"))
    )
    for row in rows:
        by_status[row["hour"]][row["status"]] += int(row["total"])
    hours = sorted(set(counts) | set(by_status), reverse=True)
    return [
        HourUsage(
            hour=h,
            counted=counts.get(h, 0),
            sent=by_status[h][ReportStatus.SENT],
            pending=by_status[h][ReportStatus.PENDING],
            failed=by_status[h][ReportStatus.FAILED],
            due=h < due_before,
            metered=metered_since is not None and h >= metered_since,
        )
        for h in hours
    ]


# -- the billing page -------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceLine:
    number: str
    created: datetime | None
    amount_cents: int
    currency: str
    status: str
    url: str


@dataclass(frozen=True)
class BillingOverview:
    plan: PlanLimits
    period: str
    events_used: int | None  # None when ClickHouse could not be read
    replay_spent_nano_usd: int
    seats: Seats
    notices: list[UsageNotice]
    plans: list[Plan]
    stripe_configured: bool
    has_customer: bool
    next_invoice: InvoiceLine | None = None
    invoices: list[InvoiceLine] = field(default_factory=list)
    stripe_error: str = ""

    @property
    def events_percent(self) -> int:
        if self.events_used is None or not self.plan.included_events:
            return 0
        return min(100, round(100 * self.events_used / self.plan.included_events))

    @property
    def replay_percent(self) -> int:
        if not self.plan.replay_budget_nano_usd:
            return 0
        return min(100, round(100 * self.replay_spent_nano_usd / self.plan.replay_budget_nano_usd))


def _invoice_line(data: dict[str, Any]) -> InvoiceLine:
    return InvoiceLine(
        number=str(data.get("number") or data.get("id") or ""),
        created=when(data.get("next_payment_attempt") or data.get("period_end") or data.get("created")),
        amount_cents=int(data.get("amount_due") or data.get("total") or 0),
        currency=str(data.get("currency") or "usd").upper(),
        status=str(data.get("status") or ""),
        url=str(data.get("hosted_invoice_url") or ""),
    )


def billing_overview(*, organization_id: int, with_invoices: bool) -> BillingOverview:
    """Everything the billing page shows. Stripe or ClickHouse being down is said, not raised."""
    now = timezone.now()
    plan = organization_plan(organization_id=organization_id, now=now)
    try:
        events_used: int | None = organization_events_this_month(organization_id=organization_id)
    except WarehouseUnavailable:
        events_used = None
    account = BillingAccount.objects.filter(organization_id=organization_id).first()
    customer = account.stripe_customer_id if account else None
    overview = BillingOverview(
        plan=plan,
        period=period_of(now),
        events_used=events_used,
        replay_spent_nano_usd=replay_spent_this_month(organization_id=organization_id, now=now),
        seats=seats_of(organization_id=organization_id),
        notices=list(
            UsageNotice.objects.filter(organization_id=organization_id, period=period_of(now)).order_by(
                "metric", "-threshold"
            )
        ),
        plans=list(Plan.objects.filter(is_active=True)),
        stripe_configured=gateway.configured(),
        has_customer=bool(customer),
    )
    if not (with_invoices and customer and gateway.configured()):
        return overview
    sub = current_subscription(organization_id=organization_id)
    try:
        invoices = [_invoice_line(i) for i in gateway.invoices_list(customer_id=customer)]
        preview = (
            _invoice_line(gateway.invoice_preview(customer_id=customer, subscription_id=sub.stripe_id))
            if sub is not None and not plan.is_free and not sub.cancel_at_period_end
            else None
        )
    except (gateway.StripeUnavailable, gateway.StripeRejected) as exc:
        return replace(overview, stripe_error=exc.message)
    return replace(overview, invoices=invoices, next_invoice=preview)
