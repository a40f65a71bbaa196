"""Replay test fixtures: fresh price books, a small catalogue, quick retries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apps.ingest import limits
from apps.pricing.models import LlmModel
from apps.pricing.selectors import price_book_invalidate
from tests.replay.factories import replay_catalogue


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> Iterator[None]:
    settings.REPLAY_RETRY_BASE_S = 0.01
    price_book_invalidate()
    limits.reset()
    yield
    price_book_invalidate()
    limits.reset()


@pytest.fixture
def catalogue(db: None) -> dict[tuple[str, str], LlmModel]:
    return replay_catalogue()
