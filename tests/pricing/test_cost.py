"""The cost function on real provider usage payloads, against hand-computed costs.

Every expected value below is worked out by hand in the comment above it (USD per 1M tokens x
tokens), in nano-USD (1e-9 USD). Payload shapes are copied from each provider's API reference.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.pricing.book import DiscountRecord, ModelRecord, PriceBook, PriceRecord, ProviderRecord
from apps.pricing.cost import (
    BREAKDOWN_KEYS,
    Rates,
    Usage,
    compute_cost,
    cost_breakdown_json,
    rates_from_prices,
    round_half_even,
    usd_to_atto,
)
from apps.pricing.usage import usage_from_payload

T0 = datetime(2024, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
M = Decimal(1_000_000)


def per_m(value: str) -> Decimal:
    """USD per 1M tokens → USD per token, exactly."""
    return Decimal(value) / M


PROVIDERS = [
    ProviderRecord("openai", input_includes_cached=True, output_includes_reasoning=True),
    ProviderRecord("anthropic", input_includes_cached=False, output_includes_reasoning=True),
    ProviderRecord("google", aliases=("gemini", "vertex_ai"), output_includes_reasoning=False),
    ProviderRecord("xai", output_includes_reasoning=False),
    ProviderRecord("deepseek"),
]
MODELS = [
    ModelRecord(1, "openai", "gpt-4o", aliases=("gpt-4o-2024-08-06",)),
    ModelRecord(2, "openai", "o3", pattern=r"o3-\d{4}-\d{2}-\d{2}"),
    ModelRecord(3, "anthropic", "claude-sonnet-4-5", pattern=r"claude-sonnet-4-5(-\d{8})?"),
    ModelRecord(4, "google", "gemini-2.5-pro"),
    ModelRecord(5, "anthropic", "claude-sonnet-4"),
    ModelRecord(6, "xai", "grok-4.20"),
    ModelRecord(7, "deepseek", "deepseek-chat"),
]
PRICES = [
    # gpt-4o: $2.50 in, $1.25 cached, $10 out
    PriceRecord(101, 1, T0, per_m("2.50"), per_m("10"), cached_input=per_m("1.25")),
    # o3: $2 in, $0.50 cached, $8 out (reasoning billed as output)
    PriceRecord(102, 2, T0, per_m("2"), per_m("8"), cached_input=per_m("0.50")),
    # Claude Sonnet 4.5: $3 in, $0.30 cache read, $3.75 5-min write, $6 1-hour write, $15 out
    PriceRecord(
        103,
        3,
        T0,
        per_m("3"),
        per_m("15"),
        cached_input=per_m("0.30"),
        cache_write=per_m("3.75"),
        cache_write_1h=per_m("6"),
    ),
    # Gemini 2.5 Pro: ≤200k prompt $1.25 in / $0.125 cached / $10 out; >200k $2.50 / $0.25 / $15
    PriceRecord(
        104,
        4,
        T0,
        per_m("1.25"),
        per_m("10"),
        cached_input=per_m("0.125"),
        long_context_threshold=200_000,
        input_long=per_m("2.50"),
        output_long=per_m("15"),
        cached_input_long=per_m("0.25"),
    ),
    # Claude Sonnet 4 with the 1M context window: >200k prompt $6 in, $0.60 read, $22.50 out
    PriceRecord(
        105,
        5,
        T0,
        per_m("3"),
        per_m("15"),
        cached_input=per_m("0.30"),
        cache_write=per_m("3.75"),
        cache_write_1h=per_m("6"),
        long_context_threshold=200_000,
        input_long=per_m("6"),
        output_long=per_m("22.50"),
        cached_input_long=per_m("0.60"),
        cache_write_long=per_m("7.50"),
        cache_write_1h_long=per_m("12"),
    ),
    # Grok 4.20: $1.25 in, $0.20 cached, $2.50 out
    PriceRecord(106, 6, T0, per_m("1.25"), per_m("2.50"), cached_input=per_m("0.20")),
    # DeepSeek chat: $0.28 miss, $0.028 hit, $0.42 out
    PriceRecord(107, 7, T0, per_m("0.28"), per_m("0.42"), cached_input=per_m("0.028")),
]


@pytest.fixture(scope="module")
def book() -> PriceBook:
    return PriceBook(providers=PROVIDERS, models=MODELS, prices=PRICES)


def test_openai_chat_completions_with_cached_prompt(book: PriceBook) -> None:
    payload = {
        "prompt_tokens": 2006,
        "completion_tokens": 300,
        "total_tokens": 2306,
        "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    result = book.cost(
        provider="openai", model="gpt-4o-2024-08-06", ts=NOW, usage=usage_from_payload("openai_chat", payload)
    )
    assert result is not None
    # prompt_tokens include the 1920 cached: 86 x $2.50/M = 215,000 nano; 1920 x $1.25/M = 2,400,000;
    # 300 x $10/M = 3,000,000.  Total 5,615,000 nano = $0.005615.
    assert result.breakdown == {
        "input": 215_000,
        "cached_input": 2_400_000,
        "cache_write": 0,
        "cache_write_1h": 0,
        "output": 3_000_000,
        "reasoning": 0,
        "request_fee": 0,
        "image_fee": 0,
    }
    assert result.nano_usd == 5_615_000 and result.price_id == 101


def test_openai_responses_with_reasoning(book: PriceBook) -> None:
    payload = {
        "input_tokens": 1200,
        "input_tokens_details": {"cached_tokens": 1024},
        "output_tokens": 2500,
        "output_tokens_details": {"reasoning_tokens": 2000},
        "total_tokens": 3700,
    }
    result = book.cost(
        provider="openai",
        model="o3-2025-04-16",
        ts=NOW,
        usage=usage_from_payload("openai_responses", payload),
    )
    assert result is not None
    # 176 uncached x $2/M = 352,000; 1024 cached x $0.50/M = 512,000;
    # output_tokens include reasoning: 500 visible x $8/M = 4,000,000; 2000 reasoning x $8/M = 16,000,000.
    assert result.breakdown["input"] == 352_000
    assert result.breakdown["cached_input"] == 512_000
    assert result.breakdown["output"] == 4_000_000
    assert result.breakdown["reasoning"] == 16_000_000
    assert result.nano_usd == 20_864_000


def test_anthropic_messages_with_cache_reads_and_1h_writes(book: PriceBook) -> None:
    payload = {
        "input_tokens": 50,
        "cache_creation_input_tokens": 3000,
        "cache_read_input_tokens": 10000,
        "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000},
        "output_tokens": 400,
        "service_tier": "standard",
    }
    usage = usage_from_payload("anthropic", payload)
    result = book.cost(provider="anthropic", model="claude-sonnet-4-5-20250929", ts=NOW, usage=usage)
    assert result is not None
    # input_tokens exclude cache reads and writes: 50 x $3/M = 150,000; 10,000 read x $0.30/M = 3,000,000;
    # 1000 5-min writes x $3.75/M = 3,750,000; 2000 1-hour writes x $6/M = 12,000,000; 400 x $15/M = 6,000,000.
    assert result.breakdown == {
        "input": 150_000,
        "cached_input": 3_000_000,
        "cache_write": 3_750_000,
        "cache_write_1h": 12_000_000,
        "output": 6_000_000,
        "reasoning": 0,
        "request_fee": 0,
        "image_fee": 0,
    }
    assert result.nano_usd == 24_900_000


def test_anthropic_without_ttl_breakdown_counts_writes_as_5_minute(book: PriceBook) -> None:
    usage = usage_from_payload(
        "anthropic", {"input_tokens": 10, "cache_creation_input_tokens": 2000, "output_tokens": 0}
    )
    assert usage.cache_write_tokens == 2000 and usage.cache_write_1h_tokens == 0
    result = book.cost(provider="anthropic", model="claude-sonnet-4-5", ts=NOW, usage=usage)
    # 10 x $3/M = 30,000; 2000 x $3.75/M = 7,500,000
    assert result is not None and result.nano_usd == 7_530_000


def test_gemini_thoughts_are_billed_beside_candidates(book: PriceBook) -> None:
    payload = {
        "promptTokenCount": 1500,
        "candidatesTokenCount": 600,
        "thoughtsTokenCount": 1200,
        "cachedContentTokenCount": 1000,
        "totalTokenCount": 3300,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1500}],
    }
    result = book.cost(
        provider="gemini", model="models/gemini-2.5-pro", ts=NOW, usage=usage_from_payload("gemini", payload)
    )
    assert result is not None
    # promptTokenCount includes the cached 1000: 500 x $1.25/M = 625,000; 1000 x $0.125/M = 125,000;
    # candidates exclude thoughts: 600 x $10/M = 6,000,000; 1200 thoughts x $10/M = 12,000,000.
    assert result.breakdown["input"] == 625_000
    assert result.breakdown["cached_input"] == 125_000
    assert result.breakdown["output"] == 6_000_000
    assert result.breakdown["reasoning"] == 12_000_000
    assert result.nano_usd == 18_750_000


def test_gemini_prompt_above_200k_uses_the_long_context_tier(book: PriceBook) -> None:
    long = usage_from_payload("gemini", {"promptTokenCount": 250_000, "candidatesTokenCount": 1000})
    result = book.cost(provider="google", model="gemini-2.5-pro", ts=NOW, usage=long)
    # 250,000 x $2.50/M = 625,000,000; 1000 x $15/M = 15,000,000
    assert result is not None and result.nano_usd == 640_000_000
    at_limit = usage_from_payload("gemini", {"promptTokenCount": 200_000, "candidatesTokenCount": 1000})
    result = book.cost(provider="google", model="gemini-2.5-pro", ts=NOW, usage=at_limit)
    # exactly 200k is not above it: 200,000 x $1.25/M = 250,000,000; 1000 x $10/M = 10,000,000
    assert result is not None and result.nano_usd == 260_000_000


def test_anthropic_long_context_counts_cache_reads_toward_the_threshold(book: PriceBook) -> None:
    usage = usage_from_payload(
        "anthropic", {"input_tokens": 150_000, "cache_read_input_tokens": 60_000, "output_tokens": 1000}
    )
    result = book.cost(provider="anthropic", model="claude-sonnet-4", ts=NOW, usage=usage)
    # prompt = 150,000 + 60,000 = 210,000 > 200,000 → long rates:
    # 150,000 x $6/M = 900,000,000; 60,000 x $0.60/M = 36,000,000; 1000 x $22.50/M = 22,500,000
    assert result is not None
    assert result.breakdown["input"] == 900_000_000
    assert result.breakdown["cached_input"] == 36_000_000
    assert result.breakdown["output"] == 22_500_000
    assert result.nano_usd == 958_500_000


def test_xai_reasoning_is_reported_outside_completion_tokens(book: PriceBook) -> None:
    payload = {
        "prompt_tokens": 10120,
        "completion_tokens": 1499,
        "total_tokens": 14428,
        "prompt_tokens_details": {"cached_tokens": 128},
        "completion_tokens_details": {"reasoning_tokens": 2809},
    }
    result = book.cost(
        provider="xai", model="grok-4.20", ts=NOW, usage=usage_from_payload("openai_chat", payload)
    )
    # 9992 x $1.25/M = 12,490,000; 128 x $0.20/M = 25,600; 1499 x $2.50/M = 3,747,500;
    # 2809 x $2.50/M = 7,022,500.  Total $0.0232856, which is what xAI itself bills for this call.
    assert result is not None and result.nano_usd == 23_285_600
    assert result.breakdown["reasoning"] == 7_022_500


def test_deepseek_top_level_cache_hit_count(book: PriceBook) -> None:
    payload = {
        "prompt_tokens": 1000,
        "completion_tokens": 100,
        "prompt_cache_hit_tokens": 800,
        "prompt_cache_miss_tokens": 200,
    }
    result = book.cost(
        provider="deepseek", model="deepseek-chat", ts=NOW, usage=usage_from_payload("openai_chat", payload)
    )
    # 200 x $0.28/M = 56,000; 800 x $0.028/M = 22,400; 100 x $0.42/M = 42,000
    assert result is not None and result.nano_usd == 120_400


def test_the_caller_can_override_the_provider_rule(book: PriceBook) -> None:
    # An Anthropic model reached through an OpenAI-compatible gateway reports the total prompt.
    usage = Usage(
        input_tokens=10_050, cached_input_tokens=10_000, output_tokens=0, input_includes_cached=True
    )
    result = book.cost(provider="anthropic", model="claude-sonnet-4-5", ts=NOW, usage=usage)
    # 50 x $3/M = 150,000; 10,000 x $0.30/M = 3,000,000
    assert result is not None and result.nano_usd == 3_150_000


def test_inconsistent_counts_never_go_negative(book: PriceBook) -> None:
    usage = Usage(input_tokens=10, cached_input_tokens=50, output_tokens=5, reasoning_tokens=9)
    result = book.cost(provider="openai", model="gpt-4o", ts=NOW, usage=usage)
    assert result is not None and min(result.breakdown.values()) >= 0
    # input 0; 50 cached x $1.25/M = 62,500; reasoning capped at the 5 output tokens x $10/M = 50,000
    assert result.nano_usd == 112_500 and result.breakdown["output"] == 0


def test_rounding_is_half_even_and_only_once() -> None:
    assert [round_half_even(n, 10) for n in (5, 15, 25, 14, 16, -5)] == [0, 2, 2, 1, 2, 0]
    # $0.0025/M = 2.5 nano per token: one token rounds to 2 (even), three tokens (7.5) to 8.
    rates = rates_from_prices(price_id=1, input=per_m("0.0025"), output=Decimal(0))
    one = compute_cost(
        rates, Usage(input_tokens=1), input_includes_cached=True, output_includes_reasoning=True
    )
    three = compute_cost(
        rates, Usage(input_tokens=3), input_includes_cached=True, output_includes_reasoning=True
    )
    assert (one.nano_usd, three.nano_usd) == (2, 8)


def test_parts_always_add_up_to_the_total() -> None:
    # Every part is 0.4 nano: the sum (2.4 → 2) is rounded once, and two parts carry it.
    rates = rates_from_prices(
        price_id=1,
        input=per_m("0.0004"),
        output=per_m("0.0004"),
        cached_input=per_m("0.0004"),
        cache_write=per_m("0.0004"),
        cache_write_1h=per_m("0.0004"),
        reasoning=per_m("0.0004"),
    )
    usage = Usage(
        input_tokens=1,
        output_tokens=1,
        cached_input_tokens=1,
        cache_write_tokens=2,  # one 5-minute and one 1-hour write
        cache_write_1h_tokens=1,
        reasoning_tokens=1,
    )
    result = compute_cost(rates, usage, input_includes_cached=False, output_includes_reasoning=False)
    assert result.nano_usd == 2 and sum(result.breakdown.values()) == 2
    assert list(result.breakdown) == list(BREAKDOWN_KEYS)


def test_request_and_image_fees() -> None:
    rates = rates_from_prices(
        price_id=9,
        input=per_m("1"),
        output=per_m("2"),
        request_fee=Decimal("0.005"),
        image_fee=Decimal("0.0012"),
    )
    usage = Usage(input_tokens=1000, output_tokens=500, images=3)
    result = compute_cost(rates, usage, input_includes_cached=True, output_includes_reasoning=True)
    # 1000 x $1/M = 1,000,000; 500 x $2/M = 1,000,000; fee $0.005 = 5,000,000; 3 x $0.0012 = 3,600,000
    assert result.breakdown["request_fee"] == 5_000_000 and result.breakdown["image_fee"] == 3_600_000
    assert result.nano_usd == 10_600_000
    assert cost_breakdown_json(result).startswith('{"input":1000000,"cached_input":0,')


def test_negotiated_discount_applies_to_catalogue_prices() -> None:
    book = PriceBook(
        providers=PROVIDERS,
        models=MODELS,
        prices=PRICES,
        discounts=[DiscountRecord("anthropic", Decimal("12.5"), datetime(2026, 1, 1, tzinfo=UTC))],
    )
    usage = Usage(input_tokens=1000, output_tokens=1000)
    before = book.cost(provider="anthropic", model="claude-sonnet-4-5", ts=datetime(2025, 6, 1), usage=usage)
    after = book.cost(provider="anthropic", model="claude-sonnet-4-5", ts=NOW, usage=usage)
    # 1000 x $3/M + 1000 x $15/M = 18,000,000; 12.5% off from 2026 = 15,750,000
    assert before is not None and before.nano_usd == 18_000_000
    assert after is not None and after.nano_usd == 15_750_000
    assert after.breakdown["input"] == 2_625_000 and after.breakdown["output"] == 13_125_000


def test_price_history_picks_the_row_in_force_at_the_call_time() -> None:
    may, october = datetime(2024, 5, 13, tzinfo=UTC), datetime(2024, 10, 2, tzinfo=UTC)
    book = PriceBook(
        providers=PROVIDERS,
        models=[ModelRecord(1, "openai", "gpt-4o")],
        prices=[
            PriceRecord(1, 1, may, per_m("5"), per_m("15")),
            PriceRecord(2, 1, october, per_m("2.50"), per_m("10"), cached_input=per_m("1.25")),
        ],
    )
    usage = Usage(input_tokens=1_000_000)
    assert (
        book.cost(provider="openai", model="gpt-4o", ts=datetime(2024, 5, 1, tzinfo=UTC), usage=usage) is None
    )
    early = book.cost(provider="openai", model="gpt-4o", ts=datetime(2024, 9, 30, tzinfo=UTC), usage=usage)
    late = book.cost(provider="openai", model="gpt-4o", ts=october, usage=usage)
    assert early is not None and (early.price_id, early.nano_usd) == (1, 5_000_000_000)
    assert late is not None and (late.price_id, late.nano_usd) == (2, 2_500_000_000)


def test_unknown_model_has_no_price_and_an_unpriced_tier_falls_back_to_standard(book: PriceBook) -> None:
    usage = Usage(input_tokens=10)
    assert book.cost(provider="openai", model="gpt-unknown", ts=NOW, usage=usage) is None
    batch = book.cost(provider="openai", model="gpt-4o", ts=NOW, usage=usage, tier="batch")
    # No batch price for gpt-4o in this book: 10 x $2.50/M = 25,000 at the standard price, and it says so.
    assert batch is not None and (batch.nano_usd, batch.tier) == (25_000, "standard")


def test_usd_to_atto_is_exact_and_refuses_bad_values() -> None:
    assert usd_to_atto(Decimal("0.0000025")) == 2_500_000_000_000
    assert usd_to_atto("1e-18") == 1
    for bad in ("-0.1", "abc", "1e-19", "NaN"):
        with pytest.raises(ValueError):
            usd_to_atto(bad)


def test_rates_fallbacks() -> None:
    rates = rates_from_prices(price_id=1, input=per_m("3"), output=per_m("15"), cache_write=per_m("3.75"))
    assert isinstance(rates, Rates)
    assert rates.cached_input == rates.input  # no cache price: cached tokens cost the input price
    assert rates.cache_write_1h == rates.cache_write  # no 1-hour price: the 5-minute one
    assert rates.reasoning == rates.output and rates.long is None


def test_integer_arithmetic_matches_exact_decimal_arithmetic() -> None:
    """Random prices, usages and discounts against a plain Decimal reference, rounded half-even."""
    import random
    from decimal import ROUND_HALF_EVEN, localcontext

    rng = random.Random(20261122)
    for _ in range(2000):
        prices = {
            name: Decimal(rng.randint(0, 10**7)).scaleb(-rng.randint(9, 16))
            for name in ("input", "output", "cached_input", "cache_write", "cache_write_1h", "reasoning")
        }
        fee = Decimal(rng.randint(0, 1000)).scaleb(-6)
        rates = rates_from_prices(price_id=1, request_fee=fee, **prices)
        write_1h = rng.randint(0, 5_000)
        usage = Usage(
            input_tokens=rng.randint(0, 300_000),
            output_tokens=rng.randint(0, 30_000),
            cached_input_tokens=rng.randint(0, 50_000),
            cache_write_tokens=write_1h + rng.randint(0, 5_000),  # all writes, the 1-hour part included
            cache_write_1h_tokens=write_1h,
            reasoning_tokens=rng.randint(0, 10_000),
        )
        percent = Decimal(rng.randint(0, 1_000_000)).scaleb(-4) if rng.random() < 0.3 else Decimal(0)
        keep = int((100 - percent) * 10_000)
        result = compute_cost(
            rates, usage, input_includes_cached=False, output_includes_reasoning=False, keep_ppm=keep
        )
        with localcontext(prec=80):  # no rounding anywhere in the reference
            exact = (
                (
                    usage.input_tokens * prices["input"]
                    + usage.output_tokens * prices["output"]
                    + usage.cached_input_tokens * prices["cached_input"]
                    + (usage.cache_write_tokens - usage.cache_write_1h_tokens) * prices["cache_write"]
                    + usage.cache_write_1h_tokens * prices["cache_write_1h"]
                    + usage.reasoning_tokens * prices["reasoning"]
                    + fee
                )
                * (100 - percent)
                / 100
            )
            expected = int(exact.scaleb(9).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
        assert result.nano_usd == expected
        assert sum(result.breakdown.values()) == expected
