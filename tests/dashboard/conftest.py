"""Dashboard fixtures: a small price catalogue and calls stored through the real ingest path."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.pricing.models import LlmModel, Provider
from apps.pricing.selectors import price_book_invalidate
from apps.pricing.services import price_create
from tests.dashboard.data import CallSet, store_calls
from tests.tenancy import Tenant


@pytest.fixture(autouse=True)
def _fresh_books() -> Iterator[None]:
    price_book_invalidate()
    yield
    price_book_invalidate()


@pytest.fixture
def prices(db: None) -> dict[str, LlmModel]:
    """gpt-4o-mini ($0.15 / $0.60 per 1M, with a cheaper cached rate) and claude-haiku-4-5 ($1 / $5)."""
    openai = Provider.objects.create(slug="openai", name="OpenAI")
    anthropic = Provider.objects.create(slug="anthropic", name="Anthropic", input_includes_cached=False)
    mini = LlmModel.objects.create(provider=openai, name="gpt-4o-mini")
    haiku = LlmModel.objects.create(provider=anthropic, name="claude-haiku-4-5")
    price_create(
        model=mini,
        organization=None,
        actor=None,
        effective_from="2024-07-18",
        prices={"input": "0.15", "cached_input": "0.075", "output": "0.60"},
        per_exp=6,
        source="https://openai.com/api/pricing",
    )
    price_create(
        model=haiku,
        organization=None,
        actor=None,
        effective_from="2025-10-15",
        prices={"input": "1", "output": "5"},
        per_exp=6,
    )
    price_book_invalidate()
    return {"gpt-4o-mini": mini, "claude-haiku-4-5": haiku}


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def calls(tenant: Tenant, prices: Any, now: datetime) -> CallSet:
    """A project with three endpoints over the last three days, stored via POST /v1/ingest."""
    return store_calls(tenant, now=now)


@pytest.fixture
def earlier(now: datetime) -> datetime:
    return now - timedelta(days=10)
