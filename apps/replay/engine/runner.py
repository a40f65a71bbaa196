"""Running a replay job: claim it, recover what a dead worker left, replay what is pending, wrap up.

A finished job hands its endpoint to the recommender at once (the task `policies.recommend_endpoint`,
queued by name: replay sits below policies), and goes back on the queue (`replay.run_job`) when
its run was cut short by time.

A run is bounded in time (REPLAY_MAX_RUN_S, default 10 minutes): when the time is up, in-flight
requests finish, and the job goes back on the queue to continue in a new task. A job is claimed
with a lease: a running job whose heartbeat is older than the lease (REPLAY_LEASE_S) belonged to
a worker that died and may be taken over; the fence (attempt number) then shuts the old worker out
of the ledger.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.billing.services.quotas import replay_spend_record
from apps.core import background
from apps.pricing.selectors import price_book_load
from apps.replay import sampling
from apps.replay.engine.costs import current_cost
from apps.replay.engine.engine import Engine, EngineConfig, JudgeTarget, LedgerPort, Outcome, Work
from apps.replay.engine.ledger import Ledger, recount, recover, run_engine
from apps.replay.engine.requests import replay_request
from apps.replay.engine.routes import Route, build_adapter, route_for
from apps.replay.engine.summary import summarize
from apps.replay.evaluators.registry import build_evaluator
from apps.replay.models import ItemState, JobStatus, ReplayItem, ReplayJob
from apps.warehouse.client import WarehouseUnavailable

logger = logging.getLogger(__name__)

DEFAULT_MAX_RUN_S = 600.0


def lease() -> timedelta:
    """How long a running job's worker may go without a heartbeat before it counts as dead."""
    return timedelta(seconds=settings.REPLAY_LEASE_S)


def max_run_s() -> float:
    return float(getattr(settings, "REPLAY_MAX_RUN_S", DEFAULT_MAX_RUN_S))


def claim(job_id: int) -> ReplayJob | None:
    """Mark the job running for this worker, unless it is finished or alive elsewhere."""
    now = timezone.now()
    with transaction.atomic():
        job = ReplayJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED):
            return None
        if job.status == JobStatus.RUNNING and job.heartbeat_at and job.heartbeat_at >= now - lease():
            return None  # a duplicate delivery: the job is running elsewhere
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.run_started_at = now
        job.save(
            update_fields=["status", "attempts", "started_at", "heartbeat_at", "run_started_at", "updated_at"]
        )
        return job


def _routes(job: ReplayJob) -> tuple[dict[str, Route], JudgeTarget | None]:
    routes: dict[str, Route] = {}
    for c in job.candidates:
        routes[f"{c['provider']}/{c['model']}"] = route_for(
            organization_id=job.organization_id, provider=c["provider"], simulated=bool(c.get("simulated"))
        )
    judge = None
    spec = (job.evaluator_config or {}).get("judge")
    if job.evaluator == "judge" and spec:
        route = route_for(
            organization_id=job.organization_id,
            provider=spec["provider"],
            simulated=bool(spec.get("simulated")),
        )
        routes[f"judge:{route.key}"] = route
        judge = JudgeTarget(spec["provider"], spec["model"], route.key, bool(spec.get("simulated")))
    return routes, judge


def _work(job: ReplayJob, routes: dict[str, Route], book: Any) -> tuple[list[Work], list[int]]:
    """Pending items with their samples; ids of items whose call can no longer be read."""
    pending = list(job.items.filter(state=ItemState.PENDING).order_by("seq"))
    if not pending:
        return [], []
    since = job.window_start or timezone.now() - sampling.WINDOW
    until = job.window_end or timezone.now()
    drawn = {i.event_id: sampling.Drawn(i.event_id, i.stratum) for i in pending}
    samples, _unusable = sampling.load(
        project_id=job.project_id, endpoint=job.endpoint, since=since, until=until, drawn=drawn.values()
    )
    work: list[Work] = []
    lost: list[int] = []
    baseline_costs: dict[Any, int] = {}
    for item in pending:
        sample = samples.get(item.event_id)
        if sample is None:
            lost.append(item.pk)
            continue
        sample.request = replay_request(book, job.baseline_provider, sample)
        if item.event_id not in baseline_costs:
            baseline_costs[item.event_id] = (
                current_cost(book, job.baseline_provider, job.baseline_model, sample.usage)
                or sample.baseline_cost_nano
                or 0
            )
        provider, model = item.candidate.split("/", 1)
        route = routes[item.candidate]
        work.append(
            Work(
                item_id=item.pk,
                seq=item.seq,
                sample=sample,
                candidate=item.candidate,
                provider=provider,
                model=model,
                route=route.key,
                request=sample.request,
                worst=item.worst_nano,
                simulated=route.simulated,
                baseline_cost_nano=baseline_costs[item.event_id],
            )
        )
    return work, lost


