"""Billing fixtures: the fake Stripe server, plans with its prices, and webhook delivery."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, TestCase

from apps.billing import plans as shipped
from apps.billing.models import Plan
from apps.ingest import limits
from tests.billing.fake_stripe import API_KEY, WEBHOOK_SECRET, FakeStripe, sign, start


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[tuple[FakeStripe, str]]:
    fake = FakeStripe()
    server = start(fake)
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def stripe(stripe_server: tuple[FakeStripe, str], settings: Any) -> FakeStripe:
    """Stripe configured and pointed at the fake (fresh state per test)."""
    fake, url = stripe_server
    fake.reset()
    settings.STRIPE_API_KEY = API_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = url
    return fake


@pytest.fixture
def plans(db: None) -> dict[str, Plan]:
    """The shipped plans (transactional tests flush the seeded rows) with the fake's prices."""
    shipped.seed(Plan)
    Plan.objects.filter(key="team").update(
        stripe_price_id="price_team_base", stripe_metered_price_id="price_team_events"
    )
    Plan.objects.filter(key="business").update(
        stripe_price_id="price_business_base", stripe_metered_price_id="price_business_events"
    )
    return {p.key: p for p in Plan.objects.all()}


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    limits.reset()
    yield
    limits.reset()


def deliver(event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> Any:
    """POST an event to the webhook as Stripe does: JSON body, signed header. Work deferred to
    the commit (e-mails) runs as it would after the request's transaction commits."""
    payload = json.dumps(event).encode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        return Client().post(
            "/billing/stripe/webhook",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(payload, secret=secret, timestamp=timestamp),
        )
