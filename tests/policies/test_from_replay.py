"""From real replay evidence to a recommendation: captured calls are replayed on simulated
candidates by the replay engine, and the recommender reads the result through its selectors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

from django.conf import settings
from django.core.management import call_command

from apps.policies.models import Recommendation, RecommendationStatus
from apps.policies.services.recommend import recommendations_refresh_project
from apps.replay.services.jobs import replay_job_create
from apps.replay.services.planning import CandidateSpec, ReplaySpec
from apps.replay.services.runner import replay_job_run
from tests.replay.factories import call, ingest, replay_catalogue
from tests.tenancy import Tenant


def test_recommendations_from_a_simulated_replay_and_the_demo_command(tenant: Tenant) -> None:
    replay_catalogue()
    now = datetime.now(UTC)
    calls = [
        call(f"How do I reset my password, case {i}?", f"Open settings, choose security, then reset (case {i}).",
             endpoint="help", ts=now - timedelta(hours=i + 1))
        for i in range(30)
    ]  # fmt: skip
    ingest(tenant, calls)
    spec = ReplaySpec(
        endpoint="help",
        candidates=(CandidateSpec("openai", "gpt-4o-mini", simulated=True),),
        sample_size=30,
        spend_cap_nano=0,
    )
    job = replay_job_run(job_id=replay_job_create(project=tenant.project, actor=None, spec=spec).pk)
    assert job is not None and job.status == "done"

    (rec,) = recommendations_refresh_project(project=tenant.project)
    assert (rec.endpoint, rec.evidence_job_id, rec.simulated) == ("help", job.pk, True)
    assert rec.baseline_model == "gpt-4o" and rec.samples == 30 and rec.evaluator == job.evaluator
    assert rec.options and all(o["provider"] == "openai" for o in rec.options)
    assert rec.summary and rec.status in (RecommendationStatus.OPEN, RecommendationStatus.INFO)

    out = StringIO()
    call_command("demo_recommend", project=tenant.project.slug, stdout=out)
    call_command("demo_recommend", project=tenant.project.slug, stdout=out)
    assert Recommendation.objects.filter(project=tenant.project).count() == 1  # idempotent
    text = out.getvalue()
    assert "Recommendations ready: 1 endpoints." in text and "help" in text
    assert (settings.VAR_DIR / "demo-config-public-keys.txt").read_text().strip() in text


def test_demo_command_without_evidence_says_what_to_run(tenant: Tenant) -> None:
    out = StringIO()
    call_command("demo_recommend", project=tenant.project.slug, stdout=out)
    assert "No replay evidence yet: run `manage.py demo_replay`" in out.getvalue()
