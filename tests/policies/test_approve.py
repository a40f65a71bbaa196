"""Approving, editing, rejecting and rolling back: each decision a new immutable version, published
in one transaction, refused with a reason when it cannot be made."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings

from apps.core.errors import ApplicationError, PermissionDenied
from apps.policies.domain.signing import SigningKeyError
from apps.policies.models import (
    AuditEntry,
    ImmutableError,
    KillKind,
    PolicyVersion,
    PublishedConfig,
    RecommendationStatus,
)
from apps.policies.services.approve import (
    ApprovalEdits,
    policy_rollback,
    policy_stop,
    recommendation_approve,
    recommendation_reject,
    rollout_set,
)
from apps.policies.services.killswitch import kill_switch_add
from apps.policies.services.publish import config_publish
from apps.policies.services.recommend import recommendation_refresh
from apps.pricing.models import Price
from apps.pricing.selectors import price_book_invalidate
from tests.policies.factories import HAIKU, MINI, synthetic_evidence
from tests.tenancy import Tenant


def _rec(tenant: Tenant, job_id: int = 1, **kwargs: Any) -> Any:
    candidates = kwargs.pop("candidates", {MINI: {}, HAIKU: {"cost": 4_000}})
    evidence = synthetic_evidence(
        project_id=tenant.project.pk, job_id=job_id, candidates=candidates, **kwargs
    )
    return recommendation_refresh(project=tenant.project, evidence=evidence)


def _published(tenant: Tenant) -> dict[str, Any]:
    row = PublishedConfig.objects.filter(project=tenant.project).order_by("-config_version").first()
    return json.loads(bytes(row.body)) if row else {}


def _nothing_published(tenant: Tenant, before: int) -> None:
    assert PublishedConfig.objects.filter(project=tenant.project).count() == before
    assert not PolicyVersion.objects.filter(project=tenant.project).exists()


def test_approve_publishes_a_canary_version_with_who_when_why(
    tenant: Tenant, catalogue: dict[str, Any]
) -> None:
    rec = _rec(tenant)
    version = recommendation_approve(recommendation=rec, actor=tenant.user, note="looks right")
    rec.refresh_from_db()
    assert (rec.status, rec.decided_by, rec.decision_reason) == (
        RecommendationStatus.APPROVED,
        tenant.user,
        "looks right",
    )
    assert (version.version, version.strategy, version.rollout_percent, version.guarded) == (
        1,
        "override",
        10.0,
        True,
    )
    assert version.created_by == tenant.user and version.recommendation == rec
    assert f"Approved recommendation #{rec.pk} at 10%" in version.reason
    doc = _published(tenant)
    assert doc["config_version"] == 1
    (policy,) = doc["policies"]
    assert policy["policy_version"] == 1
    assert policy["baseline"] == {"provider": "openai", "model": "gpt-4o"}
    assert policy["targets"] == [{"provider": "openai", "model": "gpt-4o-mini", "weight": 10000}]
    assert policy["rollout"]["percent"] == 10.0 and len(policy["rollout"]["salt"]) == 12
    assert policy["guard"] == {"min_quality": 0.95, "max_error_rate": 0.02, "window": "1h"}
    entry = AuditEntry.objects.get(action="policy.approve")
    assert entry.actor == tenant.user and entry.endpoint == "support-reply" and "v1:" in entry.message


def test_a_member_is_refused_and_nothing_is_published(
    tenant: Tenant, catalogue: dict[str, Any], member: Any
) -> None:
    rec = _rec(tenant)
    with pytest.raises(
        PermissionDenied, match="Only admins and owners can approve routing policies; you are a member"
    ):
        recommendation_approve(recommendation=rec, actor=member)
    _nothing_published(tenant, 0)
    rec.refresh_from_db()
    assert rec.status == RecommendationStatus.OPEN


def test_a_stale_recommendation_is_refused(tenant: Tenant, catalogue: dict[str, Any]) -> None:
    old = _rec(tenant, job_id=1)
    new = _rec(tenant, job_id=2)
    with pytest.raises(ApplicationError, match=f"superseded by #{new.pk}; nothing was published") as caught:
        recommendation_approve(recommendation=old, actor=tenant.user)
    assert caught.value.code == "stale_recommendation"
    _nothing_published(tenant, 0)


def test_a_killed_model_is_refused_even_when_picked_by_hand(
    tenant: Tenant, catalogue: dict[str, Any]
) -> None:
    rec = _rec(tenant)
    kill_switch_add(
        organization=tenant.organization,
        actor=tenant.user,
        kind=KillKind.PROVIDER,
        value="anthropic",
        reason="DPA review",
    )
    before = PublishedConfig.objects.filter(project=tenant.project).count()
    with pytest.raises(
        ApplicationError, match="Cannot publish: provider anthropic is on the kill switch"
    ) as caught:
        recommendation_approve(
            recommendation=rec, actor=tenant.user, edits=ApprovalEdits(option=f"override:{HAIKU}")
        )
    assert caught.value.code == "killed_model"
    _nothing_published(tenant, before)


def test_an_unpriced_model_is_refused(tenant: Tenant, catalogue: dict[str, Any]) -> None:
    rec = _rec(tenant)
    Price.objects.filter(model=catalogue[MINI]).delete()
    price_book_invalidate()
    with pytest.raises(ApplicationError, match=f"Cannot publish: {MINI} has no price") as caught:
        recommendation_approve(recommendation=rec, actor=tenant.user)
    assert caught.value.code == "unpriced_model"
    _nothing_published(tenant, 0)


@pytest.mark.parametrize("percent", [150.0, -5.0, float("nan")])
def test_a_rollout_outside_0_100_is_refused(
    tenant: Tenant, catalogue: dict[str, Any], percent: float
) -> None:
    rec = _rec(tenant)
    with pytest.raises(ApplicationError, match="Rollout percentage must be between 0 and 100") as caught:
        recommendation_approve(
            recommendation=rec, actor=tenant.user, edits=ApprovalEdits(rollout_percent=percent)
        )
    assert caught.value.code == "invalid_rollout"
    _nothing_published(tenant, 0)


def test_publishing_is_one_transaction(tenant: Tenant, catalogue: dict[str, Any]) -> None:
    """Signing fails after the version row was written: the version goes too, the rec stays open."""
    rec = _rec(tenant)
    with override_settings(CONFIG_SIGNING_KEY_ID="not-configured"), pytest.raises(SigningKeyError):
        recommendation_approve(recommendation=rec, actor=tenant.user)
    _nothing_published(tenant, 0)
    rec.refresh_from_db()
    assert rec.status == RecommendationStatus.OPEN
    assert not AuditEntry.objects.filter(action="policy.approve").exists()


def test_edit_before_approving(tenant: Tenant, catalogue: dict[str, Any], admin: Any) -> None:
    rec = _rec(tenant)
    edits = ApprovalEdits(
        option=f"override:{HAIKU}", rollout_percent=25, sticky_on="user_id", max_error_rate=0.05
    )
    version = recommendation_approve(recommendation=rec, actor=admin, edits=edits)
    assert version.created_by == admin and version.target == HAIKU
    assert version.spec["rollout"]["percent"] == 25.0 and version.spec["rollout"]["sticky_on"] == "user_id"
    assert version.spec["guard"]["max_error_rate"] == 0.05
    assert f"Edited before approval: option override:{MINI} → override:{HAIKU}" in version.reason
    with pytest.raises(ApplicationError, match="is not one of this recommendation's options"):
        recommendation_approve(
            recommendation=_rec(tenant, job_id=2), actor=admin, edits=ApprovalEdits(option="override:x/y")
        )


def test_reject_needs_a_reason(tenant: Tenant, catalogue: dict[str, Any]) -> None:
    rec = _rec(tenant)
    with pytest.raises(ApplicationError, match="Say why you reject it"):
        recommendation_reject(recommendation=rec, actor=tenant.user, reason="  ")
    recommendation_reject(recommendation=rec, actor=tenant.user, reason="quality matters more here")
    rec.refresh_from_db()
    assert (rec.status, rec.decision_reason) == (RecommendationStatus.REJECTED, "quality matters more here")
    assert AuditEntry.objects.get(action="recommendation.rejected").actor == tenant.user
    with pytest.raises(ApplicationError, match="rejected already"):
        recommendation_reject(recommendation=rec, actor=tenant.user, reason="twice")


def test_roll_back_to_any_earlier_version(tenant: Tenant, catalogue: dict[str, Any]) -> None:
    project = tenant.project
    v1 = recommendation_approve(recommendation=_rec(tenant), actor=tenant.user)
    v2 = rollout_set(project=project, endpoint="support-reply", percent=50, actor=tenant.user)
    v3 = policy_stop(project=project, endpoint="support-reply", actor=tenant.user)
    assert _published(tenant)["policies"] == []
    v4 = policy_rollback(project=project, endpoint="support-reply", to_version=1, actor=tenant.user)
    assert [v.version for v in (v1, v2, v3, v4)] == [1, 2, 3, 4]
    assert v4.spec == v1.spec and v4.action == "rollback" and v4.reason.startswith("Rolled back to v1.")
    assert v4.previous == v3 and not v4.guarded
    (policy,) = _published(tenant)["policies"]
    assert policy["policy_version"] == 4 and policy["rollout"] == v1.spec["rollout"]
    assert _published(tenant)["config_version"] == 4
    with pytest.raises(ApplicationError, match="v4 is already in force"):
        policy_rollback(project=project, endpoint="support-reply", to_version=4, actor=tenant.user)
    with pytest.raises(ApplicationError, match="has no version 9"):
        policy_rollback(project=project, endpoint="support-reply", to_version=9, actor=tenant.user)


def test_versions_are_immutable(tenant: Tenant, catalogue: dict[str, Any]) -> None:
    version = recommendation_approve(recommendation=_rec(tenant), actor=tenant.user)
    version.reason = "rewritten history"
    with pytest.raises(ImmutableError):
        version.save()


def test_config_versions_only_go_up_and_unchanged_content_is_not_republished(tenant: Tenant) -> None:
    first = config_publish(project_id=tenant.project.pk, reason="test")
    same = config_publish(project_id=tenant.project.pk, reason="test")
    forced = config_publish(project_id=tenant.project.pk, reason="test", force=True)
    assert (first.config_version, same.pk, forced.config_version) == (1, first.pk, 2)
    assert json.loads(bytes(forced.body))["config_version"] == 2


def test_newer_replay_evidence_makes_a_recommendation_stale(
    tenant: Tenant, catalogue: dict[str, Any]
) -> None:
    """A replay job finished after the recommendation was made: refuse until it is made again."""
    from django.utils import timezone

    from apps.replay.models import JobStatus, ReplayJob

    rec = _rec(tenant, job_id=10**9)
    job = ReplayJob.objects.create(
        organization=tenant.organization, project=tenant.project, endpoint="support-reply", status=JobStatus.DONE,
        baseline_provider="openai", baseline_model="gpt-4o", evaluator="exact", spend_cap_nano=10**9,
        finished_at=timezone.now(),
    )  # fmt: skip
    with pytest.raises(
        ApplicationError, match=f"superseded by job #{job.pk}. Refresh the recommendations"
    ) as caught:
        recommendation_approve(recommendation=rec, actor=tenant.user)
    assert caught.value.code == "stale_recommendation" and caught.value.status == 409
    _nothing_published(tenant, 0)
