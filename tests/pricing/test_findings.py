"""Issue 16's findings, each pinned: the stored cost of a call matches the invoice.

Every expected figure is worked by hand in the comment above it (USD per 1M tokens x tokens), in
nano-USD. Prices are the small catalogue's (tests/pricing/factories.py) or the book below.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from apps.pricing.book import ModelRecord, PriceBook, PriceRecord, ProviderRecord
from apps.pricing.cost import Usage
from apps.pricing.models import LlmModel
from tests.ingest.events import event, post_batch, stored_call
from tests.pricing.test_cost import per_m
from tests.tenancy import Tenant

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

PROVIDERS = [
    ProviderRecord("openai"),
    ProviderRecord("anthropic", input_includes_cached=False),
    ProviderRecord("google", aliases=("gemini",), output_includes_reasoning=False),
]
MODELS = [
    ModelRecord(1, "anthropic", "claude-sonnet-4-5", pattern=r"claude-sonnet-4-5(-\d{8})?"),
    ModelRecord(2, "google", "gemini-2.5-flash"),
    ModelRecord(3, "openai", "gpt-4o"),
]
PRICES = [
    # Claude Sonnet 4.5: $3 in, $0.30 cache read, $3.75 5-min write, $6 1-hour write, $15 out
    PriceRecord(
        1,
        1,
        NOW.replace(year=2025),
        per_m("3"),
        per_m("15"),
        cached_input=per_m("0.30"),
        cache_write=per_m("3.75"),
        cache_write_1h=per_m("6"),
    ),
    # Gemini 2.5 Flash: $0.30 in, $0.03 cached, $2.50 out (thinking billed as output)
    PriceRecord(2, 2, NOW.replace(year=2025), per_m("0.30"), per_m("2.50"), cached_input=per_m("0.03")),
    PriceRecord(3, 3, NOW.replace(year=2025), per_m("2.50"), per_m("10"), cached_input=per_m("1.25")),
]


@pytest.fixture(scope="module")
def book() -> PriceBook:
    return PriceBook(providers=PROVIDERS, models=MODELS, prices=PRICES)


# --- finding 1: 1-hour cache writes billed twice at ingest ------------------------------------


@pytest.mark.django_db
def test_sdk_event_with_1h_cache_writes_is_stored_at_the_estimate(
    tenant: Tenant, catalogue: dict[str, LlmModel]
) -> None:
    """The SDK sends cache_write_tokens = all writes and cache_write_1h_tokens = the 1-hour part."""
    anthropic_usage = {
        "input_tokens": 50,
        "cache_creation_input_tokens": 3000,
        "cache_read_input_tokens": 10000,
        "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000},
        "output_tokens": 400,
    }
    sent = event(
        provider="anthropic",
        model="claude-sonnet-4-5",
        input_tokens=50,
        output_tokens=400,
        cached_input_tokens=10000,
        cache_write_tokens=3000,
        cache_write_1h_tokens=2000,
        input_includes_cached=False,
    )
    assert post_batch(tenant.api("ingest"), [sent]).json()["accepted"] == 1
    estimate = tenant.web().post(
        "/v1/prices/estimate",
        data=json.dumps(
            {
                "provider": "anthropic",
                "model": "claude-sonnet-4-5",
                "usage_format": "anthropic",
                "usage": anthropic_usage,
            }
        ),
        content_type="application/json",
    )
    stored = stored_call(tenant.project.pk, sent["event_id"])
    # 50 x $3/M = 150,000; 10,000 reads x $0.30/M = 3,000,000; 1000 5-min writes x $3.75/M =
    # 3,750,000; 2000 1-hour writes x $6/M = 12,000,000; 400 x $15/M = 6,000,000.
    assert estimate.json()["total_nano_usd"] == 24_900_000
    assert stored["cost_nano_usd"] == 24_900_000
    assert json.loads(stored["cost_breakdown"])["cache_write"] == 3_750_000


def test_cache_write_tokens_count_the_1h_part_once(book: PriceBook) -> None:
    usage = Usage(input_tokens=0, cache_write_tokens=3000, cache_write_1h_tokens=2000)
    result = book.cost(provider="anthropic", model="claude-sonnet-4-5", ts=NOW, usage=usage)
    # 1000 x $3.75/M = 3,750,000; 2000 x $6/M = 12,000,000
    assert result is not None and result.nano_usd == 15_750_000


# --- finding 2: token rules follow the model's provider ------------------------------------------


@pytest.mark.parametrize("model", ["anthropic/claude-sonnet-4-5", "claude-sonnet-4-5-20250929"])
def test_without_a_provider_claude_usage_follows_anthropics_rule(book: PriceBook, model: str) -> None:
    # Anthropic's input_tokens exclude cache reads: 50 x $3/M = 150,000; 10,000 x $0.30/M = 3,000,000;
    # 400 x $15/M = 6,000,000.  OpenAI's rule would bill 0 uncached tokens (50 - 10,000 < 0).
    usage = Usage(input_tokens=50, cached_input_tokens=10_000, output_tokens=400)
    result = book.cost(provider="", model=model, ts=NOW, usage=usage)
    assert result is not None and result.nano_usd == 9_150_000


def test_without_a_provider_gemini_keeps_its_thinking_tokens(book: PriceBook) -> None:
    # candidatesTokenCount excludes thoughts: 1000 x $0.30/M = 300,000; 600 x $2.50/M = 1,500,000;
    # 1200 thoughts x $2.50/M = 3,000,000.
    usage = Usage(input_tokens=1000, output_tokens=600, reasoning_tokens=1200)
    result = book.cost(provider="", model="gemini/gemini-2.5-flash", ts=NOW, usage=usage)
    assert result is not None and result.nano_usd == 4_800_000


def test_the_events_explicit_flags_still_win(book: PriceBook) -> None:
    # Claude behind an OpenAI-compatible gateway: the gateway says input includes the cache.
    # 50 x $3/M = 150,000; 10,000 x $0.30/M = 3,000,000
    usage = Usage(input_tokens=10_050, cached_input_tokens=10_000, input_includes_cached=True)
    result = book.cost(provider="", model="claude-sonnet-4-5", ts=NOW, usage=usage)
    assert result is not None and result.nano_usd == 3_150_000
    # A Gemini count that already includes the thoughts: 1800 x $2.50/M = 4,500,000 (+ 300,000 in)
    usage = Usage(
        input_tokens=1000, output_tokens=1800, reasoning_tokens=1200, output_includes_reasoning=True
    )
    result = book.cost(provider="google", model="gemini-2.5-flash", ts=NOW, usage=usage)
    assert result is not None and result.nano_usd == 4_800_000
