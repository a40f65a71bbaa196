"""Pricing test fixtures: a fresh price book per test, a small catalogue, storing calls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apps.pricing.models import LlmModel
from apps.pricing.selectors import price_book_invalidate
from tests.pricing.factories import small_catalogue


@pytest.fixture(autouse=True)
def _fresh_books() -> Iterator[None]:
    """Books are cached per process: no test sees another's prices."""
    price_book_invalidate()
    yield
    price_book_invalidate()


@pytest.fixture
def catalogue(db: None) -> dict[str, LlmModel]:
    return small_catalogue()
