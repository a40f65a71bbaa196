"""The recommender: replay evidence in, one Recommendation per endpoint out.

The options and their intervals are the estimate the replay made when it finished
(apps.routing.estimate, stored on the job; made here for older jobs), so every page shows one
interval per option; the endpoint's quality bar chooses among them (apps.routing.choose).
Candidates on the kill switch or without a price are left out (and the reason says so). Encoder
routers are proposed only while every SDK that polled the project's config lately runs them
(apps.policies.selectors.encoder_capability). The same
evidence under the same conditions (quality bar, kill switch, prices, SDKs) gives the same
recommendation, so refreshing is idempotent; new evidence, a new bar or a kill-switch change makes
a new one and supersedes the open one. When nothing clears the bar the recommendation is "no
change" with the reason ("not enough evidence yet: N more samples needed" when more replay would
settle it), or "stop routing" when a policy is in force. Anything simulated in the evidence
(candidates or judge) is recorded on the recommendation and said in its summary.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Person, Project
from apps.core.errors import ApplicationError
from apps.policies.domain import evidence_source
from apps.policies.models import (
    EndpointSettings,
    PolicyVersion,
    Recommendation,
    RecommendationStatus,
    Strategy,
)
from apps.policies.selectors import current_version, encoder_capability, kill_state, quality_bar
from apps.policies.services.approve import require_approver
from apps.policies.services.audit import audit_record
from apps.pricing.cost import Usage
from apps.pricing.selectors import price_book
from apps.routing.choose import Choice, choose, qualifies
from apps.routing.estimate import Estimate, Option, estimate
from apps.routing.evidence import EndpointEvidence


def _candidate_keys(evidence: EndpointEvidence) -> list[str]:
    keys = {key for sample in evidence.samples for key in sample.candidates}
    keys |= {c.key for c in evidence.candidates}
    return sorted(keys)


def excluded_candidates(*, project: Project, evidence: EndpointEvidence) -> dict[str, str]:
    """Candidates the recommender may not propose, and why."""
    kill = kill_state(organization_id=project.organization_id)
    book = price_book(organization_id=project.organization_id)
    now = timezone.now()
    out: dict[str, str] = {}
    for key in _candidate_keys(evidence):
        why = kill.why(key)
        if why is not None:
            out[key] = why
            continue
        provider, _, model = key.partition("/")
        usage = Usage(input_tokens=1000, output_tokens=1000)
        if book.cost(provider=provider, model=model, ts=now, usage=usage) is None:
            out[key] = "no price in the price book"
    return out


def _fingerprint(
    evidence: EndpointEvidence, bar: float, excluded: dict[str, str], current: str, encoder_ok: bool
) -> str:
    doc = {
        "job": evidence.job_id,
        "finished": evidence.finished_at.isoformat(),
        "bar": round(bar, 6),
        "excluded": excluded,
        "current": current,
    }
    if encoder_ok:  # the project's SDKs can run encoder routers (absent before there were any)
        doc["encoder"] = True
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _same_policy(option: Option, version: PolicyVersion | None, evidence: EndpointEvidence) -> bool:
    if version is None or version.strategy != option.strategy:
        return False
    if option.strategy == Strategy.LEARNED:  # the same router only if trained on the same evidence
        rec = version.recommendation
        kind = (version.spec.get("learned") or {}).get("type")
        return (
            rec is not None
            and rec.evidence_job_id == evidence.job_id
            and version.target == option.target
            and kind == option.router
        )
    same_checks = list(option.checks) == list(version.spec.get("cascade", {}).get("checks", []))
    return version.target == option.target and (option.strategy != Strategy.CASCADE or same_checks)


def evidence_estimate(evidence: EndpointEvidence) -> Estimate:
    """The estimate stored with the evidence's job, or made now (same evidence, same seed, same result)."""
    if evidence.estimate:
        return Estimate.from_json(evidence.estimate)
    return estimate(evidence, seed=evidence.job_id % 100_000)


def _fields(est: Estimate, decision: Choice, excluded: dict[str, str], bar: float) -> dict[str, Any]:
    o = decision.chosen
    options = [
        {**x.as_dict(), "clears_bar": qualifies(x, bar)} for x in est.options if x.target not in excluded
    ]
    common: dict[str, Any] = {
        "options": options,
        "excluded": {**est.excluded, **excluded},
        "baseline_cost_per_call_nano": est.baseline_cost_per_call_nano,
        "samples_needed": decision.samples_needed,
    }
    if o is None:
        return {**common, "strategy": Strategy.NONE, "target": "", "proposal": {}}
    proposal = {**o.as_dict(), "clears_bar": True}
    if o.strategy == Strategy.LEARNED:
        proposal["learned"] = est.router_for(o)
    return {
        **common,
        "strategy": o.strategy,
        "target": o.target,
        "proposal": proposal,
        "retention": o.retention,
        "retention_low": o.retention_low,
        "retention_high": o.retention_high,
        "monthly_savings_nano": o.monthly_savings_nano,
        "monthly_savings_low_nano": o.monthly_savings_low_nano,
        "monthly_savings_high_nano": o.monthly_savings_high_nano,
        "latency_p50_change_ms": o.latency_p50_change_ms,
        "latency_p95_change_ms": o.latency_p95_change_ms,
    }


