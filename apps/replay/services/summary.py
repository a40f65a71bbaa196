"""A job's per-candidate summary: quality retention, cost, projected savings, latency, errors.

Read from the job's `replay_results`, counting only items the job settled as answered or failed
(a row left by a worker that was fenced out is ignored). Definitions:

- quality retention = mean quality over the answered, scored samples ÷ the evaluator's reference
  (what the app's own answer scores), with a 95 % Wilson interval (apps.replay.stats);
- cost per call = mean cost of the candidate's answers at today's prices; the baseline's is the
  mean of the app's own calls re-priced today, over the same samples;
- monthly savings = calls in the last 30 days × the mean per-call saving, with a 95 % bootstrap
  interval. A failed candidate call counts as no saving (the SDK falls back to the app's model);
- latency p50/p95 of the candidate's answers against the app's own on the same samples;
- error rate = failed candidate calls ÷ calls sent. Retention is measured on answered samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from apps.replay import stats
from apps.replay.evaluators.registry import quality_reference
from apps.replay.models import CandidateResult, ItemState, ReplayJob
from apps.replay.sql import sql
from apps.warehouse.client import ProjectScope

FEATURE = "replay.summary"
INTERVAL_CONFIDENCE = 0.95


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


def summarize(job: ReplayJob) -> list[CandidateResult]:
    """(Re)write the job's CandidateResult rows from its stored results."""
    reference = quality_reference(job.evaluator)
    population = job.population
    results = []
    for index, rows in enumerate(_collect(job).values()):  # in the job's candidate order
        spec = job.candidates[index]
        n = len(rows.qualities)
        mean_quality = sum(rows.qualities) / n if n else 0.0
        low, high = (
            stats.wilson(mean_quality, n, confidence=INTERVAL_CONFIDENCE, population=population)
            if n
            else (0.0, 1.0)
        )
        saving, saving_low, saving_high = stats.bootstrap_mean(
            rows.savings, confidence=INTERVAL_CONFIDENCE, population=population, seed=job.seed + index
        )
        sent = rows.answered + rows.errors
        results.append(
            CandidateResult(
                job=job,
                provider=spec["provider"],
                model=spec["model"],
                simulated=bool(spec.get("simulated")),
                samples=n,
                errors=rows.errors,
                unscored=rows.unscored,
                quality_mean=mean_quality,
                retention=mean_quality / reference,
                retention_low=low / reference,
                retention_high=high / reference,
                cost_per_call_nano=round(sum(rows.costs) / len(rows.costs)) if rows.costs else 0,
                baseline_cost_per_call_nano=round(sum(rows.baseline_costs) / len(rows.baseline_costs))
                if rows.baseline_costs
                else 0,
                monthly_savings_nano=round(saving * job.monthly_calls),
                savings_low_nano=round(saving_low * job.monthly_calls),
                savings_high_nano=round(saving_high * job.monthly_calls),
                latency_p50_ms=stats.percentile(rows.latencies, 50),
                latency_p95_ms=stats.percentile(rows.latencies, 95),
                baseline_latency_p50_ms=stats.percentile(rows.baseline_latencies, 50),
                baseline_latency_p95_ms=stats.percentile(rows.baseline_latencies, 95),
                error_rate=rows.errors / sent if sent else 0.0,
            )
        )
    with transaction.atomic():
        CandidateResult.objects.filter(job=job).delete()
        CandidateResult.objects.bulk_create(results)
    return results
