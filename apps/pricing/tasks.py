"""Pricing tasks: thin, named, with a retry policy; each loads by id and calls one service."""

from __future__ import annotations

from celery import shared_task

from apps.pricing import recompute
from apps.pricing.validation import clean_datetime
from apps.warehouse.client import WarehouseUnavailable


@shared_task(
    name="pricing.plan_recompute",
    queue="default",
    acks_late=True,
    autoretry_for=(WarehouseUnavailable,),
    retry_backoff=True,
    max_retries=5,
)
def plan_recompute(
    organization_id: int | None,
    since: str,
    model_ids: list[int] | None,
    provider_slugs: list[str] | None,
    reason: str,
) -> int:
    jobs = recompute.recompute_plan(
        organization_id=organization_id,
        since=clean_datetime(since, "since"),
        model_ids=model_ids,
        provider_slugs=provider_slugs,
        reason=reason,
    )
    return len(jobs)


@shared_task(
    name="pricing.recompute_job",
    queue="default",
    acks_late=True,
    autoretry_for=(WarehouseUnavailable,),
    retry_backoff=True,
    max_retries=5,
)
def run_recompute_job(job_id: int) -> str:
    job = recompute.recompute_job_run(job_id=job_id)
    return job.status if job is not None else "not_started"
