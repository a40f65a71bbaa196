"""Demo fixtures: price books fresh for every test, and the shipped catalogue the demo loads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apps.pricing.catalogue import seed_prices_load
from apps.pricing.selectors import price_book_invalidate


@pytest.fixture(autouse=True)
def _fresh_books() -> Iterator[None]:
    price_book_invalidate()
    yield
    price_book_invalidate()


@pytest.fixture
def catalogue(db: None) -> None:
    seed_prices_load()
