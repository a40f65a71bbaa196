"""A small catalogue for pricing tests, written through the services (not the seed file)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from apps.pricing.models import LlmModel, Provider
from apps.pricing.selectors import price_book_invalidate
from apps.pricing.services import price_create
from apps.warehouse import client as warehouse


def small_catalogue() -> dict[str, LlmModel]:
    """OpenAI gpt-4o with real history ($5/$15, then $2.50/$10 from 2024-10-02) and Claude Sonnet 4.5."""
    openai = Provider.objects.create(slug="openai", name="OpenAI")
    anthropic = Provider.objects.create(
        slug="anthropic", name="Anthropic", input_includes_cached=False, aliases=["claude-api"]
    )
    gpt4o = LlmModel.objects.create(
        provider=openai,
        name="gpt-4o",
        aliases=["gpt-4o-2024-11-20"],
        match_pattern=r"gpt-4o-\d{4}-\d{2}-\d{2}",
    )
    sonnet = LlmModel.objects.create(provider=anthropic, name="claude-sonnet-4-5")
    price_create(
        model=gpt4o,
        organization=None,
        actor=None,
        effective_from="2024-05-13",
        prices={"input": "5", "output": "15"},
        per_exp=6,
        source="https://openai.com/index/hello-gpt-4o/",
    )
    price_create(
        model=gpt4o,
        organization=None,
        actor=None,
        effective_from="2024-10-02",
        prices={"input": "2.50", "cached_input": "1.25", "output": "10"},
        per_exp=6,
    )
    price_create(
        model=gpt4o,
        organization=None,
        actor=None,
        effective_from="2024-10-02",
        tier="batch",
        prices={"input": "1.25", "output": "5"},
        per_exp=6,
    )
    price_create(
        model=sonnet,
        organization=None,
        actor=None,
        effective_from="2025-09-29",
        prices={
            "input": "3",
            "cached_input": "0.30",
            "cache_write": "3.75",
            "cache_write_1h": "6",
            "output": "15",
        },
        per_exp=6,
    )
    price_book_invalidate()
    return {"gpt-4o": gpt4o, "claude-sonnet-4-5": sonnet}


CALL_COLUMNS = (
    "project_id",
    "environment",
    "endpoint",
    "ts",
    "event_id",
    "provider",
    "model",
    "status",
    "tags",
    "metadata",
    "redactions",
)


def store_unpriced_calls(project_id: int, provider: str, model: str, *, count: int = 1) -> None:
    """Calls stored with cost unknown (NULL), as ingest stores a model without a price."""
    now = datetime.now(UTC)
    rows = [
        [
            project_id,
            "production",
            "e",
            now - timedelta(hours=1, minutes=i),
            uuid.uuid4(),
            provider,
            model,
            "ok",
            [],
            {},
            [],
        ]
        for i in range(count)
    ]
    warehouse.system_insert("llm_calls", rows, CALL_COLUMNS, feature="test")
