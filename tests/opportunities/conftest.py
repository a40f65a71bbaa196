"""Opportunities fixtures: the seed catalogue (prices and model lifecycles) and planted calls stored
through the real ingest path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from apps.demo.traffic import ingest_principal
from apps.ingest.services import store_events
from apps.pricing.catalogue import seed_prices_load
from apps.pricing.selectors import price_book_invalidate
from tests.opportunities.plants import Plant, batches, planted_project
from tests.tenancy import Tenant


@pytest.fixture
def catalogue(db: None) -> None:
    seed_prices_load()
    price_book_invalidate()


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def ingest(tenant: Tenant, catalogue: None) -> Callable[[list[dict[str, Any]]], None]:
    def store(events: list[dict[str, Any]]) -> None:
        principal = ingest_principal(tenant.project)
        for batch in batches(events):
            outcome = store_events(principal=principal, raws=batch)
            assert not outcome.rejected, outcome.rejected[:3]

    return store


def only(events: list[dict[str, Any]], *endpoints: str) -> list[dict[str, Any]]:
    return [e for e in events if e["endpoint"] in endpoints]


@pytest.fixture
def planted(now: datetime) -> tuple[list[dict[str, Any]], dict[str, Plant]]:
    events, plants = planted_project(now)
    return events, {p.endpoint: p for p in plants}