def report_spend(job: ReplayJob) -> None:
    """What the job has spent, against the organisation's monthly replay budget (apps.billing)."""
    if job.spent_nano > 0:
        replay_spend_record(
            organization_id=job.organization_id, job_key=f"replay-job-{job.pk}", spent_nano_usd=job.spent_nano
        )


def _finish(job: ReplayJob, outcome: Outcome) -> ReplayJob:
    job.refresh_from_db()
    report_spend(job)  # what it spent so far
    if outcome.stop == "budget":
        job.status = JobStatus.PENDING
        job.heartbeat_at = None
        job.save(update_fields=["status", "heartbeat_at", "updated_at"])
        background.enqueue("replay.run_job", job.pk)  # continue in a new task
        return job
    job.items.filter(state=ItemState.PENDING).update(state=ItemState.SKIPPED)
    recover(job)  # nothing should be left in flight; if something is, settle it as a restart would
    report_spend(job)
    if outcome.stop == "failed":
        job.status, job.stop_reason, job.error = (
            JobStatus.FAILED,
            "provider_failed",
            f"failed: {outcome.error}"[:2000],
        )
    elif outcome.stop == "cancelled" or job.cancel_requested:
        job.status, job.stop_reason = JobStatus.CANCELLED, "cancelled"
    else:
        job.status = JobStatus.DONE
        job.stop_reason = "spend_cap" if outcome.stop == "spend_cap" or job.skipped_items else ""
    job.finished_at = timezone.now()
    job.heartbeat_at = None
    job.save(update_fields=["status", "stop_reason", "error", "finished_at", "heartbeat_at", "updated_at"])
    summarize(job)
    if job.status == JobStatus.DONE:  # new evidence: the endpoint's recommendation is made again now
        background.enqueue("policies.recommend_endpoint", job.project_id, job.endpoint)
    return job


def replay_job_run(*, job_id: int, max_seconds: float | None = None) -> ReplayJob | None:
    """Run (or resume) one job. None when it is not this worker's to run (finished or alive elsewhere)."""
    job = claim(job_id)
    if job is None:
        return None
    try:
        recover(job)
        if job.cancel_requested:
            return _finish(job, Outcome(stop="cancelled"))
        routes, judge = _routes(job)
        book = price_book_load(organization_id=job.organization_id)
        started = time.monotonic()
        work, lost = _work(job, routes, book)
        loaded = time.monotonic()
        if lost:
            ReplayItem.objects.filter(pk__in=lost).update(
                state=ItemState.SKIPPED, error="the call is no longer stored"
            )
        recount(job)
        job.run_started_done = job.settled_items
        job.save(update_fields=["run_started_done", "updated_at"])
        config = EngineConfig(
            project_id=job.project_id,
            job_id=job.pk,
            endpoint=job.endpoint,
            evaluator=build_evaluator(job.evaluator, job.evaluator_config),
            judge=judge,
            cap=job.spend_cap_nano,
            spent=job.spent_nano,
            deadline=time.monotonic() + (max_seconds if max_seconds is not None else max_run_s()),
            gates={r.key: (r.concurrency, r.rpm) for r in routes.values()},
        )
        unique = {r.key: r for r in routes.values()}

        def make(ledger: LedgerPort) -> Engine:
            adapters = {key: build_adapter(route) for key, route in unique.items()}
            return Engine(config, work=work, adapters=adapters, book=book, ledger=ledger)

        outcome = run_engine(make, Ledger(job)) if work else Outcome()
        ran = time.monotonic()
        if outcome.stop == "fenced":
            logger.warning("replay job %s was taken over by another worker", job.pk)
            return None
        finished = _finish(job, outcome)
        logger.info(
            "replay job %s: %s items in %.2f s (loading %.2f s, replaying %.2f s, summary %.2f s): %s",
            job.pk,
            len(work),
            time.monotonic() - started,
            loaded - started,
            ran - loaded,
            time.monotonic() - ran,
            outcome.stop,
        )
        return finished
    except WarehouseUnavailable:
        ReplayJob.objects.filter(pk=job.pk, attempts=job.attempts).update(
            status=JobStatus.PENDING, heartbeat_at=None
        )
        raise
    except Exception as exc:
        ReplayJob.objects.filter(pk=job.pk, attempts=job.attempts).update(
            status=JobStatus.FAILED,
            error=f"failed: {type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        failed = ReplayJob.objects.get(pk=job.pk)
        if failed.status == JobStatus.FAILED:
            recount(failed)
            report_spend(failed)
            summarize(failed)
        raise
