"""The `sim` provider answers at the length a model of its class would give for the request (scaled
from the app's own recorded answer, not from the captured text) and reads the app's whole prompt, so
a simulated replay's savings sit where the price ratios put them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.pricing.cost import Usage
from apps.replay.engine.runner import replay_job_run
from apps.replay.models import JobStatus
from apps.replay.providers.base import ChatRequest, Message
from apps.replay.providers.sim import SimAdapter
from apps.replay.services.jobs import replay_job_create
from apps.replay.services.planning import NANO, CandidateSpec, ReplaySpec
from apps.warehouse.client import ProjectScope
from tests.replay.factories import call, ingest
from tests.tenancy import Tenant

# A short captured text, as demo and redacted payloads often are, for a long recorded call.
PROMPT_TOKENS, ANSWER_TOKENS = 3_000, 600


def _request(prompt: str) -> ChatRequest:
    return ChatRequest(
        system="You summarise support threads.",
        messages=(Message("user", prompt),),
        max_tokens=4_096,
        reference="Customer wants a refund; agent agreed.",
        reference_usage=Usage(input_tokens=PROMPT_TOKENS, output_tokens=ANSWER_TOKENS),
    )


def _answer(model: str, prompt: str) -> Any:
    return asyncio.run(SimAdapter().complete(_request(prompt), model=model))


@pytest.mark.parametrize(
    ("model", "low", "high"),
    [
        ("gpt-4o-mini", 0.7, 1.0),  # small / mini / flash class
        ("gemini-2.5-flash", 0.7, 1.0),
        ("claude-haiku-4-5", 0.7, 1.0),
        ("gpt-4.1-nano", 0.5, 0.9),  # nano / tiny / 7-8b class
        ("llama-3.1-8b", 0.5, 0.9),
    ],
)
def test_a_simulated_answer_is_as_long_as_its_class_would_answer(model: str, low: float, high: float) -> None:
    lengths = set()
    for i in range(40):
        completion = _answer(model, f"Summarise thread {i}")
        assert completion.usage is not None
        assert completion.usage.input_tokens == PROMPT_TOKENS  # the app's own prompt, in full
        assert low * ANSWER_TOKENS <= completion.usage.output_tokens <= high * ANSWER_TOKENS
        assert _answer(model, f"Summarise thread {i}").usage == completion.usage  # per (model, prompt)
        lengths.add(completion.usage.output_tokens)
    assert len(lengths) > 10  # spread over the class's range, not one ratio


@pytest.mark.django_db
def test_a_simulated_replay_saves_what_the_price_ratio_says(tenant: Tenant, catalogue: Any) -> None:
    """gpt-4o at $2.50 / $10 per 1M tokens, recorded at 3,000 prompt and 600 answer tokens a call:
    13.5 M nano-USD. claude-haiku-4-5 ($1 / $5) answering 0.7–1.0× as long costs 5.1–6.0 M (saves
    56–62 %); llama-3.1-8b ($0.18 / $0.18) answering 0.5–0.9× costs 0.59–0.64 M (saves ~96 %)."""
    now = datetime.now(UTC)
    ingest(
        tenant,
        [
            call(f"Summarise thread {i}: refund request", "Customer wants a refund; agent agreed.",
                 endpoint="summaries", ts=now - timedelta(hours=i + 1),
                 input_tokens=PROMPT_TOKENS, output_tokens=ANSWER_TOKENS)
            for i in range(12)
        ],
    )  # fmt: skip
    spec = ReplaySpec(
        endpoint="summaries",
        candidates=(
            CandidateSpec("anthropic", "claude-haiku-4-5", simulated=True),
            CandidateSpec("together", "llama-3.1-8b", simulated=True),
        ),
        evaluator="similarity",
        sample_size=12,
        spend_cap_nano=NANO,
    )
    job = replay_job_run(job_id=replay_job_create(project=tenant.project, actor=None, spec=spec).pk)
    assert job is not None and job.status == JobStatus.DONE and job.spent_nano == 0
    rows = (
        ProjectScope(tenant.project.pk)
        .query(
            "SELECT candidate, input_tokens, output_tokens, cost_nano FROM replay_results FINAL "
            "WHERE project_id = {project_id:UInt64} AND job_id = {j:UInt64}",
            {"j": job.pk},
            feature="test",
        )
        .rows
    )
    assert len(rows) == 24 and {r[1] for r in rows} == {PROMPT_TOKENS}
    haiku = [r for r in rows if r[0] == "anthropic/claude-haiku-4-5"]
    assert all(420 <= r[2] <= 600 and r[3] == 3_000 * 1_000 + r[2] * 5_000 for r in haiku)
    baseline = 3_000 * 2_500 + 600 * 10_000
    results = {r.key: r for r in job.results.all()}
    assert all(r.baseline_cost_per_call_nano == baseline for r in results.values())
    saved = {k: 1 - r.cost_per_call_nano / r.baseline_cost_per_call_nano for k, r in results.items()}
    assert 0.55 <= saved["anthropic/claude-haiku-4-5"] <= 0.63
    assert 0.95 <= saved["together/llama-3.1-8b"] <= 0.96
