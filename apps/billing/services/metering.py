"""Metered usage: events counted in ClickHouse, reported to Stripe Billing Meters per closed hour.

Each run (the `billing.report_usage` beat task, every five minutes):

1. For every organisation with a live subscription to a metered plan, count its events per hour
   from the `llm_calls_1h` rollup, for the hours that closed at least GRACE ago, back LOOKBACK.
2. Compare each hour with what was already reported (sent or still pending, across meters). The
   first report of an hour gets the identifier `sy-<org>-<meter>-<YYYYMMDDHH>`; when late data make
   the count higher later, the difference is reported as a correction `…-c<new total>`. The rows
   are written before anything is sent, under a lock on the account.
3. Send every pending row with its identifier, which is also the idempotency key: a retry after a
   timeout or crash replays, never adds. Stripe unreachable → the rows stay pending for the next
   run; a refusal (4xx) marks the row failed and alerts.

A count lower than what was reported (never expected: the rollups only grow) is shown by the
reconciliation and logged; nothing is taken back automatically.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.billing import stripe_gateway as gateway
from apps.billing.models import (
    LIVE_STATUSES,
    BillingAccount,
    ReportStatus,
    Subscription,
    UsageReport,
)
from apps.billing.notify import alert
from apps.billing.selectors import hour_floor, hourly_counts, reported_by_hour

logger = logging.getLogger(__name__)

GRACE = timedelta(minutes=30)  # after an hour ends, wait this long for late events before reporting it
LOOKBACK = timedelta(days=3)  # hours re-counted for late data and corrections
STRIPE_MAX_AGE = timedelta(days=34)  # Stripe takes meter events up to 35 days old


@dataclass
class MeteringRun:
    created: int = 0
    corrections: int = 0
    sent: int = 0
    failed: int = 0
    pending: int = 0
    stripe_unavailable: bool = False
    over_reported: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Metered:
    account: BillingAccount
    meter_event_name: str
    since: datetime  # the first hour to report


def identifier(
    *, organization_id: int, meter: str, hour: datetime, correction_total: int | None = None
) -> str:
    base = f"sy-{organization_id}-{meter}-{hour:%Y%m%d%H}"
    return base if correction_total is None else f"{base}-c{correction_total}"


def metered_accounts(*, organization_id: int | None = None) -> list[Metered]:
    """Accounts whose live subscription's plan has a metered price (one entry per account), of
    every organisation or one."""
    only = {} if organization_id is None else {"account__organization_id": organization_id}
    subs = (
        Subscription.objects.filter(
            **only,
            status__in=LIVE_STATUSES,
            downgraded_at__isnull=True,
            plan__isnull=False,
            account__stripe_customer_id__isnull=False,
        )
        .exclude(plan__stripe_metered_price_id="")
        .select_related("account", "plan")
        .order_by("account_id", "-stripe_created")
    )
    out: dict[int, Metered] = {}
    for sub in subs:
        assert sub.plan is not None
        since = hour_floor(sub.started_at or sub.stripe_created or sub.created_at)
        if sub.account_id not in out:
            out[sub.account_id] = Metered(sub.account, sub.plan.meter_event_name, since)
        else:  # an earlier live subscription: report from the earliest start
            first = out[sub.account_id]
            out[sub.account_id] = Metered(first.account, first.meter_event_name, min(first.since, since))
    return list(out.values())


def _plan_reports(
    metered: Metered, counts: dict[datetime, int], start: datetime, end: datetime, run: MeteringRun
) -> None:
    org_id = metered.account.organization_id
    with transaction.atomic():
        BillingAccount.objects.select_for_update().filter(pk=metered.account.pk).first()
        reported = reported_by_hour(account_id=metered.account.pk, start=start, end=end)
        for hour in sorted(set(counts) | set(reported)):
            counted, already = counts.get(hour, 0), reported.get(hour, 0)
            if counted < already:
                run.over_reported.append(
                    f"org {org_id} {hour:%Y-%m-%d %H}:00 counted {counted} reported {already}"
                )
                continue
            if counted == already:
                continue
            ident = identifier(
                organization_id=org_id,
                meter=metered.meter_event_name,
                hour=hour,
                correction_total=counted if already else None,
            )
            try:
                with transaction.atomic():
                    UsageReport.objects.create(
                        account=metered.account,
                        meter_event_name=metered.meter_event_name,
                        hour=hour,
                        identifier=ident,
                        quantity=counted - already,
                        is_correction=bool(already),
                    )
            except IntegrityError:  # the same total was reported once before: never again
                continue
            run.created += 1
            run.corrections += int(bool(already))


def _send_pending(now: datetime, run: MeteringRun) -> None:
    oldest = now - STRIPE_MAX_AGE
    stale = UsageReport.objects.filter(status=ReportStatus.PENDING, hour__lt=oldest)
    for report in stale:
        alert("usage_too_old", f"{report.identifier} stayed pending past Stripe's 35-day window")
    stale.update(status=ReportStatus.FAILED, last_error="older than Stripe accepts")
    pending = (
        UsageReport.objects.filter(status=ReportStatus.PENDING)
        .select_related("account")
        .order_by("hour", "pk")
    )
    for report in pending:
        UsageReport.objects.filter(pk=report.pk).update(attempts=F("attempts") + 1)
        try:
            gateway.meter_event_create(
                event_name=report.meter_event_name,
                customer_id=report.account.stripe_customer_id or "",
                value=report.quantity,
                identifier=report.identifier,
                timestamp=int(report.hour.timestamp()),
                idempotency_key=report.idempotency_key,
            )
        except (gateway.StripeUnavailable, gateway.StripeNotConfigured) as exc:
            UsageReport.objects.filter(pk=report.pk).update(last_error=exc.message[:2000])
            run.stripe_unavailable = True
            break  # the rest stay pending for the next run
        except gateway.StripeRejected as exc:
            UsageReport.objects.filter(pk=report.pk).update(
                status=ReportStatus.FAILED, last_error=exc.message[:2000]
            )
            alert("usage_rejected", f"Stripe refused usage report {report.identifier}: {exc.message}")
            run.failed += 1
            continue
        UsageReport.objects.filter(pk=report.pk).update(
            status=ReportStatus.SENT, sent_at=timezone.now(), last_error=""
        )
        run.sent += 1
    run.pending = UsageReport.objects.filter(status=ReportStatus.PENDING).count()


def reportable_before(now: datetime) -> datetime:
    """Hours that start before this have closed at least GRACE ago."""
    return hour_floor(now - GRACE)


def usage_report_run(*, now: datetime | None = None) -> MeteringRun:
    """Count, plan and send usage reports (see the module docstring)."""
    now = now or timezone.now()
    run = MeteringRun()
    end = reportable_before(now)
    metered = metered_accounts()
    if metered:
        window_start = end - LOOKBACK
        counts = hourly_counts(
            organization_ids=[m.account.organization_id for m in metered], start=window_start, end=end
        )
        for m in metered:
            start = max(window_start, m.since)
            if start >= end:
                continue
            org_counts = {
                h: c for h, c in counts.get(m.account.organization_id, {}).items() if start <= h < end
            }
            _plan_reports(m, org_counts, start, end, run)
    if gateway.configured() and UsageReport.objects.filter(status=ReportStatus.PENDING).exists():
        _send_pending(now, run)
    for line in run.over_reported:
        logger.warning("usage reported above the current count: %s", line)
    return run
