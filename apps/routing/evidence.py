"""The contract between replay (which produces evidence) and the estimates made from it.

Replay jobs (apps.replay) turn a sample of an endpoint's calls into per-sample verdicts and a
per-candidate summary; `apps.replay.selectors.endpoint_evidence(project_id=…, endpoint=…)`
returns the newest finished evidence as these plain dataclasses. The estimator
(apps.routing.estimate) and the recommender (apps.policies) read nothing else from replay;
`manage.py evaluate_routing` builds the same evidence from labelled data.

Quality: every evaluator scores a candidate's answer on one sample as `quality` in [0, 1]
against the app's own (baseline) answer; `quality_reference` is what the baseline itself scores
(1.0 for match/JSON/numeric/similarity evaluators, 0.5 for a pairwise judge, where quality is
P(candidate beats baseline)). Where the baseline's own quality is known per sample (labelled
data), `SampleEvidence.baseline_quality` carries it. Quality retention of a policy = Σ quality
of the answers it serves ÷ Σ baseline quality over the same samples, so 1.0 means "as good as
what the app got".

Samples that share a `group` (the turns of one conversation: turn 2 contains turn 1) are never
split between training and held-out folds or resampled apart.

Money is integer nano-USD (1e-9 USD) throughout, as stored by ingest and pricing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class CandidateSample:
    """One candidate's answer to one sampled call."""

    quality: float  # in [0, 1]; see module docstring
    cost_nano: int | None  # None when the candidate call failed or has no price
    latency_ms: int
    ok: bool  # False: provider error, timeout, refusal or unusable output
    failed_checks: tuple[str, ...] = ()  # cascade checks that fired: "empty", "refusal", "invalid_json"
    output: str = ""


@dataclass(frozen=True)
class SampleEvidence:
    """One sampled call: its prompt, what the app paid, and each candidate's result."""

    sample_id: str  # the call's event_id
    prompt_text: str  # the user messages joined by newlines (what a learned router scores)
    baseline_cost_nano: int
    baseline_latency_ms: int
    candidates: dict[str, CandidateSample]  # keyed by "provider/model"
    group: str = ""  # conversation (or any unit kept whole); "" = the sample is its own group
    baseline_quality: float | None = None  # known per sample (labelled data); None = the reference

    @property
    def group_key(self) -> str:
        return self.group or f"sample:{self.sample_id}"


@dataclass(frozen=True)
class CandidateSummary:
    provider: str
    model: str
    samples: int
    quality_retention: float
    retention_ci: Interval  # 95 %
    cost_per_call_nano: int
    baseline_cost_per_call_nano: int
    monthly_savings_nano: int  # at the endpoint's current volume
    monthly_savings_ci: Interval  # nano-USD, 95 %
    latency_p50_ms: float
    latency_p95_ms: float
    baseline_latency_p50_ms: float
    baseline_latency_p95_ms: float
    error_rate: float

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.model}"


@dataclass(frozen=True)
class EndpointEvidence:
    project_id: int
    endpoint: str
    job_id: int
    finished_at: datetime
    baseline_provider: str
    baseline_model: str
    evaluator: str  # e.g. "exact", "json", "numeric", "similarity", "judge", "feedback"
    quality_reference: float  # 1.0, or 0.5 for a pairwise judge
    monthly_calls: int  # the endpoint's current volume, calls per 30 days
    simulated: bool  # True when candidates ran on the `sim` provider
    candidates: list[CandidateSummary] = field(default_factory=list)
    samples: list[SampleEvidence] = field(default_factory=list)
    judge_simulated: bool = False  # True when a pairwise judge ran on the `sim` provider
    estimate: dict[str, Any] | None = None  # the estimate made when the job finished (Estimate.as_json)

    @property
    def simulated_parts(self) -> tuple[str, ...]:
        """What in this evidence is simulated ("candidates", "judge"): any of it makes advice simulated."""
        return tuple(p for p, on in (("candidates", self.simulated), ("judge", self.judge_simulated)) if on)
