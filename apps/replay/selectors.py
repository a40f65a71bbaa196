"""Reads for replay: the evidence the recommender uses (apps/routing/evidence.py), and the pages' data.

`endpoint_evidence` is the newest finished (status done) job of an endpoint, as plain dataclasses;
its samples hold every settled sample with each candidate's answer, so a recommender can simulate
cascades and learned routers. A candidate that answered but could not be scored (the judge failed
or the cap stopped it) is left out of that sample's `candidates`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet

from apps.accounts.models import Organization, Project
from apps.core.errors import NotFound
from apps.replay.evaluators.registry import quality_reference
from apps.replay.models import (
    PERSON_CHOICE,
    CandidateResult,
    ItemState,
    JobStatus,
    ProviderConnection,
    ReplayJob,
)
from apps.replay.sql import sql
from apps.routing.evidence import (
    CandidateSample,
    CandidateSummary,
    EndpointEvidence,
    Interval,
    SampleEvidence,
)
from apps.warehouse.client import ProjectScope, allowed_identifier

FEATURE = "replay.selectors"


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _latest_done(project_id: int, endpoint: str) -> ReplayJob | None:
    return (
        ReplayJob.objects.filter(project_id=project_id, endpoint=endpoint, status=JobStatus.DONE)
        .order_by("-finished_at", "-pk")
        .first()
    )


def endpoints_with_evidence(*, project_id: int) -> list[str]:
    return sorted(
        set(
            ReplayJob.objects.filter(project_id=project_id, status=JobStatus.DONE).values_list(
                "endpoint", flat=True
            )
        )
    )


def _summary(result: CandidateResult) -> CandidateSummary:
    return CandidateSummary(
        provider=result.provider,
        model=result.model,
        samples=result.samples,
        quality_retention=result.retention,
        retention_ci=Interval(result.retention_low, result.retention_high),
        cost_per_call_nano=result.cost_per_call_nano,
        baseline_cost_per_call_nano=result.baseline_cost_per_call_nano,
        monthly_savings_nano=result.monthly_savings_nano,
        monthly_savings_ci=Interval(float(result.savings_low_nano), float(result.savings_high_nano)),
        latency_p50_ms=result.latency_p50_ms,
        latency_p95_ms=result.latency_p95_ms,
        baseline_latency_p50_ms=result.baseline_latency_p50_ms,
        baseline_latency_p95_ms=result.baseline_latency_p95_ms,
        error_rate=result.error_rate,
    )


def _samples(job: ReplayJob) -> list[SampleEvidence]:
    settled = {
        (str(e), c)
        for e, c in job.items.filter(state__in=(ItemState.DONE, ItemState.ERROR)).values_list(
            "event_id", "candidate"
        )
    }
    by_sample: dict[str, dict[str, Any]] = {}
    rows = ProjectScope(job.project_id).stream_rows(sql("evidence_rows"), {"job_id": job.pk}, feature=FEATURE)
    for (
        sample_id,
        candidate,
        prompt,
        base_cost,
        base_latency,
        output,
        ok,
        checks,
        cost,
        latency,
        quality,
        conversation,
    ) in rows:
        key = str(sample_id)
        if (key, candidate) not in settled:
            continue
        entry = by_sample.setdefault(
            key,
            {
                "prompt": prompt,
                "cost": base_cost,
                "latency": base_latency,
                "group": conversation,
                "candidates": {},
            },
        )
        if ok and quality is None:
            continue  # answered but not scored
        entry["candidates"][candidate] = CandidateSample(
            quality=float(quality) if quality is not None else 0.0,
            cost_nano=int(cost) if cost is not None else None,
            latency_ms=int(latency),
            ok=bool(ok),
            failed_checks=tuple(checks),
            output=output,
        )
    return [
        SampleEvidence(
            sample_id=key,
            prompt_text=entry["prompt"],
            baseline_cost_nano=int(entry["cost"]),
            baseline_latency_ms=int(entry["latency"]),
            candidates=entry["candidates"],
            group=f"conversation:{entry['group']}" if entry["group"] else "",
        )
        for key, entry in by_sample.items()
    ]


def job_evidence(job: ReplayJob) -> EndpointEvidence:
    """A finished job's evidence: every settled sample with each candidate's result. Anything that
    ran on the `sim` provider (any candidate, the judge) is marked simulated."""
    parts = job.simulated_parts
    return EndpointEvidence(
        project_id=job.project_id,
        endpoint=job.endpoint,
        job_id=job.pk,
        finished_at=_utc(job.finished_at or job.updated_at),
        baseline_provider=job.baseline_provider,
        baseline_model=job.baseline_model,
        evaluator=job.evaluator,
        quality_reference=quality_reference(job.evaluator),
        monthly_calls=job.monthly_calls,
        simulated="candidates" in parts,
        candidates=[_summary(r) for r in job.results.order_by("pk")],
        samples=_samples(job),
        judge_simulated="judge" in parts,
        estimate=job.estimate or None,
    )


def project_evidence(*, project_id: int, exclude_endpoint: str = "") -> list[EndpointEvidence]:
    """The newest finished replay of every other endpoint of the project (a learned router's pool)."""
    out = []
    for endpoint in endpoints_with_evidence(project_id=project_id):
        if endpoint == exclude_endpoint:
            continue
        found = endpoint_evidence(project_id=project_id, endpoint=endpoint)
        if found is not None:
            out.append(found)
    return out


def endpoint_evidence(*, project_id: int, endpoint: str) -> EndpointEvidence | None:
    """The newest finished replay of an endpoint, or None when it has none."""
    job = _latest_done(project_id, endpoint)
    if job is None or job.finished_at is None:
        return None
    return job_evidence(job)


# --- pages -------------------------------------------------------------------------------------


def jobs_for_project(*, project: Project, limit: int = 100) -> QuerySet[ReplayJob]:
    return (
        ReplayJob.objects.filter(project=project)
        .select_related("created_by")
        .order_by("-created_at", "-pk")[:limit]
    )


def endpoints_of_project(*, project_id: int) -> list[tuple[str, int]]:
    """The project's endpoints with calls in the last 30 days, busiest first."""
    result = ProjectScope(project_id).query(sql("project_endpoints"), feature=FEATURE)
    return [(str(e), int(c)) for e, c in result.rows]


@dataclass(frozen=True)
class SampleRow:
    sample_id: str
    candidate: str
    seq: int
    prompt_text: str
    baseline_output: str
    output: str
    ok: bool
    error: str
    failed_checks: tuple[str, ...]
    quality: float | None
    cost_nano: int | None
    baseline_cost_nano: int
    latency_ms: int
    baseline_latency_ms: int
    input_tokens: int
    output_tokens: int
    verdicts: list[dict[str, Any]]
    simulated: bool


def _sample_row(row: dict[str, Any]) -> SampleRow:
    try:
        verdicts = json.loads(row["verdicts"]) if row["verdicts"] else []
    except ValueError:
        verdicts = []
    return SampleRow(
        sample_id=str(row["sample_id"]),
        candidate=row["candidate"],
        seq=int(row["seq"]),
        prompt_text=row["prompt_text"],
        baseline_output=row["baseline_output"],
        output=row["output"],
        ok=bool(row["ok"]),
        error=row["error"],
        failed_checks=tuple(row["failed_checks"]),
        quality=row["quality"],
        cost_nano=row["cost_nano"],
        baseline_cost_nano=int(row["baseline_cost_nano"]),
        latency_ms=int(row["latency_ms"]),
        baseline_latency_ms=int(row["baseline_latency_ms"]),
        input_tokens=int(row["input_tokens"]),
        output_tokens=int(row["output_tokens"]),
        verdicts=verdicts,
        simulated=bool(row["simulated"]),
    )


SAMPLE_ORDER = {
    "seq": "seq",
    "worst": "quality ASC NULLS FIRST, seq",
    "best": "quality DESC NULLS LAST, seq",
}


def job_sample_rows(
    *, job: ReplayJob, candidate: str = "", order: str = "seq", limit: int = 50, offset: int = 0
) -> list[SampleRow]:
    """The job's per-sample results for the viewer, optionally for one candidate."""
    ordering = SAMPLE_ORDER[allowed_identifier(order, tuple(SAMPLE_ORDER))]
    params = {"job_id": job.pk, "candidate": candidate, "limit": limit, "offset": offset}
    text = sql("job_samples").replace("/*order*/", ordering)
    result = ProjectScope(job.project_id).query(text, params, feature=FEATURE)
    return [_sample_row(r) for r in result.dicts()]


def job_sample(*, job: ReplayJob, sample_id: uuid.UUID) -> list[SampleRow]:
    """One sample's results across every candidate (the side-by-side viewer)."""
    params = {"job_id": job.pk, "sample_id": sample_id}
    rows = ProjectScope(job.project_id).query(sql("job_sample"), params, feature=FEATURE).dicts()
    return [_sample_row(r) for r in rows]


def job_get_for_project(*, project: Project, job_id: int) -> ReplayJob:
    job = (
        ReplayJob.objects.filter(pk=job_id, project=project).select_related("project", "organization").first()
    )
    if job is None:
        raise NotFound("Replay not found")
    return job


def job_progress(job: ReplayJob) -> dict[str, Any]:
    """Done/total, spend so far and an ETA from this run's pace (the job page polls this)."""
    from django.utils import timezone

    settled = job.settled_items
    eta = None
    if job.status == JobStatus.RUNNING and job.run_started_at is not None:
        elapsed = (timezone.now() - job.run_started_at).total_seconds()
        pace = (settled - job.run_started_done) / elapsed if elapsed > 0 else 0
        if pace > 0:
            eta = round((job.total_items - settled) / pace)
    return {
        "status": job.status,
        "status_label": job.get_status_display(),
        "stop_reason": job.stop_reason,
        "error": job.error,
        "done": job.done_items,
        "errors": job.error_items,
        "skipped": job.skipped_items,
        "interrupted": job.interrupted_items,
        "settled": settled,
        "total": job.total_items,
        "percent": job.percent,
        "spent_nano": job.spent_nano,
        "reserved_nano": job.reserved_nano,
        "cap_nano": job.spend_cap_nano,
        "eta_s": eta,
        "finished": job.status not in (JobStatus.PENDING, JobStatus.RUNNING),
        "cancel_requested": job.cancel_requested,
    }


EXCLUSION_LABELS = {
    "no_payload": "had no captured payload",
    "redacted": "were redacted in ways that change their meaning",
    "baseline_error": "failed for the app itself",
    "other_model": "were answered by another model or already routed",
    "unsupported": "hold content a replay cannot send (images, audio, files)",
    "no_feedback": "have no user feedback",
}


def describe_exclusions(excluded: dict[str, int]) -> list[tuple[int, str]]:
    return [(n, EXCLUSION_LABELS.get(reason, reason)) for reason, n in sorted(excluded.items()) if n]


def latest_replay(*, project_id: int, endpoint: str) -> ReplayJob | None:
    """The endpoint's newest replay of any status, with its results (for the dashboard's card:
    render templates/replay/_endpoint_card.html with `replay` and `project`)."""
    return (
        ReplayJob.objects.filter(project_id=project_id, endpoint=endpoint)
        .prefetch_related("results")
        .order_by("-created_at", "-pk")
        .first()
    )


@dataclass(frozen=True)
class EvaluatorChoice:
    """The evaluator a person last chose for an endpoint, as the next replay's default."""

    kind: str
    config: dict[str, Any]
    job_id: int


def endpoint_evaluator_choice(*, project_id: int, endpoint: str) -> EvaluatorChoice | None:
    """The evaluator chosen by a person on the endpoint's newest replay; None when the traffic
    chose it there (the next replay then chooses from the traffic too)."""
    job = (
        ReplayJob.objects.filter(project_id=project_id, endpoint=endpoint)
        .order_by("-created_at", "-pk")
        .first()
    )
    if job is None or job.evaluator_reason != PERSON_CHOICE:
        return None
    return EvaluatorChoice(job.evaluator, dict(job.evaluator_config or {}), job.pk)


def connections_for(*, organization: Organization) -> QuerySet[ProviderConnection]:
    return ProviderConnection.objects.filter(organization=organization).order_by("provider")


def connection_providers(*, organization_id: int) -> set[str]:
    return set(
        ProviderConnection.objects.filter(organization_id=organization_id).values_list("provider", flat=True)
    )
