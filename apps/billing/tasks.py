"""Billing tasks (beat): thin, named, each calls one service."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.billing.services.metering import usage_report_run
from apps.billing.services.quotas import usage_notices_check
from apps.billing.services.subscriptions import grace_sweep


@shared_task(name="billing.report_usage", queue="default", acks_late=True, max_retries=0)
def report_usage() -> dict[str, Any]:
    """Report closed hours of usage to Stripe meters (pending reports are retried next run)."""
    run = usage_report_run()
    return {
        "created": run.created,
        "corrections": run.corrections,
        "sent": run.sent,
        "pending": run.pending,
        "failed": run.failed,
        "stripe_unavailable": run.stripe_unavailable,
    }


@shared_task(name="billing.check_usage", queue="default", acks_late=True, max_retries=0)
def check_usage() -> int:
    """Usage warnings at 80 % and 100 %, once per threshold per month."""
    return usage_notices_check()


@shared_task(name="billing.sweep_grace", queue="default", acks_late=True, max_retries=0)
def sweep_grace() -> int:
    """Move organisations whose payment grace ended to Free and cancel their subscription."""
    return grace_sweep()
