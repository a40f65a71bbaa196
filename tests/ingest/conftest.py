from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.pricing.models import LlmModel, Price, Provider
from apps.pricing.selectors import price_book_invalidate


@pytest.fixture(autouse=True)
def gpt_4o_mini_price(db: None) -> Price:
    """One catalogue price, so ingest tests can check exact stored costs."""
    provider = Provider.objects.create(
        slug="openai", name="OpenAI", input_includes_cached=True, output_includes_reasoning=True
    )
    model = LlmModel.objects.create(provider=provider, name="gpt-4o-mini")
    price = Price.objects.create(
        model=model,
        effective_from=datetime(2024, 7, 18, tzinfo=UTC),
        input=Decimal("0.00000015"),
        output=Decimal("0.0000006"),
        cached_input=Decimal("0.000000075"),
        source="https://openai.com/api/pricing",
        source_date=datetime(2024, 7, 18, tzinfo=UTC).date(),
    )
    price_book_invalidate()
    return price
