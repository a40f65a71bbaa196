"""From real replay evidence to a recommendation: captured calls are replayed on simulated
candidates by the replay engine, and the recommender reads the result through its selectors."""

from __future__ import annotations

import pytest

from apps.core import background
from apps.policies.models import Recommendation, RecommendationStatus
from apps.policies.services.recommend import recommendations_refresh_project
from apps.replay.models import JobStatus
from apps.replay.services.jobs import replay_job_create
from tests.policies.factories import help_traffic, simulated_replay
from tests.tenancy import Tenant


def test_recommendations_from_a_simulated_replay(tenant: Tenant) -> None:
    job = simulated_replay(tenant)
    (rec,) = recommendations_refresh_project(project=tenant.project)
    assert (rec.endpoint, rec.evidence_job_id, rec.simulated) == ("help", job.pk, True)
    assert rec.baseline_model == "gpt-4o" and rec.samples == 30 and rec.evaluator == job.evaluator
    assert rec.options and all(o["provider"] == "openai" for o in rec.options)
    assert rec.summary and rec.status in (RecommendationStatus.OPEN, RecommendationStatus.INFO)


@pytest.mark.django_db(transaction=True)
def test_a_finished_replay_hands_its_endpoint_to_the_recommender_at_once(tenant: Tenant) -> None:
    """No wait for the `policies.recommend_all` beat: the replay's finish queues its endpoint's advice."""
    job = replay_job_create(project=tenant.project, actor=None, spec=help_traffic(tenant))
    assert background.drain(120)  # the replay, then the recommendation it queued
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    rec = Recommendation.objects.get(project=tenant.project, endpoint="help")
    assert rec.evidence_job_id == job.pk and rec.samples == 30
