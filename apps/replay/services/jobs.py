"""Replay jobs: create (after a plan), start, cancel, resume.

`replay_job_create` plans the job (apps.replay.services.planning: refusals happen there, before
anything exists), stores it with one pending item per sample and candidate, and queues it once
the transaction commits. The work itself runs in apps.replay.engine.runner, called by the thin
Celery task in apps.replay.tasks.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Person, Project, Role
from apps.accounts.services import require_role
from apps.core import background
from apps.core.errors import ApplicationError
from apps.replay import sampling
from apps.replay.engine.ledger import recount
from apps.replay.engine.runner import lease
from apps.replay.engine.summary import summarize
from apps.replay.models import ACTIVE_STATUSES, ItemState, JobStatus, ReplayItem, ReplayJob
from apps.replay.services.planning import Plan, ReplaySpec, replay_plan

PENDING_GRACE = timedelta(minutes=10)


def replay_job_preview(*, project: Project, actor: Person | None, spec: ReplaySpec) -> Plan:
    """The plan and its cost preview, without creating anything."""
    if actor is not None:
        require_role(user=actor, organization=project.organization, at_least=Role.MEMBER)
    return replay_plan(project=project, spec=spec)


def replay_job_create_from_plan(
    *, plan: Plan, project: Project, actor: Person | None, trigger: str = "manual"
) -> ReplayJob:
    pop = plan.population
    with transaction.atomic():
        job = ReplayJob.objects.create(
            organization_id=project.organization_id,
            project=project,
            endpoint=plan.spec.endpoint,
            trigger=trigger[:64],
            created_by=actor,
            baseline_provider=pop.baseline_provider,
            baseline_model=pop.baseline_model,
            candidates=[c.spec.as_json() for c in plan.candidates],
            evaluator=plan.evaluator,
            evaluator_config=plan.evaluator_config,
            evaluator_reason=plan.evaluator_reason[:300],
            simulated=plan.simulated,
            confidence=plan.spec.confidence,
            margin=plan.spec.margin,
            sample_size=len(plan.order),
            population=pop.eligible,
            excluded=plan.excluded,
            window_start=pop.since,
            window_end=pop.until,
            seed=plan.seed,
            monthly_calls=plan.monthly_calls,
            fingerprint={
                "mean_input_tokens": round(pop.mean_input_tokens, 3),
                "mean_output_tokens": round(pop.mean_output_tokens, 3),
                "calls_30d": plan.monthly_calls,
                **sampling.traffic_profile(project_id=project.pk, endpoint=plan.spec.endpoint),
            },
            spend_cap_nano=plan.spec.spend_cap_nano,
            expected_nano=plan.expected_nano,
            total_items=len(plan.items),
        )
        ReplayItem.objects.bulk_create(
            [
                ReplayItem(
                    job=job,
                    seq=i.seq,
                    event_id=i.event_id,
                    candidate=i.candidate,
                    stratum=i.stratum,
                    worst_nano=i.worst,
                )
                for i in plan.items
            ],
            batch_size=1000,
        )
        replay_job_start(job=job)
    return job


def replay_job_create(
    *, project: Project, actor: Person | None, spec: ReplaySpec, trigger: str = "manual"
) -> ReplayJob:
    """Plan and store a job, and queue it to run once this transaction commits."""
    plan = replay_job_preview(project=project, actor=actor, spec=spec)
    return replay_job_create_from_plan(plan=plan, project=project, actor=actor, trigger=trigger)


def replay_job_start(*, job: ReplayJob) -> None:
    background.enqueue("replay.run_job", job.pk)


def replay_job_cancel(*, job: ReplayJob, actor: Person | None) -> ReplayJob:
    """Stop sending: a waiting job is cancelled at once, a running one after its in-flight requests."""
    if actor is not None:
        require_role(user=actor, organization=job.organization, at_least=Role.MEMBER)
    with transaction.atomic():
        job = ReplayJob.objects.select_for_update().get(pk=job.pk)
        if job.status not in ACTIVE_STATUSES:
            raise ApplicationError(
                "Only a waiting or running replay can be cancelled", code="not_cancellable"
            )
        job.cancel_requested = True
        fields = ["cancel_requested", "updated_at"]
        if job.status == JobStatus.PENDING:
            job.items.filter(state=ItemState.PENDING).update(state=ItemState.SKIPPED)
            job.status = JobStatus.CANCELLED
            job.stop_reason = "cancelled"
            job.finished_at = timezone.now()
            fields += ["status", "stop_reason", "finished_at"]
        job.save(update_fields=fields)
    if job.status == JobStatus.CANCELLED:
        recount(job)
        summarize(job)
    return job


def is_stalled(job: ReplayJob) -> bool:
    return job.status == JobStatus.RUNNING and (
        job.heartbeat_at is None or job.heartbeat_at < timezone.now() - lease()
    )


def replay_job_resume(*, job: ReplayJob, actor: Person | None) -> ReplayJob:
    """Queue a stalled job (its worker died) or a failed one again; it continues where it stopped.

    Items that were in flight are settled from stored results or counted as interrupted; nothing
    is sent twice.
    """
    if actor is not None:
        require_role(user=actor, organization=job.organization, at_least=Role.MEMBER)
    if job.status == JobStatus.FAILED:
        ReplayJob.objects.filter(pk=job.pk, status=JobStatus.FAILED).update(
            status=JobStatus.PENDING, error="", stop_reason="", finished_at=None, cancel_requested=False
        )
        job.items.filter(state=ItemState.SKIPPED, error="").update(state=ItemState.PENDING)
    elif not is_stalled(job) and job.status != JobStatus.PENDING:
        raise ApplicationError(
            "Only a failed, waiting or stalled replay can be resumed", code="not_resumable"
        )
    replay_job_start(job=job)
    job.refresh_from_db()
    return job


def replay_resume_stalled() -> int:
    """Queue every job whose worker stopped heart-beating (the beat task calls this each minute)."""
    cutoff = timezone.now() - lease()
    stalled = list(
        ReplayJob.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    forgotten = timezone.now() - PENDING_GRACE  # queued but never picked up (e.g. the process restarted)
    stalled += list(
        ReplayJob.objects.filter(status=JobStatus.PENDING, updated_at__lt=forgotten).values_list(
            "pk", flat=True
        )
    )
    for job_id in stalled:
        background.dispatch("replay.run_job", job_id)
    return len(stalled)
