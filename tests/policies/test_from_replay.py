"""From real replay evidence to a recommendation: captured calls are replayed on simulated
candidates by the replay engine, and the recommender reads the result through its selectors."""

from __future__ import annotations

from apps.policies.models import RecommendationStatus
from apps.policies.services.recommend import recommendations_refresh_project
from tests.policies.factories import simulated_replay
from tests.tenancy import Tenant


def test_recommendations_from_a_simulated_replay(tenant: Tenant) -> None:
    job = simulated_replay(tenant)
    (rec,) = recommendations_refresh_project(project=tenant.project)
    assert (rec.endpoint, rec.evidence_job_id, rec.simulated) == ("help", job.pk, True)
    assert rec.baseline_model == "gpt-4o" and rec.samples == 30 and rec.evaluator == job.evaluator
    assert rec.options and all(o["provider"] == "openai" for o in rec.options)
    assert rec.summary and rec.status in (RecommendationStatus.OPEN, RecommendationStatus.INFO)
