"""The evidence contract (apps/replay/evidence.py) as the recommender reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.replay.engine.runner import replay_job_run
from apps.replay.models import JobStatus, ReplayJob
from apps.replay.selectors import endpoint_evidence, endpoints_with_evidence
from apps.replay.services.jobs import replay_job_create
from apps.replay.services.planning import NANO, CandidateSpec, ReplaySpec
from apps.routing.evidence import EndpointEvidence
from tests.replay.factories import call, connect, ingest
from tests.replay.fakes import FakeProvider
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db


def test_endpoint_evidence_is_the_newest_finished_replay(tenant: Tenant, catalogue: Any) -> None:
    now = datetime.now(UTC)
    answers = {f"Label ticket {i}": ("refund", "other")[i % 2] for i in range(8)}
    ingest(
        tenant,
        [
            call(p, a, endpoint="triage", ts=now - timedelta(hours=i + 1))
            for i, (p, a) in enumerate(answers.items())
        ],
    )
    assert endpoint_evidence(project_id=tenant.project.pk, endpoint="triage") is None
    with FakeProvider("openai", responder=lambda p, m, b: "refund") as fake:
        connect(tenant, "openai", "openai", fake.base_url)
        spec = ReplaySpec(
            endpoint="triage",
            candidates=(
                CandidateSpec("openai", "gpt-4o-mini"),
                CandidateSpec("google", "gemini-2.5-flash", simulated=True),
            ),
            sample_size=8,
            spend_cap_nano=NANO,
        )
        job = replay_job_run(job_id=replay_job_create(project=tenant.project, actor=None, spec=spec).pk)
    assert job is not None and job.status == JobStatus.DONE
    evidence = endpoint_evidence(project_id=tenant.project.pk, endpoint="triage")
    assert isinstance(evidence, EndpointEvidence)
    assert (evidence.job_id, evidence.endpoint, evidence.evaluator, evidence.quality_reference) == (
        job.pk,
        "triage",
        "exact",
        1.0,
    )
    assert (evidence.baseline_provider, evidence.baseline_model, evidence.monthly_calls) == (
        "openai",
        "gpt-4o",
        8,
    )
    # One candidate ran for real and one on `sim`: anything simulated makes the evidence simulated.
    assert evidence.simulated is True and evidence.simulated_parts == ("candidates",)
    mini = next(c for c in evidence.candidates if c.key == "openai/gpt-4o-mini")
    assert mini.samples == 8 and mini.quality_retention == 0.5 and mini.error_rate == 0.0
    assert mini.retention_ci.low == mini.retention_ci.high == 0.5  # every call was sampled
    assert (
        mini.monthly_savings_nano > 0
        and mini.monthly_savings_ci.low <= mini.monthly_savings_nano <= mini.monthly_savings_ci.high
    )
    assert mini.baseline_cost_per_call_nano > mini.cost_per_call_nano
    assert len(evidence.samples) == 8
    sample = evidence.samples[0]
    assert set(sample.candidates) == {"openai/gpt-4o-mini", "google/gemini-2.5-flash"}
    got = sample.candidates["openai/gpt-4o-mini"]
    assert (
        got.output == "refund"
        and got.ok
        and got.quality in (0.0, 1.0)
        and got.cost_nano
        and got.cost_nano > 0
    )
    # A label is not meant to be JSON, so its answers are never tagged invalid_json.
    assert got.failed_checks == () and sample.prompt_text.startswith("Label ticket")
    assert sample.baseline_cost_nano > 0 and sample.baseline_latency_ms == 900
    assert {s.sample_id for s in evidence.samples} == {str(i.event_id) for i in job.items.all()}
    # A newer job that failed does not replace the evidence; nor does one still running.
    ReplayJob.objects.create(
        organization=tenant.organization, project=tenant.project, endpoint="triage", status=JobStatus.FAILED,
        baseline_provider="openai", baseline_model="gpt-4o", evaluator="exact", spend_cap_nano=1,
        finished_at=datetime.now(UTC) + timedelta(minutes=1),
    )  # fmt: skip
    assert endpoint_evidence(project_id=tenant.project.pk, endpoint="triage").job_id == job.pk  # type: ignore[union-attr]
    assert endpoints_with_evidence(project_id=tenant.project.pk) == ["triage"]
    assert endpoint_evidence(project_id=tenant.project.pk + 1000, endpoint="triage") is None
