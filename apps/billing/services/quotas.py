"""Plan limits outside ingest: seats on invitations, replay spend against the budget, and usage
warnings at 80 % and 100 % (e-mail and the billing page, once per threshold per month).

Ingest enforces the event limit itself, from `apps.billing.selectors.organization_plan`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Organization
from apps.billing.models import NoticeMetric, ReplaySpend, UsageNotice
from apps.billing.notify import email_admins
from apps.billing.selectors import (
    events_this_month_by_organization,
    organization_plan,
    period_of,
    replay_spent_this_month,
    seats_of,
)
from apps.core.errors import ApplicationError

logger = logging.getLogger(__name__)

THRESHOLDS = (80, 100)


class PlanLimitReached(ApplicationError):
    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message, code=code, status=402, field=field)


def seat_check(*, organization_id: int, adding: int = 1) -> None:
    """Refuse when `adding` more people would exceed the plan's seats (members + open invitations)."""
    seats = seats_of(organization_id=organization_id)
    if seats.limit and seats.used + adding > seats.limit:
        plan = organization_plan(organization_id=organization_id)
        raise PlanLimitReached(
            f"The {plan.name} plan includes {seats.limit} seats and {seats.members} members plus "
            f"{seats.open_invitations} open invitations use {seats.used}. Upgrade the plan under Billing, "
            "or remove a member or an invitation.",
            code="seat_limit",
            field="email",
        )


def replay_spend_record(*, organization_id: int, job_key: str, spent_nano_usd: int) -> int:
    """Record what a replay job has spent so far (cumulative nano-USD; a repeated or lower value
    changes nothing, so retries are safe). Returns the job's recorded spend."""
    if spent_nano_usd < 0:
        raise ApplicationError("Spend cannot be negative", code="invalid")
    key = job_key[:100]
    with transaction.atomic():
        row = (
            ReplaySpend.objects.select_for_update()
            .filter(organization_id=organization_id, job_key=key)
            .first()
        )
        if row is None:
            try:
                with transaction.atomic():
                    row = ReplaySpend.objects.create(
                        organization_id=organization_id,
                        job_key=key,
                        period=period_of(timezone.now()),
                        spent_nano_usd=spent_nano_usd,
                    )
            except IntegrityError:
                row = ReplaySpend.objects.select_for_update().get(
                    organization_id=organization_id, job_key=key
                )
        if spent_nano_usd > row.spent_nano_usd:
            row.spent_nano_usd = spent_nano_usd
            row.save(update_fields=["spent_nano_usd", "updated_at"])
    return row.spent_nano_usd


def _fmt(metric: str, value: int) -> str:
    return f"${value / 1e9:,.2f}" if metric == NoticeMetric.REPLAY else f"{value:,} events"


def _notice(*, organization_id: int, period: str, metric: str, used: int, limit: int, plan_name: str) -> int:
    """Create the notices `used` has crossed; e-mail each new one. Returns how many were new."""
    made = 0
    for threshold in THRESHOLDS:
        if limit <= 0 or used * 100 < limit * threshold:
            continue
        try:
            with transaction.atomic():
                UsageNotice.objects.create(
                    organization_id=organization_id,
                    period=period,
                    metric=metric,
                    threshold=threshold,
                    used=used,
                    limit=limit,
                    plan_name=plan_name,
                )
        except IntegrityError:
            continue  # sent before in this period
        made += 1
        what = "events" if metric == NoticeMetric.EVENTS else "replay budget"
        email_admins(
            organization_id=organization_id,
            subject=f"{threshold} % of this month's {what} used",
            body=(
                f"Your organisation has used {_fmt(metric, used)} of the {_fmt(metric, limit)} included "
                f"in the {plan_name} plan this month ({period}). "
                + (
                    "Upgrade under Billing to keep everything flowing."
                    if threshold >= 100
                    else "Nothing changes yet; this is a heads-up."
                )
            ),
        )
    return made


def usage_notices_check(*, now: datetime | None = None) -> int:
    """Warn organisations at 80 % and 100 % of their included events and replay budget."""
    now = now or timezone.now()
    period = period_of(now)
    events = events_this_month_by_organization()
    replay_orgs = set(ReplaySpend.objects.filter(period=period).values_list("organization_id", flat=True))
    made = 0
    for org_id in Organization.objects.filter(pk__in=set(events) | replay_orgs).values_list("pk", flat=True):
        plan = organization_plan(organization_id=org_id, now=now)
        made += _notice(
            organization_id=org_id,
            period=period,
            metric=NoticeMetric.EVENTS,
            used=events.get(org_id, 0),
            limit=plan.included_events,
            plan_name=plan.name,
        )
        if org_id in replay_orgs:
            made += _notice(
                organization_id=org_id,
                period=period,
                metric=NoticeMetric.REPLAY,
                used=replay_spent_this_month(organization_id=org_id, now=now),
                limit=plan.replay_budget_nano_usd,
                plan_name=plan.name,
            )
    return made
