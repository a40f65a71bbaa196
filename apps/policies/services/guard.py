"""The rollout guard: watch a canary against the baseline from live telemetry, promote it in steps
or roll it back when it trips.

A newly approved policy starts at the project's canary percentage. Every run, for each guarded
version in force (rollout below 100 %), the guard compares the policy cohort with the baseline
cohort (calls outside the rollout) over the whole rollout so far:

- errors: the candidate arm's error rate, when its 95 % Wilson lower bound is above both the
  policy's `max_error_rate` and the baseline cohort's error rate → trip;
- feedback: the policy cohort's mean score significantly (z < -2.33) below `min_quality` × the
  baseline cohort's mean, with at least 20 scores on each side → trip;
- latency: the policy cohort's median latency above 2 × the baseline's → trip.

A trip publishes a new version restoring what was in force before the rollout (or no routing),
and notifies the project. Otherwise, once the current step has run for the guard window with at
least `guard_min_calls` policy calls, it promotes to the next step.

Shadow replay (re-running the baseline on a sample of the canary's prompts and scoring the pair)
is left to the replay engine: this guard uses live error, latency and feedback signals only.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef

from apps.core.errors import ApplicationError
from apps.policies.domain.savings import Cohorts, cohorts
from apps.policies.models import GuardCheck, GuardDecision, PolicyAction, PolicyVersion, Strategy
from apps.policies.selectors import current_version, policy_settings, rollout_steps
from apps.policies.services.notify import notify
from apps.policies.services.versions import spec_validate, spec_with_rollout, version_publish, window_seconds

logger = logging.getLogger(__name__)
MIN_EVENTS = 20
MIN_FEEDBACK = 20
LATENCY_RATIO = 2.0
Z_ONE_SIDED_99 = 2.326


@dataclass(frozen=True)
class Assessment:
    decision: str
    reasons: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)


def wilson_lower(successes: int, n: int, z: float = 1.96) -> float:
    if n == 0:
        return 0.0
    p = successes / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / (1 + z * z / n))


def rollout_versions(version: PolicyVersion) -> list[PolicyVersion]:
    root = version.rollout_root or version
    return [root, *PolicyVersion.objects.filter(rollout_root=root).order_by("version")]


def assess(
    *,
    version: PolicyVersion,
    data: Cohorts,
    now: datetime,
    window_s: int,
    min_calls: int,
    default_max_error: float,
) -> Assessment:
    guard = version.spec.get("guard", {})
    max_error = float(guard.get("max_error_rate", default_max_error))
    min_quality = float(guard.get("min_quality", 0.95))
    cand_n, cand_err = data.candidate_events, data.candidate_errors
    base_n, base_err = data.baseline_calls, data.baseline_errors
    base_rate = base_err / base_n if base_n else 0.0
    policy_p50, base_p50 = data.latency_p50(policy=True), data.latency_p50(policy=False)
    fp, fb = data.feedback_policy, data.feedback_baseline
    metrics: dict[str, Any] = {
        "policy_calls": data.policy_calls,
        "baseline_calls": base_n,
        "candidate_events": cand_n,
        "candidate_errors": cand_err,
        "candidate_error_rate": cand_err / cand_n if cand_n else 0.0,
        "baseline_error_rate": base_rate,
        "escalations": data.escalations,
        "latency_p50_policy_ms": policy_p50,
        "latency_p50_baseline_ms": base_p50,
        "feedback_policy": {"n": fp.n, "mean": fp.mean},
        "feedback_baseline": {"n": fb.n, "mean": fb.mean},
        "shadow_replay": "not run: left to the replay engine",
    }
    trips: list[str] = []
    if cand_n >= MIN_EVENTS:
        lower = wilson_lower(cand_err, cand_n)
        metrics["candidate_error_rate_lower"] = lower
        if lower > max(max_error, base_rate):
            trips.append(
                f"Candidate error rate {cand_err}/{cand_n} ({cand_err / cand_n:.1%}, 95% lower bound "
                f"{lower:.1%}) is above the guard's {max_error:.1%} and the baseline's {base_rate:.1%}."
            )
    if fp.n >= MIN_FEEDBACK and fb.n >= MIN_FEEDBACK and fb.mean > 0:
        se = math.sqrt(fp.variance / fp.n + (min_quality**2) * fb.variance / fb.n) or 1e-9
        z = (fp.mean - min_quality * fb.mean) / se
        metrics["feedback_z"] = z
        if z < -Z_ONE_SIDED_99:
            trips.append(
                f"Feedback under the policy averages {fp.mean:.3f} (n={fp.n}) against {fb.mean:.3f} "
                f"(n={fb.n}) outside it: below {min_quality:.0%} of the baseline."
            )
    enough_latency = data.policy_calls >= MIN_EVENTS and base_n >= MIN_EVENTS
    if enough_latency and base_p50 > 0 and policy_p50 > LATENCY_RATIO * base_p50:
        trips.append(
            f"Median latency {policy_p50:.0f} ms is over {LATENCY_RATIO:g}× the baseline's {base_p50:.0f} ms."
        )
    if trips:
        return Assessment(GuardDecision.ROLLBACK, trips, metrics)
    age = (now - version.created_at).total_seconds()
    if age < window_s:
        left = timedelta(seconds=round(window_s - age))
        return Assessment(GuardDecision.HOLD, [f"Watching this step for another {left}."], metrics)
    if data.policy_calls < min_calls:
        return Assessment(
            GuardDecision.HOLD,
            [f"Waiting for {min_calls} calls under the policy (have {data.policy_calls})."],
            metrics,
        )
    return Assessment(GuardDecision.PROMOTE, ["No guard tripped over the window."], metrics)


def _next_step(version: PolicyVersion) -> float:
    steps = rollout_steps(project=version.project)
    return next((s for s in steps if s > version.rollout_percent), 100.0)


def _roll_back(version: PolicyVersion, root: PolicyVersion, why: str) -> PolicyVersion:
    before = root.previous
    project = version.project
    if before is not None and before.strategy != Strategy.NONE:
        try:
            spec_validate(project=project, spec=before.spec)
        except ApplicationError as exc:
            why += f" The version before it (v{before.version}) cannot be restored ({exc.message}): routing stops."
            before = None
    if before is None or before.strategy == Strategy.NONE:
        return version_publish(
            project=project, endpoint=version.endpoint, strategy=Strategy.NONE, spec={},
            action=PolicyAction.AUTO_ROLLBACK, reason=why, actor=None,
        )  # fmt: skip
    return version_publish(
        project=project, endpoint=version.endpoint, strategy=before.strategy, spec=before.spec,
        action=PolicyAction.AUTO_ROLLBACK, reason=f"{why} Restored v{before.version}.", actor=None,
    )  # fmt: skip


def guard_evaluate(*, version_id: int, now: datetime | None = None) -> GuardCheck | None:
    """Assess one guarded version and act on it. None when it is no longer the one in force."""
    now = now or datetime.now(UTC)
    version = PolicyVersion.objects.select_related("project__organization", "rollout_root").get(pk=version_id)
    current = current_version(project_id=version.project_id, endpoint=version.endpoint)
    if current is None or current.pk != version.pk or not version.guarded or version.rollout_percent >= 100:
        return None
    project = version.project
    prefs = policy_settings(project=project)
    chain = rollout_versions(version)
    root = chain[0]
    data = cohorts(
        project_id=project.pk,
        endpoint=version.endpoint,
        versions=[v.version for v in chain],
        since=root.created_at - timedelta(minutes=5),
        until=now + timedelta(minutes=5),
    )
    window = window_seconds(str(version.spec.get("guard", {}).get("window", prefs.guard_window)))
    verdict = assess(
        version=version, data=data, now=now, window_s=window,
        min_calls=prefs.guard_min_calls, default_max_error=prefs.max_error_rate,
    )  # fmt: skip
    with transaction.atomic():
        check = GuardCheck.objects.create(
            version=version,
            checked_at=now,
            decision=verdict.decision,
            reasons=verdict.reasons,
            metrics=verdict.metrics,
        )
        if verdict.decision == GuardDecision.ROLLBACK:
            why = "Guard tripped: " + " ".join(verdict.reasons)
            new = _roll_back(version, root, why)
            notify(
                project=project,
                kind="policy.rolled_back",
                subject=f"{version.endpoint}: routing rolled back automatically",
                text=f"{why}\n\nNow in force: v{new.version} ({new.strategy}).",
                payload={"endpoint": version.endpoint, "from_version": version.version,
                         "to_version": new.version, "reasons": verdict.reasons, "metrics": verdict.metrics},
            )  # fmt: skip
        elif verdict.decision == GuardDecision.PROMOTE:
            percent = _next_step(version)
            new = version_publish(
                project=project, endpoint=version.endpoint, strategy=version.strategy,
                spec=spec_with_rollout(version.spec, percent), action=PolicyAction.PROMOTE,
                reason=f"Guard passed at {version.rollout_percent:g}% over the window: promoted to {percent:g}%.",
                actor=None, guarded=percent < 100, recommendation=version.recommendation, rollout_root=root,
            )  # fmt: skip
            notify(
                project=project,
                kind="policy.promoted",
                subject=f"{version.endpoint}: rollout promoted to {percent:g}%",
                text=f"v{new.version} now routes {percent:g}% of {version.endpoint}'s traffic.",
                payload={"endpoint": version.endpoint, "from_version": version.version,
                         "to_version": new.version, "rollout_percent": percent, "metrics": verdict.metrics},
            )  # fmt: skip
    return check


def guard_tick(*, now: datetime | None = None) -> int:
    """Evaluate every guarded rollout in force. Returns how many were evaluated."""
    done = 0
    newer = PolicyVersion.objects.filter(previous=OuterRef("pk"))
    live = PolicyVersion.objects.filter(guarded=True, rollout_percent__lt=100).filter(~Exists(newer))
    for pk in live.values_list("pk", flat=True):
        try:
            if guard_evaluate(version_id=pk, now=now) is not None:
                done += 1
        except ApplicationError as exc:  # one project's failure must not stop the others
            logger.warning("guard: version %s not evaluated: %s", pk, exc.message)
    return done
