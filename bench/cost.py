"""How fast is the cost function? Calls per second on one core, against a baseline run here.

The book is built from the shipped seed prices (apps/pricing/data/prices.json) without a
database. The workload mixes real shapes: OpenAI with cached prompts and reasoning, Anthropic
with 5-minute and 1-hour cache writes, Gemini above its 200k long-context step, a discounted
provider, dated aliases resolved by pattern, and a model with no price.

The baseline is a bare loop over the same usages doing the same integer work per call (eight
multiplications by atto-USD prices, a sum, one half-even rounding), with nothing else: the ratio
says what model resolution, the price timeline, provider rules and the breakdown cost on top.

    .venv/bin/python bench/cost.py [--calls 200000]

The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from apps.pricing.book import DiscountRecord, ModelRecord, PriceBook, PriceRecord, ProviderRecord  # noqa: E402
from apps.pricing.cost import Usage  # noqa: E402
from apps.pricing.price_file import parse_price_file  # noqa: E402

SEED = ROOT / "apps" / "pricing" / "data" / "prices.json"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def build_book() -> PriceBook:
    plan = parse_price_file(SEED.read_text())
    providers = [
        ProviderRecord(
            p.slug,
            p.name,
            tuple(p.aliases),
            True if p.input_includes_cached is None else p.input_includes_cached,
            True if p.output_includes_reasoning is None else p.output_includes_reasoning,
        )
        for p in plan.providers
    ]
    models, prices = [], []
    for model_id, spec in enumerate(plan.models, start=1):
        models.append(
            ModelRecord(model_id, spec.provider, spec.name, tuple(spec.aliases or ()), spec.pattern or "")
        )
        for price in spec.prices:
            assert price.effective_from is not None
            values = {k: v for k, v in price.values.items()}
            prices.append(
                PriceRecord(
                    id=len(prices) + 1,
                    model_id=model_id,
                    effective_from=price.effective_from,
                    tier=price.tier,
                    long_context_threshold=price.long_context_threshold,
                    **values,  # type: ignore[arg-type]
                )
            )
    discounts = [DiscountRecord("anthropic", Decimal("12.5"), datetime(2026, 1, 1, tzinfo=UTC))]
    return PriceBook(providers=providers, models=models, prices=prices, discounts=discounts)


def workload(n: int) -> list[tuple[str, str, datetime, Usage]]:
    rng = random.Random(7)
    shapes = [
        (
            "openai",
            "gpt-4o",
            lambda: Usage(rng.randint(100, 8000), rng.randint(10, 900), rng.choice([0, 1024, 2048])),
        ),
        ("openai", "gpt-4.1-mini-2025-04-14", lambda: Usage(rng.randint(100, 4000), rng.randint(10, 400))),
        (
            "openai",
            "o3",
            lambda: Usage(rng.randint(500, 5000), rng.randint(500, 6000), 0, 0, 0, rng.randint(100, 400)),
        ),
        (
            "anthropic",
            "claude-sonnet-4-5-20250929",
            lambda: Usage(
                rng.randint(10, 500),
                rng.randint(50, 800),
                rng.randint(0, 20000),
                rng.randint(0, 3000),
                rng.randint(0, 2000),
            ),
        ),
        (
            "gemini",
            "gemini-2.5-pro",
            lambda: Usage(
                rng.randint(150_000, 260_000), rng.randint(100, 2000), 0, 0, 0, rng.randint(0, 3000)
            ),
        ),
        (
            "xai",
            "grok-4.20",
            lambda: Usage(rng.randint(100, 9000), rng.randint(10, 900), 128, 0, 0, rng.randint(0, 900)),
        ),
        ("vllm", "in-house-llm", lambda: Usage(rng.randint(100, 2000), rng.randint(10, 200))),
    ]
    out = []
    for i in range(n):
        provider, model, make = shapes[i % len(shapes)]
        out.append((provider, model, NOW - timedelta(minutes=rng.randint(0, 100_000)), make()))
    return out


def best_of(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    book = build_book()
    calls = workload(args.calls)
    cost = book.cost
    priced = sum(cost(provider=p, model=m, ts=ts, usage=u) is not None for p, m, ts, u in calls)

    def run_cost() -> None:
        for provider, model, ts, usage in calls:
            cost(provider=provider, model=model, ts=ts, usage=usage)

    # Baseline: the same integer work per call with atto-USD prices, and nothing else.
    p_in, p_cached, p_w5, p_w1h, p_out, p_reason, fee, img = (
        2_500_000_000_000,
        1_250_000_000_000,
        3_750_000_000_000,
        6_000_000_000_000,
        10_000_000_000_000,
        10_000_000_000_000,
        0,
        0,
    )
    unit = 10**9

    def run_baseline() -> None:
        for _, _, _, u in calls:
            total = (
                u.input_tokens * p_in
                + u.cached_input_tokens * p_cached
                + u.cache_write_tokens * p_w5
                + u.cache_write_1h_tokens * p_w1h
                + u.output_tokens * p_out
                + u.reasoning_tokens * p_reason
                + fee
                + u.images * img
            )
            q, r = divmod(total, unit)
            if 2 * r > unit or (2 * r == unit and q & 1):
                q += 1

    run_cost()  # warm the resolution cache, as a long-running process would be
    cost_s = best_of(args.runs, run_cost)
    base_s = best_of(args.runs, run_baseline)
    n = len(calls)
    result = {
        "bench": "cost",
        "calls": n,
        "priced_share": round(priced / n, 3),
        "cost_calls_per_s": round(n / cost_s),
        "cost_us_per_call": round(cost_s / n * 1e6, 3),
        "baseline_calls_per_s": round(n / base_s),
        "slowdown_vs_baseline": round(cost_s / base_s, 2),
        "python": platform.python_version(),
    }
    print(
        f"cost function: {result['cost_calls_per_s']:,} calls/s ({result['cost_us_per_call']} µs/call), single core"
    )
    print(f"baseline (bare integer arithmetic): {result['baseline_calls_per_s']:,} calls/s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
