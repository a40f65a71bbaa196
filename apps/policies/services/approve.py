"""Decisions about routing: approve (optionally edited), reject, roll back, stop, change the rollout.

Only admins and owners decide. Each decision is a new immutable PolicyVersion, audited and
published in one transaction: a refusal (stale evidence, a killed or unpriced model, a rollout
outside 0–100 %) publishes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import ROLE_RANK, Person, Project, Role
from apps.accounts.selectors import role_of
from apps.core.errors import ApplicationError, NotFound, PermissionDenied
from apps.policies.domain import evidence_source
from apps.policies.models import PolicyAction, PolicyVersion, Recommendation, RecommendationStatus, Strategy
from apps.policies.selectors import current_version, policy_settings, version_get
from apps.policies.services.audit import audit_record
from apps.policies.services.versions import (
    new_salt,
    spec_build,
    spec_validate,
    spec_with_rollout,
    version_publish,
)


def require_approver(*, actor: Person, project: Project, doing: str = "approve routing policies") -> Role:
    role = role_of(user=actor, organization=project.organization)
    if role is None:
        raise NotFound("Project not found")
    if ROLE_RANK[role] < ROLE_RANK[Role.ADMIN]:
        raise PermissionDenied(f"Only admins and owners can {doing}; you are a {role.label.lower()}.")
    return role


@dataclass(frozen=True)
class ApprovalEdits:
    """Changes an approver makes to a recommendation before approving it (None = as proposed)."""

    option: str | None = None  # another evaluated option's key, e.g. "cascade:openai/gpt-4o-mini"
    rollout_percent: float | None = None
    sticky_on: str | None = None
    checks: tuple[str, ...] | None = None
    min_quality: float | None = None
    max_error_rate: float | None = None


def _stale(rec: Recommendation) -> str | None:
    if rec.status != RecommendationStatus.OPEN:
        newer = f" by #{rec.superseded_by_id}" if rec.superseded_by_id else ""
        return f"This recommendation is {rec.get_status_display().lower()}{newer}; nothing was published."
    newest = evidence_source.endpoint_evidence(project_id=rec.project_id, endpoint=rec.endpoint)
    if newest is not None and newest.job_id != rec.evidence_job_id:
        return (
            f"This recommendation is stale: its evidence (replay job #{rec.evidence_job_id}) was superseded by "
            f"job #{newest.job_id}. Refresh the recommendations and decide on the new one."
        )
    return None


def _chosen_option(rec: Recommendation, edits: ApprovalEdits) -> dict[str, Any]:
    if edits.option is None or edits.option == rec.proposal.get("key"):
        return dict(rec.proposal)
    if edits.option.startswith("learned:") and edits.option != rec.proposal.get("key"):
        raise ApplicationError(
            "Only the recommended learned router can be approved (others are not kept)", code="invalid_edit"
        )
    for option in rec.options:
        if option.get("key") == edits.option:
            return dict(option)
    raise ApplicationError(
        f"{edits.option!r} is not one of this recommendation's options", code="invalid_edit"
    )


def _describe_edits(rec: Recommendation, option: dict[str, Any], edits: ApprovalEdits, percent: float) -> str:
    changes = []
    if option.get("key") != rec.proposal.get("key"):
        changes.append(f"option {rec.proposal.get('key')} → {option.get('key')}")
    for name in ("rollout_percent", "sticky_on", "checks", "min_quality", "max_error_rate"):
        value = getattr(edits, name)
        if value is not None:
            changes.append(f"{name} = {list(value) if isinstance(value, tuple) else value}")
    return f" Edited before approval: {', '.join(changes)}." if changes else ""


def recommendation_approve(
    *, recommendation: Recommendation, actor: Person, edits: ApprovalEdits | None = None, note: str = ""
) -> PolicyVersion:
    """Publish the recommended policy (at the canary percentage unless edited) as a new version."""
    project = recommendation.project
    require_approver(actor=actor, project=project)
    edits = edits or ApprovalEdits()
    with transaction.atomic():
        rec = (
            Recommendation.objects.select_for_update()
            .select_related("project__organization")
            .get(pk=recommendation.pk)
        )
        stale = _stale(rec)
        if stale:
            raise ApplicationError(stale, code="stale_recommendation", status=409)
        prefs = policy_settings(project=project)
        percent = float(edits.rollout_percent if edits.rollout_percent is not None else prefs.canary_percent)
        if rec.strategy == Strategy.NONE:
            version = version_publish(
                project=project, endpoint=rec.endpoint, strategy=Strategy.NONE, spec={}, action=PolicyAction.STOP,
                reason=f"Approved recommendation #{rec.pk}: {rec.summary} {note}".strip(), actor=actor,
                recommendation=rec,
            )  # fmt: skip
        else:
            option = _chosen_option(rec, edits)
            checks = edits.checks if edits.checks is not None else tuple(option.get("checks") or ())
            spec = spec_build(
                endpoint=rec.endpoint,
                baseline={"provider": rec.baseline_provider, "model": rec.baseline_model},
                strategy=option["strategy"],
                target=f"{option['provider']}/{option['model']}",
                rollout_percent=percent,
                salt=new_salt(),
                sticky_on=edits.sticky_on or "event",
                checks=checks,
                learned=rec.proposal.get("learned") if option["strategy"] == Strategy.LEARNED else None,
                min_quality=edits.min_quality if edits.min_quality is not None else rec.quality_bar,
                max_error_rate=edits.max_error_rate
                if edits.max_error_rate is not None
                else prefs.max_error_rate,
                window=prefs.guard_window,
            )
            reason = f"Approved recommendation #{rec.pk} at {percent:g}%: {rec.summary}"
            reason += _describe_edits(rec, option, edits, percent) + (f" Note: {note}" if note else "")
            version = version_publish(
                project=project, endpoint=rec.endpoint, strategy=option["strategy"], spec=spec,
                action=PolicyAction.APPROVE, reason=reason, actor=actor, guarded=True, recommendation=rec,
            )  # fmt: skip
        rec.status = RecommendationStatus.APPROVED
        rec.decided_by = actor
        rec.decided_at = timezone.now()
        rec.decision_reason = note or "approved"
        rec.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"])
    return version


def recommendation_reject(*, recommendation: Recommendation, actor: Person, reason: str) -> Recommendation:
    project = recommendation.project
    require_approver(actor=actor, project=project, doing="reject recommendations")
    reason = reason.strip()
    if not reason:
        raise ApplicationError("Say why you reject it: the reason is kept in the audit log", field="reason")
    with transaction.atomic():
        rec = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
        if rec.status != RecommendationStatus.OPEN:
            raise ApplicationError(
                f"This recommendation is {rec.get_status_display().lower()} already", code="stale_recommendation",
                status=409,
            )  # fmt: skip
        rec.status = RecommendationStatus.REJECTED
        rec.decided_by = actor
        rec.decided_at = timezone.now()
        rec.decision_reason = reason[:2000]
        rec.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"])
        audit_record(
            organization=project.organization, project=project, endpoint=rec.endpoint, actor=actor,
            action="recommendation.rejected", message=f"#{rec.pk} rejected: {reason}", data={"recommendation": rec.pk},
        )  # fmt: skip
    return rec


def policy_rollback(
    *, project: Project, endpoint: str, to_version: int, actor: Person, note: str = ""
) -> PolicyVersion:
    """Publish an earlier version's policy again, as a new version."""
    require_approver(actor=actor, project=project, doing="roll back routing policies")
    with transaction.atomic():
        target = version_get(project=project, endpoint=endpoint, version=to_version)
        current = current_version(project_id=project.pk, endpoint=endpoint)
        if current is not None and current.pk == target.pk:
            raise ApplicationError(f"v{to_version} is already in force", code="invalid_rollback")
        reason = f"Rolled back to v{to_version}." + (f" {note}" if note else "")
        return version_publish(
            project=project, endpoint=endpoint, strategy=target.strategy, spec=target.spec,
            action=PolicyAction.ROLLBACK, reason=reason, actor=actor,
        )  # fmt: skip


