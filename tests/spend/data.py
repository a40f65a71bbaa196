"""Calls with known costs for spend tests, sent through POST /v1/ingest."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tests.ingest.events import event, post_batch
from tests.tenancy import Tenant

DOLLAR_IN = 6_666_667  # gpt-4o-mini input tokens that cost ≈ $1.00 ($0.15 per 1M)


def call(ts: datetime, *, usd: float = 0.75, **fields: Any) -> dict[str, Any]:
    """One gpt-4o-mini call costing `usd` (in multiples of $0.15 per 1M input tokens)."""
    return event(
        event_id=str(uuid.uuid4()),
        ts=ts.isoformat().replace("+00:00", "Z"),
        input_tokens=round(usd / 0.15 * 1_000_000),
        output_tokens=0,
        request={},
        response={},
        **fields,
    )


def send(tenant: Tenant, events: list[dict[str, Any]]) -> None:
    for i in range(0, len(events), 5000):
        response = post_batch(tenant.api("ingest"), events[i : i + 5000])
        assert response.status_code == 200, response.content
        assert not response.json()["rejected"], response.json()
