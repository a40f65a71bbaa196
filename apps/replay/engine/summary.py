"""A job's estimate and per-candidate summary: retention, cost, projected savings, latency, errors.

When a job ends, its evidence (apps.replay.selectors.job_evidence) goes through the routing
estimator (apps.routing.estimate): every option — each candidate's override, cascade and learned
routers — with its 95 % intervals, stored on the job and read by every page and by the
recommender, so an option shows one interval wherever it appears. Each candidate's row here
repeats its *override* option (quality retention and monthly savings with their intervals), beside
what only replay knows, counted over the items the job settled as answered or failed (a row left
by a worker that was fenced out is ignored):

- cost per call = mean cost of the candidate's answers at today's prices; the baseline's is the
  mean of the app's own calls re-priced today, over the same samples;
- latency p50/p95 of the candidate's answers against the app's own on the same samples;
- error rate = failed candidate calls ÷ calls sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction

from apps.replay import stats
from apps.replay.evaluators.registry import quality_reference
from apps.replay.models import CandidateResult, ItemState, ReplayJob
from apps.replay.selectors import job_evidence, project_evidence
from apps.replay.sql import sql
from apps.routing import encoder
from apps.routing.encoder_pool import EncoderPool
from apps.routing.estimate import Estimate, Option, estimate
from apps.routing.evidence import EndpointEvidence
from apps.routing.pool import RouterPool
from apps.warehouse.client import ProjectScope

FEATURE = "replay.summary"
logger = logging.getLogger(__name__)


@dataclass
class _Rows:
    qualities: list[float] = field(default_factory=list)
    costs: list[int] = field(default_factory=list)
    baseline_costs: list[int] = field(default_factory=list)
    savings: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    baseline_latencies: list[float] = field(default_factory=list)
    answered: int = 0
    errors: int = 0
    unscored: int = 0


def _collect(job: ReplayJob) -> dict[str, _Rows]:
    settled = {
        (str(e), c)
        for e, c in job.items.filter(state__in=(ItemState.DONE, ItemState.ERROR)).values_list(
            "event_id", "candidate"
        )
    }
    result = ProjectScope(job.project_id).query(sql("job_results"), {"job_id": job.pk}, feature=FEATURE)
    out: dict[str, _Rows] = {key: _Rows() for key in job.candidate_keys}
    for sample_id, candidate, ok, quality, cost, latency, baseline_cost, baseline_latency in result.rows:
        if (str(sample_id), candidate) not in settled or candidate not in out:
            continue
        rows = out[candidate]
        if not ok:
            rows.errors += 1
            rows.savings.append(0.0)
            continue
        rows.answered += 1
        rows.latencies.append(float(latency))
        rows.baseline_latencies.append(float(baseline_latency))
        if quality is None:
            rows.unscored += 1
        else:
            rows.qualities.append(float(quality))
        if cost is not None:
            rows.costs.append(int(cost))
            rows.baseline_costs.append(int(baseline_cost))
            rows.savings.append(float(int(baseline_cost) - int(cost)))
    return out


def job_estimate(job: ReplayJob) -> Estimate:
    """Estimate every routing option from the job's evidence and store it on the job. Learned
    routers train on the project's endpoints together (apps.routing.pool): this job's evidence and
    the newest replay of every other endpoint; encoder routers too (apps.routing.encoder_pool) when
    this server has the `encoder` extra (the artefact is exported on first use)."""
    evidence = job_evidence(job)
    everyone = [evidence, *project_evidence(project_id=job.project_id, exclude_endpoint=job.endpoint)]
    linear = RouterPool(everyone)
    found = estimate(evidence, seed=job.seed % 100_000, pool=linear, encoder_pool=_encoders(everyone, linear))
    job.estimate = found.as_json()
    job.save(update_fields=["estimate", "updated_at"])
    return found


def _encoders(everyone: list[EndpointEvidence], linear: RouterPool) -> EncoderPool | None:
    if not encoder.available():
        return None
    try:
        return EncoderPool.blended(everyone, spec=linear.spec)
    except Exception:  # the linear routers stand without it
        logger.exception("replay: the encoder could not be prepared; estimating without encoder routers")
        return None


def summarize(job: ReplayJob) -> list[CandidateResult]:
    """(Re)write the job's estimate and CandidateResult rows from its stored results."""
    reference = quality_reference(job.evaluator)
    collected = _collect(job)
    # the estimate reads the per-candidate rows too (summaries beside samples); write them first
    _write(job, [_row(job, index, rows, reference, None) for index, rows in enumerate(collected.values())])
    found = job_estimate(job)
    overrides = {o.target: o for o in found.options if o.strategy == "override"}
    results = [
        _row(job, index, rows, reference, overrides.get(key))
        for index, (key, rows) in enumerate(collected.items())
    ]
    _write(job, results)
    return results


def _row(
    job: ReplayJob, index: int, rows: _Rows, reference: float, override: Option | None
) -> CandidateResult:
    """One candidate's row: its override option's estimate, else the plain means with no interval."""
    spec = job.candidates[index]
    n = len(rows.qualities)
    mean_quality = sum(rows.qualities) / n if n else 0.0
    saving = sum(rows.savings) / len(rows.savings) if rows.savings else 0.0
    retention = (mean_quality / reference, mean_quality / reference, mean_quality / reference)
    savings = (saving * job.monthly_calls,) * 3
    if override is not None:
        retention = (override.retention, override.retention_low, override.retention_high)
        savings = (
            override.monthly_savings_nano,
            override.monthly_savings_low_nano,
            override.monthly_savings_high_nano,
        )
    sent = rows.answered + rows.errors
    return CandidateResult(
        job=job,
        provider=spec["provider"],
        model=spec["model"],
        simulated=bool(spec.get("simulated")),
        samples=n,
        errors=rows.errors,
        unscored=rows.unscored,
        quality_mean=mean_quality,
        retention=retention[0],
        retention_low=retention[1],
        retention_high=retention[2],
        cost_per_call_nano=round(sum(rows.costs) / len(rows.costs)) if rows.costs else 0,
        baseline_cost_per_call_nano=round(sum(rows.baseline_costs) / len(rows.baseline_costs))
        if rows.baseline_costs
        else 0,
        monthly_savings_nano=round(savings[0]),
        savings_low_nano=round(savings[1]),
        savings_high_nano=round(savings[2]),
        latency_p50_ms=stats.percentile(rows.latencies, 50),
        latency_p95_ms=stats.percentile(rows.latencies, 95),
        baseline_latency_p50_ms=stats.percentile(rows.baseline_latencies, 50),
        baseline_latency_p95_ms=stats.percentile(rows.baseline_latencies, 95),
        error_rate=rows.errors / sent if sent else 0.0,
    )


def _write(job: ReplayJob, results: list[CandidateResult]) -> None:
    with transaction.atomic():
        CandidateResult.objects.filter(job=job).delete()
        CandidateResult.objects.bulk_create(results)