def policy_stop(*, project: Project, endpoint: str, actor: Person, note: str = "") -> PolicyVersion:
    """Stop routing the endpoint: every call goes to the app's own model."""
    require_approver(actor=actor, project=project, doing="stop routing")
    current = current_version(project_id=project.pk, endpoint=endpoint)
    if current is None or current.strategy == Strategy.NONE:
        raise ApplicationError(f"{endpoint} is not routed", code="not_routed")
    return version_publish(
        project=project, endpoint=endpoint, strategy=Strategy.NONE, spec={}, action=PolicyAction.STOP,
        reason="Routing stopped." + (f" {note}" if note else ""), actor=actor,
    )  # fmt: skip


def rollout_set(*, project: Project, endpoint: str, percent: float, actor: Person) -> PolicyVersion:
    """Change the rollout percentage of the policy in force (the guard stops promoting it)."""
    require_approver(actor=actor, project=project, doing="change a rollout")
    current = current_version(project_id=project.pk, endpoint=endpoint)
    if current is None or current.strategy == Strategy.NONE:
        raise ApplicationError(f"{endpoint} is not routed", code="not_routed")
    spec = spec_with_rollout(current.spec, percent)
    spec_validate(project=project, spec=spec)
    return version_publish(
        project=project, endpoint=endpoint, strategy=current.strategy, spec=spec, action=PolicyAction.ROLLOUT,
        reason=f"Rollout set to {percent:g}% by hand (was {current.rollout_percent:g}%).", actor=actor,
    )  # fmt: skip
