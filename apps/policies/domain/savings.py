"""Live telemetry of routed traffic (ClickHouse): the arms the guard compares, and realised savings.

Every routed call carries its policy version, arm and reason (docs/protocol.md). Calls outside the
rollout have reason `rollout` and form the baseline cohort; the rest form the policy cohort. A
routed call whose candidate failed or whose cascade escalated is two events, so cohort call
counts are events minus fallback events.

Realised savings compare what the policy cohort actually cost with the baseline's price for the
same traffic: answers the baseline gave count at their own cost; answers of another model count
at the baseline's price for their tokens (the per-call mean usage of each group is priced, then
multiplied back); candidate answers a cascade threw away count nothing at the baseline (the
escalation event that replaced them is the baseline's answer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q

from apps.policies.models import PolicyAction, PolicyVersion, Recommendation, Strategy
from apps.pricing.cost import Usage
from apps.pricing.selectors import price_book
from apps.warehouse.client import ProjectScope, load_sql

_ARMS = load_sql(__file__, "arms")
_FEEDBACK = load_sql(__file__, "feedback")


@dataclass(frozen=True)
class ArmRow:
    arm: str
    reason: str
    provider: str
    model: str
    events: int
    errors: int
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    reasoning_tokens: int
    cost_nano: int
    unpriced: int
    latency_p50: float
    latency_p95: float

    @property
    def in_policy(self) -> bool:
        return self.reason != "rollout"


@dataclass(frozen=True)
class Feedback:
    n: int = 0
    mean: float = 0.0
    variance: float = 0.0


@dataclass(frozen=True)
class Cohorts:
    """The policy cohort against the baseline cohort, over some versions and time."""

    rows: list[ArmRow]
    feedback_policy: Feedback = field(default_factory=Feedback)
    feedback_baseline: Feedback = field(default_factory=Feedback)

    def _sum(self, attr: str, *, policy: bool, arm: str | None = None, reason_prefix: str = "") -> int:
        return sum(
            getattr(r, attr)
            for r in self.rows
            if r.in_policy == policy and (arm is None or r.arm == arm) and r.reason.startswith(reason_prefix)
        )

    @property
    def policy_calls(self) -> int:
        return self._sum("events", policy=True) - self._sum("events", policy=True, arm="fallback")

    @property
    def baseline_calls(self) -> int:
        return self._sum("events", policy=False)

    @property
    def candidate_events(self) -> int:
        return self._sum("events", policy=True, arm="candidate")

    @property
    def candidate_errors(self) -> int:
        return self._sum("errors", policy=True, arm="candidate")

    @property
    def baseline_errors(self) -> int:
        return self._sum("errors", policy=False)

    @property
    def escalations(self) -> int:
        return self._sum("events", policy=True, arm="fallback", reason_prefix="cascade:")

    def latency_p50(self, *, policy: bool) -> float:
        rows = [r for r in self.rows if r.in_policy == policy and r.events and not math.isnan(r.latency_p50)]
        total = sum(r.events for r in rows)
        return sum(r.latency_p50 * r.events for r in rows) / total if total else 0.0


def _dt(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def cohorts(
    *, project_id: int, endpoint: str, versions: list[int], since: datetime, until: datetime | None = None
) -> Cohorts:
    params: dict[str, Any] = {
        "endpoint": endpoint,
        "versions": versions,
        "since": _dt(since),
        "until": _dt(until or datetime.now(UTC) + timedelta(days=1)),
    }
    scope = ProjectScope(project_id)
    rows = [
        ArmRow(
            arm=str(d["arm"]),
            reason=str(d["reason"]),
            provider=str(d["provider"]),
            model=str(d["model"]),
            events=int(d["events"]),
            errors=int(d["errors"]),
            input_tokens=int(d["input_tokens"]),
            output_tokens=int(d["output_tokens"]),
            cached_input_tokens=int(d["cached_input_tokens"]),
            reasoning_tokens=int(d["reasoning_tokens"]),
            cost_nano=int(d["cost_nano"]),
            unpriced=int(d["unpriced"]),
            latency_p50=float(d["latency_p50"]),
            latency_p95=float(d["latency_p95"]),
        )
        for d in scope.query(_ARMS, params, feature="policies-arms").dicts()
    ]
    found = {
        str(d["cohort"]): Feedback(int(d["n"]), float(d["mean"]), float(d["variance"] or 0.0))
        for d in scope.query(_FEEDBACK, params, feature="policies-feedback").dicts()
    }
    return Cohorts(rows, found.get("policy", Feedback()), found.get("baseline", Feedback()))


# --- realised savings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RealisedSavings:
    endpoint: str
    since: datetime
    until: datetime
    policy_version: int  # the version in force now (0: none)
    strategy: str
    target: str
    rollout_percent: float
    calls_in_policy: int
    calls_outside: int
    candidate_share: float  # share of policy calls answered by the candidate
    actual_cost_nano: int
    baseline_cost_nano: int  # the baseline's price for the same traffic
    saved_nano: int
    saved_share: float
    projected_nano: int | None  # what the approved recommendation projected for these calls
    projected_low_nano: int | None
    projected_high_nano: int | None
    projected_retention: float | None
    error_rate_policy: float
    error_rate_outside: float
    escalation_rate: float
    feedback_policy: Feedback
    feedback_outside: Feedback
    unpriced_events: int
    notes: list[str] = field(default_factory=list)


def _baseline_price(
    book: Any, baseline: tuple[str, str], row: ArmRow, events: int, ts: datetime
) -> int | None:
    if events <= 0:
        return 0
    usage = Usage(
        input_tokens=round(row.input_tokens / row.events),
        output_tokens=round(row.output_tokens / row.events),
        cached_input_tokens=round(row.cached_input_tokens / row.events),
        reasoning_tokens=round(row.reasoning_tokens / row.events),
    )
    found = book.cost(provider=baseline[0], model=baseline[1], ts=ts, usage=usage)
    return None if found is None else found.nano_usd * events


def realised_savings_for_endpoint(
    *, project_id: int, organization_id: int, endpoint: str, since: datetime, until: datetime | None = None
) -> RealisedSavings | None:
    """What the endpoint's routing saved between `since` and `until`, next to what was projected."""
    until = until or datetime.now(UTC)
    versions = list(
        PolicyVersion.objects.filter(project_id=project_id, endpoint=endpoint).order_by("-version")
    )
    if not versions:
        return None
    current = versions[0]
    with_spec = next((v for v in versions if v.spec), None)
    if with_spec is None:
        return None
    base = with_spec.spec["baseline"]
    baseline = (str(base["provider"]), str(base["model"]))
    data = cohorts(
        project_id=project_id,
        endpoint=endpoint,
        versions=[v.version for v in versions],
        since=since,
        until=until,
    )
    book = price_book(organization_id=organization_id)
    notes: list[str] = []
    actual = baseline_cost = 0
    escalated = data.escalations
    for row in (r for r in data.rows if r.in_policy):
        actual += row.cost_nano
        is_baseline = (row.provider, row.model) == baseline
        if is_baseline:
            baseline_cost += row.cost_nano
            continue
        answers = row.events - row.errors
        if row.arm == "candidate" and escalated:
            thrown = min(escalated, answers)
            answers -= thrown
            escalated -= thrown
        priced = _baseline_price(book, baseline, row, answers, until)
        if priced is None:
            notes.append(f"{baseline[0]}/{baseline[1]} has no price: savings are unknown")
            priced = row.cost_nano
        baseline_cost += priced
    unpriced = sum(r.unpriced for r in data.rows if r.in_policy)
    if unpriced:
        notes.append(f"{unpriced} routed events have no price and count as $0")
    calls = data.policy_calls
    saved = baseline_cost - actual
    projected = _projection(versions, calls)
    return RealisedSavings(
        endpoint=endpoint,
        since=since,
        until=until,
        policy_version=current.version,
        strategy=current.strategy,
        target=current.target,
        rollout_percent=current.rollout_percent,
        calls_in_policy=calls,
        calls_outside=data.baseline_calls,
        candidate_share=(data.candidate_events - data.candidate_errors - data.escalations) / calls
        if calls
        else 0.0,
        actual_cost_nano=actual,
        baseline_cost_nano=baseline_cost,
        saved_nano=saved,
        saved_share=saved / baseline_cost if baseline_cost else 0.0,
        projected_nano=projected[0],
        projected_low_nano=projected[1],
        projected_high_nano=projected[2],
        projected_retention=projected[3],
        error_rate_policy=_rate(sum(r.errors for r in data.rows if r.in_policy), calls),
        error_rate_outside=_rate(data.baseline_errors, data.baseline_calls),
        escalation_rate=_rate(data.escalations, calls),
        feedback_policy=data.feedback_policy,
        feedback_outside=data.feedback_baseline,
        unpriced_events=unpriced,
        notes=notes,
    )


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _projection(
    versions: list[PolicyVersion], calls: int
) -> tuple[int | None, int | None, int | None, float | None]:
    """The approved recommendation's savings per call × the calls the policy actually handled."""
    approved = next(
        (v for v in versions if v.action == PolicyAction.APPROVE and v.recommendation_id is not None), None
    )
    rec: Recommendation | None = approved.recommendation if approved is not None else None
    if rec is None or not rec.monthly_calls or rec.monthly_savings_nano is None:
        return None, None, None, None
    per_call = calls / rec.monthly_calls
    return (
        round(rec.monthly_savings_nano * per_call),
        round((rec.monthly_savings_low_nano or 0) * per_call),
        round((rec.monthly_savings_high_nano or 0) * per_call),
        rec.retention,
    )


def realised_savings(
    *, project_id: int, organization_id: int, since: datetime, until: datetime | None = None
) -> list[RealisedSavings]:
    """Realised savings of every endpoint that has (or had) a routing policy."""
    endpoints = (
        PolicyVersion.objects.filter(project_id=project_id)
        .filter(~Q(strategy=Strategy.NONE))
        .values_list("endpoint", flat=True)
        .distinct()
    )
    out = []
    for endpoint in sorted(set(endpoints)):
        found = realised_savings_for_endpoint(
            project_id=project_id,
            organization_id=organization_id,
            endpoint=endpoint,
            since=since,
            until=until,
        )
        if found is not None:
            out.append(found)
    return out
