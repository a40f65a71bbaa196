"""The recommender service: evidence in, one Recommendation per endpoint out (the estimate and the
choice themselves are tested in tests/routing/test_estimate.py)."""

from __future__ import annotations

import pytest

from apps.accounts.models import Role
from apps.policies.models import KillKind, Recommendation, RecommendationStatus
from apps.policies.services.approve import recommendation_approve
from apps.policies.services.killswitch import kill_switch_add
from apps.policies.services.recommend import quality_bar_set, recommendation_refresh
from tests.policies.factories import HAIKU, MINI, synthetic_evidence
from tests.tenancy import Tenant


def test_recommendation_refresh_is_idempotent_and_superseded_by_new_evidence(
    tenant: Tenant, catalogue: dict[str, object]
) -> None:
    project = tenant.project
    first = recommendation_refresh(
        project=project, evidence=synthetic_evidence(project_id=project.pk, job_id=1)
    )
    again = recommendation_refresh(
        project=project, evidence=synthetic_evidence(project_id=project.pk, job_id=1)
    )
    assert again.pk == first.pk and first.status == RecommendationStatus.OPEN
    assert (first.strategy, first.target, first.evidence_job_id, first.samples) == ("override", MINI, 1, 400)
    assert first.monthly_savings_nano == 9_000 * 300_000 and 0.95 < first.retention_low < 1.0
    assert first.options and all("clears_bar" in o for o in first.options)
    newer = recommendation_refresh(
        project=project, evidence=synthetic_evidence(project_id=project.pk, job_id=2)
    )
    first.refresh_from_db()
    assert newer.pk != first.pk
    assert (first.status, first.superseded_by_id) == (RecommendationStatus.SUPERSEDED, newer.pk)


def test_killed_and_unpriced_candidates_are_not_proposed(
    tenant: Tenant, catalogue: dict[str, object]
) -> None:
    project = tenant.project
    spec = {MINI: {}, HAIKU: {"cost": 2_000}, "together/unpriced-7b": {"cost": 100}}
    evidence = synthetic_evidence(project_id=project.pk, candidates=spec)
    rec = recommendation_refresh(project=project, evidence=evidence)
    assert rec.target == MINI
    assert rec.excluded == {"together/unpriced-7b": "no price in the price book"}
    kill_switch_add(
        organization=tenant.organization, actor=tenant.user, kind=KillKind.MODEL, value=MINI, reason="outage"
    )
    rec.refresh_from_db()
    assert rec.status == RecommendationStatus.SUPERSEDED  # it proposed the killed model
    after = recommendation_refresh(project=project, evidence=evidence)
    assert after.target == HAIKU
    assert after.excluded[MINI] == f"{MINI} is on the kill switch"


def test_a_new_quality_bar_makes_a_new_recommendation(tenant: Tenant, catalogue: dict[str, object]) -> None:
    project = tenant.project
    spec = {
        MINI: {"quality": lambda i: 0.0 if i % 10 in (0, 5) else 1.0}
    }  # keeps 80 %, on both kinds of prompt
    evidence = synthetic_evidence(project_id=project.pk, candidates=spec)
    strict = recommendation_refresh(project=project, evidence=evidence)
    # at 95 % the whole of it cannot go to the cheap model; at most a small share (which keeps
    # 1 − share × 20 % of the quality) may
    assert strict.strategy != "override"
    assert strict.strategy == "none" or (
        strict.strategy == "learned" and strict.proposal["candidate_share"] <= 0.25
    )
    quality_bar_set(project=project, endpoint="support-reply", bar=0.65, actor=tenant.user)
    relaxed = recommendation_refresh(project=project, evidence=evidence)
    assert (relaxed.strategy, relaxed.quality_bar, relaxed.status) == (
        "override",
        0.65,
        RecommendationStatus.OPEN,
    )


def test_new_evidence_against_a_live_policy_proposes_to_stop(
    tenant: Tenant, catalogue: dict[str, object]
) -> None:
    project = tenant.project
    good = recommendation_refresh(
        project=project, evidence=synthetic_evidence(project_id=project.pk, job_id=1)
    )
    recommendation_approve(recommendation=good, actor=tenant.user)
    worse = synthetic_evidence(project_id=project.pk, job_id=2, candidates={MINI: {"quality": lambda i: 0.5}})
    rec = recommendation_refresh(project=project, evidence=worse)
    assert (rec.strategy, rec.status) == ("none", RecommendationStatus.OPEN)
    assert rec.summary.startswith("Stop routing:")
    still = recommendation_refresh(
        project=project, evidence=synthetic_evidence(project_id=project.pk, job_id=1)
    )
    assert still.status == RecommendationStatus.INFO and "still the best option" in still.summary


def test_member_cannot_change_the_bar(tenant: Tenant, member: object) -> None:
    from apps.core.errors import PermissionDenied

    with pytest.raises(
        PermissionDenied, match="Only admins and owners can change a quality bar; you are a member"
    ):
        quality_bar_set(project=tenant.project, endpoint="x", bar=0.9, actor=member)
    assert Role.MEMBER == "member"
    assert not Recommendation.objects.exists()


def test_frontier_for_the_dashboards(tenant: Tenant, catalogue: dict[str, object]) -> None:
    from apps.policies.selectors import frontier

    spec = {MINI: {"quality": lambda i: 0.9}, HAIKU: {"cost": 4_000}}
    rec = recommendation_refresh(
        project=tenant.project, evidence=synthetic_evidence(project_id=tenant.project.pk, candidates=spec)
    )
    found = frontier(project_id=tenant.project.pk, endpoint="support-reply")
    assert found is not None and found.recommendation_id == rec.pk and found.quality_bar == 0.95
    by_key = {p.key: p for p in found.points}
    assert by_key[f"override:{HAIKU}"].recommended and by_key[f"override:{HAIKU}"].clears_bar
    assert not by_key[f"override:{MINI}"].clears_bar and by_key[f"override:{MINI}"].on_frontier  # cheapest
    assert (by_key["baseline"].cost_per_call_nano, by_key["baseline"].retention) == (10_000, 1.0)
    assert frontier(project_id=tenant.project.pk, endpoint="nothing-here") is None
