"""The demo's traffic: realistic, deterministic, stored through ingest, idempotent."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.dashboard.filters import parse_range
from apps.dashboard.selectors import Scope, dimensions, totals
from apps.demo import waste
from apps.demo.traffic import PROFILES, demo_traffic_store, generate
from apps.pricing.catalogue import seed_prices_load
from apps.pricing.selectors import price_book
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db


def test_the_same_hours_give_the_same_calls() -> None:
    now = timezone.now()
    first = list(generate(now=now, days=2, scale=0.2))
    later = list(generate(now=now + timedelta(hours=3), days=2, scale=0.2))
    assert first == list(generate(now=now, days=2, scale=0.2))
    overlap = {e["event_id"]: e for e in later}
    shared = [e for e in first if e["event_id"] in overlap]
    assert len(shared) > len(first) * 0.8
    assert all(overlap[e["event_id"]] == e for e in shared)


def test_profiles_look_like_real_work() -> None:
    events = list(generate(now=timezone.now(), days=7, scale=0.3))
    by_endpoint = Counter(e["endpoint"] for e in events)
    assert set(by_endpoint) == {p.endpoint for p in PROFILES} | set(waste.ENDPOINTS)
    assert by_endpoint.most_common(1)[0][0] == "classify-ticket"
    statuses = Counter(e["status"] for e in events)
    assert statuses["error"] and statuses["timeout"] and statuses["ok"] > 0.9 * len(events)
    sql = next(e for e in events if e["endpoint"] == "sql-generation" and e["status"] == "ok")
    assert "SELECT" in sql["response"]["content"] and "Schema" in sql["request"]["messages"][0]["content"]
    weekdays = Counter((e["ts"] // 86_400_000 + 3) % 7 < 5 for e in events)  # epoch day 0 was a Thursday
    assert weekdays[True] / 5 > weekdays[False] / 2  # quieter weekends


def test_every_demo_model_has_a_seed_price() -> None:
    seed_prices_load()
    book = price_book(organization_id=0)
    for profile in PROFILES:
        for provider, model, _ in profile.models:
            assert book.resolve(provider, model) is not None, (provider, model)


def test_stored_through_ingest_and_idempotent(tenant: Tenant) -> None:
    seed_prices_load()
    now = timezone.now()
    first = demo_traffic_store(project=tenant.project, now=now, days=2, scale=0.1)
    assert first.stored == first.generated > 500 and first.rejected == 0
    again = demo_traffic_store(project=tenant.project, now=now, days=2, scale=0.1)
    assert (again.stored, again.duplicates) == (0, first.generated)
    assert len(dimensions(project_id=tenant.project.pk)) >= 8
    period = totals(Scope(tenant.project.pk, parse_range({"range": "7d"}, now=now))).current
    assert period.calls == first.stored and period.cost_nano_usd > 0 and period.unpriced_calls == 0
