"""Replay tasks: thin, named, with a retry policy; each loads by id and calls one service."""

from __future__ import annotations

from celery import shared_task

from apps.replay.engine.runner import replay_job_run
from apps.replay.services.jobs import replay_resume_stalled
from apps.replay.services.schedules import replay_schedules_check
from apps.warehouse.client import WarehouseUnavailable


@shared_task(
    name="replay.run_job",
    queue="replay",
    acks_late=True,
    autoretry_for=(WarehouseUnavailable,),
    retry_backoff=True,
    max_retries=5,
)
def run_replay_job(job_id: int) -> str:
    job = replay_job_run(job_id=job_id)
    return job.status if job is not None else "not_run"


@shared_task(name="replay.check_schedules", queue="replay", acks_late=True, max_retries=0)
def check_schedules() -> int:
    return len(replay_schedules_check())


@shared_task(name="replay.resume_stalled", queue="replay", acks_late=True, max_retries=0)
def resume_stalled() -> int:
    return replay_resume_stalled()
