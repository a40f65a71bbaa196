"""Opportunities: run the detectors and keep their findings; dismiss, mark done, reopen; queue a
replay of a successor model; say what an endpoint is (background or user-facing).

A run (`detect_project`) scans the project's last WINDOW of calls once per detector (apps.
opportunities.detectors), then, in one transaction, updates each finding by (endpoint, kind,
subject): an open or gone one takes the new figures (and opens again), a dismissed one takes them
quietly, a done one keeps the estimate it was done with; an open finding this run did not find
again is gone. Then every done finding's realised saving is measured (apps.opportunities.realised).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Person, Project, Role
from apps.accounts.services import require_role
from apps.core.errors import ApplicationError
from apps.opportunities.detectors import Finding, Scan, run_all
from apps.opportunities.models import (
    DetectionRun,
    EndpointTraits,
    Kind,
    Latency,
    Opportunity,
    RunStatus,
    Status,
)
from apps.opportunities.realised import baseline, measure_realised
from apps.pricing.selectors import model_lifecycles, price_book

logger = logging.getLogger(__name__)
WINDOW = timedelta(days=7)
EVERY = timedelta(hours=6)  # how often the schedule runs a project's detectors
RUNNING_GRACE = timedelta(minutes=15)  # a run older than this that never finished has died


class AlreadyRunning(ApplicationError):
    def __init__(self) -> None:
        super().__init__(
            "The detectors are already running for this project", code="already_running", status=409
        )


def traits_of(*, project_id: int) -> dict[str, str]:
    return dict(EndpointTraits.objects.filter(project_id=project_id).values_list("endpoint", "latency"))


def detect_project(
    *, project: Project, now: datetime | None = None, window: timedelta = WINDOW, trigger: str = "schedule"
) -> DetectionRun:
    """Run every detector over the project's last `window` of calls and keep what they find."""
    now = now or timezone.now()
    running = DetectionRun.objects.filter(project=project, status=RunStatus.RUNNING)
    if running.filter(created_at__gte=timezone.now() - RUNNING_GRACE).exists():
        raise AlreadyRunning()
    running.update(status=RunStatus.FAILED, error="did not finish")
    run = DetectionRun.objects.create(
        project=project, trigger=trigger[:32], window_start=now - window, window_end=now
    )
    book = price_book(organization_id=project.organization_id)
    try:
        findings, scan = run_all(
            project_id=project.pk,
            book=book,
            since=now - window,
            until=now,
            traits=traits_of(project_id=project.pk),
            lifecycles=model_lifecycles(organization_id=project.organization_id),
        )
        _store(project=project, run=run, findings=findings, scan=scan, now=now)
        measure_realised(project_id=project.pk, book=book, now=now)
    except Exception as exc:
        run.status, run.error, run.finished_at = (
            RunStatus.FAILED,
            f"{type(exc).__name__}: {exc}"[:2000],
            timezone.now(),
        )
        run.save(update_fields=["status", "error", "finished_at", "updated_at"])
        raise
    run.status, run.finished_at = RunStatus.DONE, timezone.now()
    run.clickhouse_ms = round(scan.clickhouse_s * 1000)
    run.endpoints = len(scan.endpoints())
    run.calls = sum(r.tokens.calls for r in scan.usage)
    run.found = len(findings)
    run.save()
    logger.info(
        "opportunities run %s of project %s: %d findings over %d calls, ClickHouse %s",
        run.pk, project.pk, run.found, run.calls,
        ", ".join(f"{name} {seconds:.2f} s" for name, seconds in scan.timings.items()),
        extra={"clickhouse_s": dict(scan.timings)},
    )  # fmt: skip
    return run


def _metric_model(finding: Finding) -> str:
    return finding.subject if finding.kind == Kind.CACHING else ""


