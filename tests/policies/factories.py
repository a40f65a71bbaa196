"""Building blocks for policy tests: a priced catalogue, synthetic replay evidence, routed events."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.test import Client

from apps.pricing.models import LlmModel, Provider
from apps.pricing.selectors import price_book_invalidate
from apps.pricing.services import price_create
from apps.replay.engine.runner import replay_job_run
from apps.replay.models import ReplayJob
from apps.replay.services.jobs import replay_job_create
from apps.replay.services.planning import CandidateSpec, ReplaySpec
from apps.routing.evidence import CandidateSample, EndpointEvidence, SampleEvidence
from tests.replay.factories import call, replay_catalogue
from tests.replay.factories import ingest as ingest_calls
from tests.tenancy import Tenant

# USD per 1M tokens (input, output)
PRICES = {
    "openai/gpt-4o": ("2.50", "10"),
    "openai/gpt-4o-mini": ("0.15", "0.60"),
    "anthropic/claude-haiku-4-5": ("1", "5"),
}
BASELINE = "openai/gpt-4o"
MINI = "openai/gpt-4o-mini"
HAIKU = "anthropic/claude-haiku-4-5"


def price_catalogue(prices: dict[str, tuple[str, str]] | None = None) -> dict[str, LlmModel]:
    """Catalogue prices for the given `provider/model`s, through the pricing service."""
    out = {}
    for key, (price_in, price_out) in (prices or PRICES).items():
        slug, model_name = key.split("/", 1)
        provider, _ = Provider.objects.get_or_create(slug=slug, defaults={"name": slug.title()})
        model = LlmModel.objects.create(provider=provider, name=model_name)
        price_create(
            model=model,
            organization=None,
            actor=None,
            effective_from="2024-01-01",
            prices={"input": price_in, "output": price_out},
            per_exp=6,
        )
        out[key] = model
    price_book_invalidate()
    return out


def synthetic_evidence(
    *,
    project_id: int,
    endpoint: str = "support-reply",
    job_id: int = 1,
    n: int = 400,
    candidates: dict[str, dict[str, Any]] | None = None,
    evaluator: str = "exact",
    monthly_calls: int = 300_000,
) -> EndpointEvidence:
    """`n` samples: baseline costs 10 000 nano-USD a call; each candidate is described by
    `quality(i)`, `cost`, `ok(i)`, `checks(i)` (defaults: always right, 1 000 nano-USD)."""
    specs = candidates if candidates is not None else {MINI: {}}
    samples = []
    for i in range(n):
        found = {}
        for key, spec in specs.items():
            ok = spec.get("ok", lambda i: True)(i)
            found[key] = CandidateSample(
                quality=float(spec.get("quality", lambda i: 1.0)(i)),
                cost_nano=spec.get("cost", 1_000) if ok or not spec.get("error_has_no_cost", True) else None,
                latency_ms=spec.get("latency", 400),
                ok=ok,
                failed_checks=tuple(spec.get("checks", lambda i: ())(i)),
            )
        words = "refund order broken" if i % 2 else "summarise the meeting notes please"
        samples.append(
            SampleEvidence(
                sample_id=f"s-{job_id}-{i:04d}",
                prompt_text=f"{words} number {i}",
                baseline_cost_nano=10_000,
                baseline_latency_ms=900,
                candidates=found,
            )
        )
    return EndpointEvidence(
        project_id=project_id,
        endpoint=endpoint,
        job_id=job_id,
        finished_at=datetime(2026, 11, 20, 12, 0, job_id % 60, tzinfo=UTC),
        baseline_provider="openai",
        baseline_model="gpt-4o",
        evaluator=evaluator,
        quality_reference=1.0,
        monthly_calls=monthly_calls,
        simulated=False,
        samples=samples,
    )


def routed_event(
    *,
    endpoint: str,
    version: int,
    arm: str,
    reason: str,
    model: str,
    status: str = "ok",
    ts: datetime | None = None,
    input_tokens: int = 1000,
    output_tokens: int = 200,
    latency_ms: int = 500,
    **extra: Any,
) -> dict[str, Any]:
    provider, name = model.split("/", 1)
    return {
        "event_id": str(uuid.uuid4()),
        "ts": (ts or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
        "endpoint": endpoint,
        "provider": provider,
        "model": name,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "latency_ms": latency_ms,
        "status": status,
        "routing": {"policy_version": version, "arm": arm, "target": model, "reason": reason},
        **extra,
    }


def ingest(ingest_key: str, events: list[dict[str, Any]]) -> None:
    """Send events through the real ingest API; every one must be accepted."""
    client = Client(HTTP_AUTHORIZATION=f"Bearer {ingest_key}")
    for start in range(0, len(events), 500):
        batch = events[start : start + 500]
        body = json.dumps({"schema_version": 1, "events": batch})
        response = client.post("/v1/ingest", data=body, content_type="application/json")
        assert response.status_code == 200, response.content
        assert response.json()["accepted"] == len(batch), response.json()


def simulated_replay(tenant: Tenant) -> ReplayJob:
    """A finished replay of 30 captured "help" calls (gpt-4o) on simulated gpt-4o-mini."""
    spec = help_traffic(tenant)
    job = replay_job_run(job_id=replay_job_create(project=tenant.project, actor=None, spec=spec).pk)
    assert job is not None and job.status == "done"
    return job


def help_traffic(tenant: Tenant) -> ReplaySpec:
    """30 captured "help" calls (gpt-4o), and the spec that replays them on simulated gpt-4o-mini."""
    replay_catalogue()
    now = datetime.now(UTC)
    calls = [
        call(f"How do I reset my password, case {i}?", f"Open settings, choose security, then reset (case {i}).",
             endpoint="help", ts=now - timedelta(hours=i + 1))
        for i in range(30)
    ]  # fmt: skip
    ingest_calls(tenant, calls)
    return ReplaySpec(
        endpoint="help",
        candidates=(CandidateSpec("openai", "gpt-4o-mini", simulated=True),),
        sample_size=30,
        spend_cap_nano=0,
    )