def recommendation_refresh(*, project: Project, evidence: EndpointEvidence) -> Recommendation:
    """The endpoint's recommendation for this evidence (made now, or the one already made)."""
    if evidence.project_id != project.pk:
        raise ApplicationError("Evidence belongs to another project", code="wrong_project")
    endpoint = evidence.endpoint
    bar = quality_bar(project=project, endpoint=endpoint)
    excluded = excluded_candidates(project=project, evidence=evidence)
    current = current_version(project_id=project.pk, endpoint=endpoint)
    in_force = f"{current.strategy}:{current.target}" if current is not None else ""
    encoder_ok = encoder_capability(project_id=project.pk).ok
    fingerprint = _fingerprint(evidence, bar, excluded, in_force, encoder_ok)
    latest = (
        Recommendation.objects.filter(project=project, endpoint=endpoint)
        .order_by("-created_at", "-pk")
        .first()
    )
    if latest is not None and latest.fingerprint == fingerprint:
        return latest
    est = evidence_estimate(evidence)
    decision = choose(est, bar=bar, excluded=excluded, encoder_ok=encoder_ok)
    active = current is not None and current.strategy != Strategy.NONE
    if decision.chosen is None:
        status = RecommendationStatus.OPEN if active else RecommendationStatus.INFO
        summary = ("Stop routing: " if active else "No change: ") + decision.reason
    elif _same_policy(decision.chosen, current, evidence):
        assert current is not None
        status = RecommendationStatus.INFO
        summary = f"The policy in force (v{current.version}) is still the best option. {decision.reason}"
    else:
        status = RecommendationStatus.OPEN
        summary = decision.reason
    with transaction.atomic():
        rec = Recommendation.objects.create(
            project=project,
            endpoint=endpoint,
            status=status,
            summary=summary,
            evidence_job_id=evidence.job_id,
            evidence_finished_at=evidence.finished_at,
            evaluator=evidence.evaluator,
            samples=est.samples,
            simulated=bool(evidence.simulated_parts),
            simulated_parts=list(evidence.simulated_parts),
            monthly_calls=evidence.monthly_calls,
            baseline_provider=evidence.baseline_provider,
            baseline_model=evidence.baseline_model,
            quality_bar=bar,
            fingerprint=fingerprint,
            **_fields(est, decision, excluded, bar),
        )
        Recommendation.objects.filter(
            project=project, endpoint=endpoint, status=RecommendationStatus.OPEN
        ).exclude(pk=rec.pk).update(status=RecommendationStatus.SUPERSEDED, superseded_by=rec)
        audit_record(
            organization=project.organization,
            project=project,
            endpoint=endpoint,
            action="recommendation.created",
            message=f"#{rec.pk} from replay job #{evidence.job_id}: {summary}",
            data={"recommendation": rec.pk, "job": evidence.job_id, "strategy": rec.strategy},
        )
    return rec


def recommendations_refresh_project(*, project: Project) -> list[Recommendation]:
    """Refresh every endpoint of the project that has replay evidence."""
    out = []
    for endpoint in evidence_source.endpoints_with_evidence(project_id=project.pk):
        evidence = evidence_source.endpoint_evidence(project_id=project.pk, endpoint=endpoint)
        if evidence is not None:
            out.append(recommendation_refresh(project=project, evidence=evidence))
    return out


def recommendation_refresh_endpoint(*, project: Project, endpoint: str) -> Recommendation | None:
    evidence = evidence_source.endpoint_evidence(project_id=project.pk, endpoint=endpoint)
    return recommendation_refresh(project=project, evidence=evidence) if evidence is not None else None


def quality_bar_set(*, project: Project, endpoint: str, bar: float, actor: Person) -> EndpointSettings:
    """Set an endpoint's quality bar (admins and owners); its recommendation is made again."""
    require_approver(actor=actor, project=project, doing="change a quality bar")
    if not 0.5 <= bar <= 1.0:
        raise ApplicationError(
            "The quality bar must be between 50 % and 100 %", code="invalid_bar", field="bar"
        )
    row, _ = EndpointSettings.objects.update_or_create(
        project=project, endpoint=endpoint, defaults={"quality_bar": bar, "updated_by": actor}
    )
    audit_record(
        organization=project.organization, project=project, endpoint=endpoint, actor=actor,
        action="endpoint.quality_bar", message=f"Quality bar set to {bar:.1%}", data={"bar": bar},
    )  # fmt: skip
    return row
