"""Pricing tasks: thin, named, with a retry policy; each loads by id and calls one service."""

from __future__ import annotations

from celery import shared_task

from apps.pricing import recompute
from apps.warehouse.client import WarehouseUnavailable


@shared_task(
    name="pricing.plan_recompute",
    queue="default",
    acks_late=True,
    autoretry_for=(WarehouseUnavailable,),
    retry_backoff=True,
    max_retries=5,
)
def plan_recompute(request_id: int) -> int:
    jobs = recompute.recompute_request_run(request_id=request_id)
    return len(jobs) if jobs is not None else 0


@shared_task(name="pricing.plan_pending_recomputes", queue="default", acks_late=True, max_retries=0)
def plan_pending_recomputes() -> int:
    """Beat: plan the recompute requests no worker has started (one per request, in order)."""
    planned = 0
    for request_id in recompute.recompute_requests_pending():
        if recompute.recompute_request_run(request_id=request_id) is not None:
            planned += 1
    return planned


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
