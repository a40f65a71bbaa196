"""A real candidate scored by a judge nobody has a key for: the judge runs on `sim`, and the advice
says it is simulated everywhere it appears, and is never counted as real potential savings."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.dashboard.filters import parse_range
from apps.dashboard.savings import savings_summary
from apps.policies.models import RecommendationStatus
from apps.policies.services.recommend import recommendations_refresh_project
from apps.replay.engine.runner import replay_job_run
from apps.replay.selectors import endpoint_evidence
from apps.replay.services.jobs import replay_job_create, replay_job_preview
from apps.replay.services.planning import NANO, CandidateSpec, ReplaySpec
from tests.replay.factories import call, connect, ingest, replay_catalogue
from tests.replay.fakes import FakeProvider
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db
HAIKU = CandidateSpec("anthropic", "claude-haiku-4-5")  # real: through a local fake Anthropic server


def text(response: Any) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_simulated_judge_makes_the_advice_simulated_everywhere(tenant: Tenant) -> None:
    replay_catalogue()
    now = datetime.now(UTC)
    answers = {
        f"How do I reset my password, case {i}?": f"Open settings, choose security, then reset (case {i})."
        for i in range(400)
    }
    ingest(
        tenant,
        [
            call(p, a, endpoint="help", ts=now - timedelta(minutes=5 * (i + 1)))
            for i, (p, a) in enumerate(answers.items())
        ],
    )
    spec = ReplaySpec(endpoint="help", candidates=(HAIKU,), sample_size=400, spend_cap_nano=NANO)
    web = tenant.web()
    with FakeProvider("anthropic", responder=lambda p, m, b: answers[p]) as claude:
        connect(tenant, "anthropic", "anthropic", claude.base_url)  # a key for the candidate only
        plan = replay_job_preview(project=tenant.project, actor=tenant.user, spec=spec)
        assert plan.evaluator == "judge" and plan.judge == CandidateSpec("openai", "gpt-4o", simulated=True)
        preview = text(
            web.post(
                reverse("replay:new", args=[tenant.project.pk]),
                {"endpoint": "help", "candidates": ["real:anthropic/claude-haiku-4-5"], "evaluator": "auto",
                 "similarity_metric": "lexical", "confidence": "0.95", "margin": "0.05", "sample_size": "400",
                 "spend_cap_usd": "1", "action": "preview"},
            )
        )  # fmt: skip
        assert "the judge will be simulated: no key for openai" in preview.lower()
        job = replay_job_run(job_id=replay_job_create(project=tenant.project, actor=None, spec=spec).pk)
    assert job is not None and job.status == "done" and not job.simulated  # the candidate was real
    assert len(claude.requests) == 400

    evidence = endpoint_evidence(project_id=tenant.project.pk, endpoint="help")
    assert evidence is not None and evidence.judge_simulated and not evidence.simulated
    (rec,) = recommendations_refresh_project(project=tenant.project)
    assert rec.simulated and rec.simulated_parts == ["judge"]
    assert rec.status == RecommendationStatus.OPEN and (rec.monthly_savings_nano or 0) > 0
    assert "Simulated (judge)" in rec.summary

    pk = tenant.project.pk
    pages = {
        "job": reverse("replay:job", args=[pk, job.pk]),
        "jobs": reverse("replay:jobs", args=[pk]),
        "inbox": reverse("policies:inbox", args=[pk]),
        "recommendation": reverse("policies:recommendation", args=[pk, rec.pk]),
        "routing endpoint": reverse("policies:endpoint", args=[pk, "help"]),
        "dashboard endpoint": reverse("dashboard:endpoint", args=[pk, "help"]),
        "overview": reverse("dashboard:overview", args=[pk]),
    }
    for name, url in pages.items():
        assert "simulated judge" in text(web.get(url)), name
    overview = text(web.get(pages["overview"]))
    potential = overview[overview.index('id="savings-potential"') :]
    assert "not counted" in potential

    # The overview's potential savings count real advice only.
    summary = savings_summary(project=tenant.project, rng=parse_range({"range": "7d"}, now=timezone.now()))
    assert summary.potential_nano == 0 and summary.simulated_potential_nano > 0
    assert [p.recommendation_id for p in summary.simulated_potential] == [rec.pk]
