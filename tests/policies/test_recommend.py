"""The recommender: options estimated per sample from replay evidence, the frontier, the choice."""

from __future__ import annotations

import pytest

from apps.accounts.models import Role
from apps.policies import estimate, learned
from apps.policies.models import KillKind, Recommendation, RecommendationStatus
from apps.policies.services.approve import recommendation_approve
from apps.policies.services.killswitch import kill_switch_add
from apps.policies.services.recommend import quality_bar_set, recommendation_refresh
from tests.policies.factories import HAIKU, MINI, synthetic_evidence
from tests.tenancy import Tenant


def test_override_when_the_cheap_model_is_as_good() -> None:
    found = estimate.estimate(synthetic_evidence(project_id=1), bar=0.95)
    assert found.chosen is not None
    assert (found.chosen.strategy, found.chosen.target) == ("override", MINI)
    assert found.chosen.retention == found.chosen.retention_low == 1.0
    # 9 000 nano-USD saved on each of 300 000 calls a month = $2.70, with no sampling spread
    assert found.chosen.monthly_savings_nano == 9_000 * 300_000
    assert found.chosen.monthly_savings_low_nano == found.chosen.monthly_savings_high_nano == 9_000 * 300_000
    assert found.chosen.latency_p50_change_ms == 400 - 900
    assert "saves $2.70/month" in found.reason


def test_cascade_escalates_where_checks_fire_and_prices_both_calls() -> None:
    """15 % of answers are refusals: override keeps 85 %, the cascade escalates exactly those."""
    refused = {i for i in range(80) if i % 20 < 3}
    spec = {
        MINI: {
            "quality": lambda i: 0.0 if i in refused else 1.0,
            # plain-text answers: replay reports invalid_json for each; that must not escalate them
            "checks": lambda i: ("refusal", "invalid_json") if i in refused else ("invalid_json",),
        }
    }
    found = estimate.estimate(synthetic_evidence(project_id=1, candidates=spec), bar=0.95)
    by_key = {o.key: o for o in found.options}
    override, cascade = by_key[f"override:{MINI}"], by_key[f"cascade:{MINI}"]
    assert override.retention == pytest.approx(1 - len(refused) / 80) and not override.clears_bar
    assert cascade.retention == 1.0 and cascade.clears_bar
    assert cascade.checks == ("empty", "refusal")
    # cheap call on every sample + the baseline again on the 12 escalated ones
    assert cascade.cost_per_call_nano == pytest.approx(1_000 + 10_000 * len(refused) / 80)
    assert cascade.candidate_share == pytest.approx(1 - len(refused) / 80)
    assert cascade.latency_p95_change_ms == pytest.approx(400 + 900 - 900)  # escalations take both calls
    assert found.chosen is not None and found.chosen.key == cascade.key
    assert cascade.on_frontier


def test_provider_errors_fall_back_to_the_baseline_in_the_estimate() -> None:
    spec = {MINI: {"ok": lambda i: i % 10 != 0}}  # every tenth call fails and costs nothing
    found = estimate.estimate(synthetic_evidence(project_id=1, candidates=spec), bar=0.95)
    override = next(o for o in found.options if o.strategy == "override")
    assert override.retention == 1.0  # the app still got the baseline's answer
    assert override.cost_per_call_nano == pytest.approx(0.9 * 1_000 + 0.1 * 10_000)
    assert override.candidate_share == pytest.approx(0.9)


def test_learned_router_routes_the_prompts_the_candidate_handles() -> None:
    """The candidate is right on "refund" prompts and wrong on "summarise" ones; no check sees it."""
    spec = {MINI: {"quality": lambda i: 1.0 if i % 2 else 0.0}}
    found = estimate.estimate(synthetic_evidence(project_id=1, n=120, candidates=spec), bar=0.95)
    assert found.chosen is not None and found.chosen.strategy == "learned"
    chosen = found.chosen
    assert chosen.retention_low >= 0.95
    assert 0.4 <= chosen.candidate_share <= 0.6  # the right half, and a few more while the bar allows
    assert chosen.monthly_savings_nano > 0
    model = chosen.learned
    assert (
        model is not None
        and model["type"] == "hashed_linear"
        and len(model["weights"]) <= learned.MAX_WEIGHTS
    )
    scorer = learned.Scorer(model)
    assert scorer.routes_to_target("refund order broken number 51")
    assert scorer.score("refund order broken number 51") > scorer.score(
        "summarise the meeting notes please number 51"
    )


def test_no_change_when_nothing_clears_the_bar_says_why() -> None:
    spec = {MINI: {"quality": lambda i: 0.6}, HAIKU: {"quality": lambda i: 0.8, "cost": 4_000}}
    found = estimate.estimate(synthetic_evidence(project_id=1, n=40, candidates=spec), bar=0.95)
    assert found.chosen is None
    assert "No option clears the 95% quality bar" in found.reason
    assert HAIKU in found.reason  # the closest option is named with its interval
    assert all(not o.clears_bar for o in found.options)


def test_too_few_samples() -> None:
    found = estimate.estimate(synthetic_evidence(project_id=1, n=5), bar=0.95)
    assert found.chosen is None and "at least 20" in found.reason


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
    assert (first.strategy, first.target, first.evidence_job_id, first.samples) == ("override", MINI, 1, 80)
    assert first.monthly_savings_nano == 9_000 * 300_000 and first.retention_low == 1.0
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
    assert strict.strategy == "none" and strict.status == RecommendationStatus.INFO
    assert strict.summary.startswith("No change: No option clears the 95% quality bar")
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


def test_json_answers_add_the_invalid_json_check() -> None:
    broken = {i for i in range(80) if i % 10 == 0}
    spec = {
        MINI: {
            "quality": lambda i: 0.0 if i in broken else 1.0,
            "checks": lambda i: ("invalid_json",) if i in broken else (),
        }
    }
    found = estimate.estimate(synthetic_evidence(project_id=1, candidates=spec, evaluator="json"), bar=0.95)
    assert found.chosen is not None
    assert (found.chosen.strategy, found.chosen.checks) == ("cascade", ("empty", "refusal", "invalid_json"))
    assert found.chosen.retention == 1.0 and found.chosen.candidate_share == pytest.approx(0.9)


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