@transaction.atomic
def _store(
    *, project: Project, run: DetectionRun, findings: list[Finding], scan: Scan, now: datetime
) -> None:
    existing = {
        (o.endpoint, o.kind, o.subject): o
        for o in Opportunity.objects.select_for_update().filter(project=project)
    }
    seen = set()
    spends = {e: scan.spend(e) for e in {f.endpoint for f in findings}}
    for f in findings:
        key = (f.endpoint, f.kind, f.subject)
        seen.add(key)
        row = existing.get(key) or Opportunity(
            project=project, endpoint=f.endpoint, kind=f.kind, subject=f.subject, first_seen_at=now
        )
        row.last_seen_at, row.run = now, run
        if row.status == Status.DONE:
            row.save(update_fields=["last_seen_at", "run", "updated_at"])
            continue
        if row.status == Status.GONE:
            row.status = Status.OPEN
        spend = spends[f.endpoint]
        row.title = f.title[:300]
        row.monthly_nano, row.monthly_low_nano, row.monthly_high_nano = (
            f.monthly.nano,
            f.monthly.low_nano,
            f.monthly.high_nano,
        )
        row.acts_on = f.acts_on
        row.endpoint_monthly_nano, row.input_monthly_nano, row.output_monthly_nano = (
            spend.monthly_nano, spend.input_nano, spend.output_nano,
        )  # fmt: skip
        row.evidence, row.change, row.examples = f.evidence, f.change.as_json(), f.examples
        row.baseline = baseline(scan, endpoint=f.endpoint, metric=f.baseline.get("metric", "cost_per_call"),
                                model=_metric_model(f))  # fmt: skip
        row.window_start, row.window_end = scan.since, scan.until
        row.save()
    for key, row in existing.items():
        if key not in seen and row.status == Status.OPEN:
            row.status = Status.GONE
            row.save(update_fields=["status", "updated_at"])


def detect_due(*, now: datetime | None = None) -> list[int]:
    """Projects whose last run is older than EVERY (or that never ran) and have calls: their ids."""
    now = now or timezone.now()
    recent = set(
        DetectionRun.objects.filter(created_at__gte=now - EVERY)
        .values_list("project_id", flat=True)
        .distinct()
    )
    return [p for p in Project.objects.values_list("pk", flat=True) if p not in recent]


def require_member(*, actor: Any, project: Project) -> None:
    """Members and above act on findings; viewers read them."""
    if actor is not None:
        require_role(user=actor, organization=project.organization, at_least=Role.MEMBER)


def opportunity_dismiss(*, opportunity: Opportunity, actor: Person | None, reason: str = "") -> Opportunity:
    require_member(actor=actor, project=opportunity.project)
    if opportunity.status == Status.DONE:
        raise ApplicationError("This one is marked done: reopen it first")
    opportunity.status, opportunity.decided_by, opportunity.decided_at = (
        Status.DISMISSED,
        actor,
        timezone.now(),
    )
    opportunity.decision_note = reason.strip()[:500]
    opportunity.save()
    return opportunity


def opportunity_mark_done(*, opportunity: Opportunity, actor: Person | None, note: str = "") -> Opportunity:
    """The change is made: from now on the realised saving is measured against the finding's window."""
    require_member(actor=actor, project=opportunity.project)
    if opportunity.status == Status.DONE:
        return opportunity
    now = timezone.now()
    opportunity.status, opportunity.decided_by, opportunity.decided_at, opportunity.done_at = (
        Status.DONE, actor, now, now,
    )  # fmt: skip
    opportunity.decision_note = note.strip()[:500]
    opportunity.realised_nano, opportunity.realised_measured_at = None, None
    opportunity.realised_note = (
        "Measuring: the realised saving needs a whole day of calls after it was marked done."
    )
    opportunity.save()
    return opportunity


def opportunity_reopen(*, opportunity: Opportunity, actor: Person | None) -> Opportunity:
    require_member(actor=actor, project=opportunity.project)
    opportunity.status, opportunity.decided_by, opportunity.decided_at = Status.OPEN, actor, timezone.now()
    opportunity.done_at, opportunity.decision_note = None, ""
    opportunity.realised_nano, opportunity.realised_note, opportunity.realised_measured_at = None, "", None
    opportunity.save()
    return opportunity


def endpoint_latency_set(
    *, project: Project, endpoint: str, latency: str, actor: Person | None
) -> EndpointTraits:
    """Say an endpoint is background work (batch is advised when it does not stream) or user-facing
    (batch is never advised); `auto` judges from its traffic again. The next run uses it."""
    require_member(actor=actor, project=project)
    if latency not in Latency.values:
        raise ApplicationError(f"latency must be one of {', '.join(Latency.values)}", field="latency")
    endpoint = endpoint.strip()[:128]
    if not endpoint:
        raise ApplicationError("Name the endpoint", field="endpoint")
    row, _ = EndpointTraits.objects.update_or_create(
        project=project, endpoint=endpoint, defaults={"latency": latency, "updated_by": actor}
    )
    if latency == Latency.USER_FACING:
        Opportunity.objects.filter(
            project=project, endpoint=endpoint, kind=Kind.TIER, status=Status.OPEN
        ).update(status=Status.DISMISSED, decision_note="marked user-facing", decided_at=timezone.now())
    return row
