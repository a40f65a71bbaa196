"""The routing-eval set (../shared/data/routing-eval/, see its README) as replay evidence.

Tests may read it; the product never does. Costs use the README's list prices with token counts
estimated as characters / 4; a cheap answer's quality is its judge win probability, the
baseline's is 0.5.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from apps.routing.evidence import CandidateSample, EndpointEvidence, SampleEvidence

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "routing-eval" / "alpaca_eval_pairs.jsonl"
BASELINE = "gpt-4-1106-preview"
# USD per 1M tokens (input, output) and the provider each is sold by, from the README.
PRICES: dict[str, tuple[str, float, float]] = {
    "gpt-4-1106-preview": ("openai", 10.0, 30.0),
    "gpt-3.5-turbo-1106": ("openai", 1.0, 2.0),
    "claude-instant-1.2": ("bedrock", 0.80, 2.40),
    "claude-2.1": ("anthropic", 8.0, 24.0),
    "OpenHermes-2.5-Mistral-7B": ("together", 0.20, 0.20),
    "Qwen-14B-Chat": ("together", 0.30, 0.30),
    "gemma-7b-it": ("groq", 0.07, 0.07),
}
CANDIDATES = [m for m in PRICES if m != BASELINE]


@lru_cache(maxsize=1)
def rows() -> tuple[dict[str, Any], ...]:
    with DATA.open() as f:
        return tuple(json.loads(line) for line in f)


def tokens(text: str) -> float:
    return len(text) / 4


def cost_nano(model: str, prompt: str, output: str) -> int:
    _, price_in, price_out = PRICES[model]
    return round((tokens(prompt) * price_in + tokens(output) * price_out) * 1000)


def target(model: str) -> str:
    return f"{PRICES[model][0]}/{model}"


def evidence(
    category: str | None = None, *, project_id: int = 1, job_id: int = 1, models: list[str] | None = None
) -> EndpointEvidence:
    chosen = [r for r in rows() if category is None or r["category"] == category]
    samples = []
    for r in chosen:
        candidates = {
            target(m): CandidateSample(
                quality=float(r["candidates"][m]["judge_win_prob"]),
                cost_nano=cost_nano(m, r["prompt"], r["candidates"][m]["output"]),
                latency_ms=200 + len(r["candidates"][m]["output"]) // 10,
                ok=True,
                output=r["candidates"][m]["output"],
            )
            for m in (models or CANDIDATES)
        }
        samples.append(
            SampleEvidence(
                sample_id=r["id"],
                prompt_text=r["prompt"],
                baseline_cost_nano=cost_nano(BASELINE, r["prompt"], r["baseline_output"]),
                baseline_latency_ms=300 + len(r["baseline_output"]) // 8,
                candidates=candidates,
            )
        )
    return EndpointEvidence(
        project_id=project_id,
        endpoint=category or "all",
        job_id=job_id,
        finished_at=datetime(2026, 11, 20, tzinfo=UTC),
        baseline_provider="openai",
        baseline_model=BASELINE,
        evaluator="judge",
        quality_reference=0.5,
        monthly_calls=100_000,
        simulated=False,
        samples=samples,
    )
