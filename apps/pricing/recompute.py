"""Recomputing stored costs after a price change, per project, in bounded resumable batches.

A price row added or changed with a start in the past makes the stored cost of some calls
wrong. `recompute_request` (called by the services once the change commits) plans the work in
the background: from the hourly rollups it finds, per project, the (provider, model) pairs that
the change can touch, and creates one `RecomputeJob` per project. A job reads the latest revision
of each affected call (FINAL) in (ts, event_id) order after its cursor, costs it again with a
fresh price book, and inserts revision + 1 of the calls whose cost changed, carrying the old cost
in `prev_cost_nano_usd`: the rollup views add the difference, so totals become exact without
rewriting them. The cursor is saved after every batch, so a job that dies resumes where it
stopped; a batch written twice is harmless (the second pass finds nothing left to change).

Jobs of one project run one at a time (two jobs writing revisions of the same call would count
a difference twice). Other processes may cost calls with the old prices for up to BOOK_TTL_S
after a change, so each job ends with a pass over the calls received since shortly before it
was created.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Organization, Person, Project, Role
from apps.accounts.services import require_role
from apps.core import background
from apps.core.errors import ApplicationError
from apps.pricing.book import PriceBook, ResolvedModel
from apps.pricing.cost import cost_breakdown_json
from apps.pricing.models import (
    RecomputeJob,
    RecomputeRequest,
    RecomputeRequestStatus,
    RecomputeStatus,
)
from apps.pricing.selectors import BOOK_TTL_S, price_book_load
from apps.pricing.usage import from_call
from apps.warehouse import client as warehouse
from apps.warehouse.client import ProjectScope, load_sql

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
MAX_BATCHES_PER_RUN = 50  # then the job goes back on the queue, so one task never runs for hours
LEASE = timedelta(minutes=5)  # a running job whose heartbeat is older than this has died
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NIL_UUID = uuid.UUID(int=0)
FEATURE = "pricing.recompute"


@dataclass(frozen=True)
class RecomputeScope:
    """Which calls a change can touch: those resolving to one of the models (or providers)."""

    since: datetime
    model_ids: frozenset[int] | None = None  # None with provider_slugs None: every model
    provider_slugs: frozenset[str] | None = None

    def touches(self, resolved: ResolvedModel | None) -> bool:
        if resolved is None:
            return False
        if self.model_ids is None and self.provider_slugs is None:
            return True
        return (self.model_ids is not None and resolved.model_id in self.model_ids) or (
            self.provider_slugs is not None and resolved.provider in self.provider_slugs
        )


def recompute_request(
    *,
    organization_id: int | None,
    since: datetime,
    reason: str,
    model_ids: Iterable[int] | None = None,
    provider_slugs: Iterable[str] | None = None,
    start: bool = True,
) -> RecomputeRequest:
    """Record a recompute in the current transaction; plan it in the background once it commits.

    `start=False` leaves the request for whoever runs it: `recompute_request_run` in this process,
    or `pricing.plan_pending_recomputes` on the worker that owns the store.
    """
    request = RecomputeRequest.objects.create(
        organization_id=organization_id,
        since=since,
        model_ids=sorted(model_ids) if model_ids is not None else None,
        provider_slugs=sorted(provider_slugs) if provider_slugs is not None else None,
        reason=reason[:300],
    )
    if start:
        background.enqueue("pricing.plan_recompute", request.pk)
    return request


def recompute_request_run(*, request_id: int) -> list[RecomputeJob] | None:
    """Plan a pending request's jobs (and start them); None when it is not pending any more.

    The request is claimed under a row lock, so the worker started at commit and the beat's
    sweep never plan it twice; a failure leaves it pending for the next sweep.
    """
    with transaction.atomic():
        request = (
            RecomputeRequest.objects.select_for_update(skip_locked=True)
            .filter(pk=request_id, status=RecomputeRequestStatus.PENDING)
            .first()
        )
        if request is None:
            return None
        jobs = recompute_plan(
            organization_id=request.organization_id,
            since=request.since,
            reason=request.reason,
            model_ids=request.model_ids,
            provider_slugs=request.provider_slugs,
        )
        request.status = RecomputeRequestStatus.PLANNED
        request.jobs = len(jobs)
        request.planned_at = timezone.now()
        request.save(update_fields=["status", "jobs", "planned_at", "updated_at"])
    return jobs


def recompute_requests_pending() -> list[int]:
    """Requests still waiting for a worker, oldest first (claiming one twice is harmless)."""
    return list(
        RecomputeRequest.objects.filter(status=RecomputeRequestStatus.PENDING)
        .order_by("created_at")
        .values_list("pk", flat=True)[:100]
    )


def _pairs_by_project(organization_id: int | None, since: datetime) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    if organization_id is None:
        result = warehouse.system_query(
            load_sql(__file__, "recompute_pairs_all"), {"since": since}, feature="pricing.recompute_plan"
        )
        for project_id, provider, model, _calls in result.rows:
            out[int(project_id)].append((provider, model))
        return out
    sql = load_sql(__file__, "recompute_pairs")
    for project_id in Project.objects.filter(organization_id=organization_id).values_list("pk", flat=True):
        result = ProjectScope(project_id).query(sql, {"since": since}, feature="pricing.recompute_plan")
        out[project_id] = [(provider, model) for provider, model, _calls in result.rows]
    return out


def recompute_plan(
    *,
    organization_id: int | None,
    since: datetime,
    reason: str,
    model_ids: Iterable[int] | None = None,
    provider_slugs: Iterable[str] | None = None,
) -> list[RecomputeJob]:
    """One job per project with calls the change can touch; each job is started in the background."""
    scope = RecomputeScope(
        since=since,
        model_ids=frozenset(model_ids) if model_ids is not None else None,
        provider_slugs=frozenset(provider_slugs) if provider_slugs is not None else None,
    )
    pairs = _pairs_by_project(organization_id, since)
    projects = Project.objects.filter(pk__in=list(pairs)).values_list("pk", "organization_id")
    books: dict[int, PriceBook] = {}
    jobs: list[RecomputeJob] = []
    for project_id, org_id in projects:
        if org_id not in books:
            books[org_id] = price_book_load(organization_id=org_id)
        affected = sorted({pair for pair in pairs[project_id] if scope.touches(books[org_id].resolve(*pair))})
        if affected:
            jobs.append(
                RecomputeJob.objects.create(
                    organization_id=org_id,
                    project_id=project_id,
                    reason=reason,
                    since=since,
                    pairs=[list(pair) for pair in affected],
                )
            )
    for job in jobs:
        recompute_job_start(job=job)
    logger.info("recompute planned: %s job(s) for %s", len(jobs), reason)
    return jobs


def recompute_job_start(*, job: RecomputeJob) -> None:
    background.enqueue("pricing.recompute_job", job.pk)


def _claim(job_id: int) -> RecomputeJob | None:
    """Mark the job running, unless it is done, alive elsewhere, or its project is busy."""
    now = timezone.now()
    with transaction.atomic():
        job = RecomputeJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status == RecomputeStatus.DONE:
            return None
        if job.status == RecomputeStatus.RUNNING and job.heartbeat_at and job.heartbeat_at >= now - LEASE:
            return None  # a duplicate delivery: the job is running elsewhere
        busy = (
            RecomputeJob.objects.select_for_update()
            .filter(project_id=job.project_id, status=RecomputeStatus.RUNNING, heartbeat_at__gte=now - LEASE)
            .exclude(pk=job.pk)
            .exists()
        )
        if busy:
            return None  # the running job starts this one when it finishes
        job.status = RecomputeStatus.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.error = ""
        job.save(update_fields=["status", "attempts", "started_at", "heartbeat_at", "error", "updated_at"])
        return job


def _settle_seconds() -> float:
    configured = getattr(settings, "PRICING_RECOMPUTE_SETTLE_S", None)
    if configured is not None:
        return float(configured)
    return BOOK_TTL_S + 5 if background.uses_broker() else 2.0


def _revise(book: PriceBook, row: dict[str, Any]) -> dict[str, Any] | None:
    """Revision + 1 of a call whose cost changed under the current prices, else None."""
    ts = row["ts"] if row["ts"].tzinfo else row["ts"].replace(tzinfo=UTC)
    result = book.cost(provider=row["provider"], model=row["model"], ts=ts, usage=from_call(row))
    cost = result.nano_usd if result is not None else None
    price_id = result.price_id if result is not None else 0
    if cost == row["cost_nano_usd"] and price_id == row["price_id"]:
        stored = row["cost_breakdown"]
        if result is None or (stored and json.loads(stored) == result.breakdown):
            return None
    revised = dict(row)
    revised["revision"] = row["revision"] + 1
    revised["prev_cost_nano_usd"] = row["cost_nano_usd"]
    revised["cost_nano_usd"] = cost
    revised["price_id"] = price_id
    revised["cost_breakdown"] = cost_breakdown_json(result) if result is not None else ""
    return revised


def _params(job: RecomputeJob) -> dict[str, Any]:
    return {"since": job.since, "pairs": [tuple(pair) for pair in job.pairs]}


def _pass(
    job: RecomputeJob,
    book: PriceBook,
    *,
    received_from: datetime,
    save_cursor: bool,
    max_batches: int | None = None,
) -> bool:
    """Recompute batches after the cursor. True when the end was reached, False when out of budget."""
    scope = ProjectScope(job.project_id)
    batches = 0
    sql = load_sql(__file__, "recompute_batch")
    cursor_ts = job.cursor_ts if save_cursor and job.cursor_ts else job.since - timedelta(milliseconds=1)
    cursor_id = uuid.UUID(job.cursor_event_id) if save_cursor and job.cursor_event_id else NIL_UUID
    while True:
        params = {
            **_params(job),
            "cursor_ts": cursor_ts,
            "cursor_id": cursor_id,
            "received_from": received_from,
            "limit": BATCH_SIZE,
        }
        if max_batches is not None and batches >= max_batches:
            return False
        batches += 1
        result = scope.query(sql, params, feature=FEATURE)
        if not result.rows:
            return True
        rows = result.dicts()
        revised = [r for r in (_revise(book, row) for row in rows) if r is not None]
        if revised:
            columns = list(result.columns)
            warehouse.system_insert(
                "llm_calls", [[r[c] for c in columns] for r in revised], columns, feature=FEATURE
            )
        last = rows[-1]
        cursor_ts = last["ts"] if last["ts"].tzinfo else last["ts"].replace(tzinfo=UTC)
        cursor_id = last["event_id"]
        job.changed += len(revised)
        job.heartbeat_at = timezone.now()
        fields = ["changed", "heartbeat_at", "updated_at"]
        if save_cursor:
            job.processed += len(rows)
            job.cursor_ts, job.cursor_event_id = cursor_ts, str(cursor_id)
            fields += ["processed", "cursor_ts", "cursor_event_id"]
        job.save(update_fields=fields)
        if len(rows) < BATCH_SIZE:
            return True


def recompute_job_run(*, job_id: int, max_batches: int | None = MAX_BATCHES_PER_RUN) -> RecomputeJob | None:
    """Run (or resume) one job for at most `max_batches` batches, then hand it back to the queue.

    None when the job is not this worker's to run now (done, running elsewhere, or its project
    busy with another job).
    """
    job = _claim(job_id)
    if job is None:
        return None
    try:
        book = price_book_load(organization_id=job.organization_id)
        if job.cursor_ts is None and job.processed == 0:
            count = ProjectScope(job.project_id).query(
                load_sql(__file__, "recompute_count"), _params(job), feature=FEATURE
            )
            job.total = int(count.scalar() or 0)
            job.save(update_fields=["total", "updated_at"])
        if not _pass(job, book, received_from=EPOCH, save_cursor=True, max_batches=max_batches):
            job.status = RecomputeStatus.PENDING  # out of budget: the rest runs as a new task
            job.save(update_fields=["status", "updated_at"])
            recompute_job_start(job=job)
            return job
        # Calls received around the change may have been costed by a stale book elsewhere.
        wait = (job.created_at + timedelta(seconds=_settle_seconds()) - timezone.now()).total_seconds()
        if wait > 0:
            time.sleep(wait)
            book = price_book_load(organization_id=job.organization_id)
        _pass(job, book, received_from=job.created_at - timedelta(seconds=BOOK_TTL_S + 5), save_cursor=False)
        job.status = RecomputeStatus.DONE
        job.processed = max(job.processed, job.total)
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "processed", "finished_at", "updated_at"])
    except Exception as exc:
        job.status = RecomputeStatus.FAILED
        job.error = f"{type(exc).__name__}: {exc}"[:2000]
        job.save(update_fields=["status", "error", "updated_at"])
        _start_next(job.project_id)
        raise
    _start_next(job.project_id)
    return job


def _start_next(project_id: int) -> None:
    pending = (
        RecomputeJob.objects.filter(project_id=project_id, status=RecomputeStatus.PENDING)
        .order_by("created_at", "pk")
        .first()
    )
    if pending is not None:
        recompute_job_start(job=pending)


def recompute_job_resume(*, job: RecomputeJob, actor: Person | None) -> RecomputeJob:
    """Start a failed or stalled job again; it continues from its cursor."""
    if actor is not None:
        require_role(user=actor, organization=job.organization, at_least=Role.ADMIN)
    stalled = job.status == RecomputeStatus.RUNNING and (
        job.heartbeat_at is None or job.heartbeat_at < timezone.now() - LEASE
    )
    if job.status != RecomputeStatus.FAILED and not stalled:
        raise ApplicationError("Only a failed or stalled recompute can be resumed", code="not_resumable")
    recompute_job_start(job=job)
    return job


def recompute_organization(
    *, organization: Organization, actor: Person | None, since: datetime, reason: str
) -> None:
    """Recompute every stored cost of the organisation's projects since a time (admin action)."""
    if actor is not None:
        require_role(user=actor, organization=organization, at_least=Role.ADMIN)
    if since > timezone.now():
        raise ApplicationError("since: must not be in the future", field="since")
    recompute_request(organization_id=organization.pk, since=since, reason=reason)
