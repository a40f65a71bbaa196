"""Every detector on planted waste (found, within ±10 % of the planted dollars) and on clean traffic
(nothing found), through the real ingest path and the real embedded ClickHouse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from apps.opportunities.models import Kind, Latency, Opportunity
from apps.opportunities.services import detect_project, endpoint_latency_set
from tests.opportunities.conftest import only
from tests.opportunities.plants import DAYS, Plant, kb_answer, nightly_enrich
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db
Planted = tuple[list[dict[str, Any]], dict[str, Plant]]
Ingest = Callable[[list[dict[str, Any]]], None]


def _found(tenant: Tenant) -> dict[tuple[str, str], Opportunity]:
    return {(o.endpoint, o.kind): o for o in Opportunity.objects.filter(project=tenant.project)}


def _within(found: Opportunity, plant: Plant, tolerance: float = 0.10) -> None:
    usd = found.monthly_nano / 1e9
    assert abs(usd - plant.monthly_usd) <= tolerance * plant.monthly_usd, (
        found.endpoint,
        usd,
        plant.monthly_usd,
    )
    assert found.monthly_low_nano <= found.monthly_nano <= found.monthly_high_nano


def test_every_plant_is_found_within_ten_percent_and_the_clean_endpoint_has_nothing(
    tenant: Tenant, ingest: Ingest, planted: Planted, now: datetime
) -> None:
    events, plants = planted
    ingest(events)
    run = detect_project(project=tenant.project, now=now)
    assert run.status == "done" and run.endpoints == len(plants) and run.calls == len(events)
    found = _found(tenant)
    print(f"\n{'endpoint':16} {'kind':8} {'planted $/mo':>13} {'found $/mo':>11} {'error':>7}")
    for plant in plants.values():
        if plant.kind:
            hit = found.get((plant.endpoint, plant.kind))
            usd = hit.monthly_nano / 1e9 if hit else 0.0
            print(f"{plant.endpoint:16} {plant.kind:8} {plant.monthly_usd:13.2f} {usd:11.2f} "
                  f"{(usd - plant.monthly_usd) / plant.monthly_usd:+7.1%}")  # fmt: skip
            assert hit is not None, f"{plant.kind} on {plant.endpoint} not found"
            _within(hit, plant)
    # One finding per plant, of its own kind, and nothing on the clean endpoint.
    assert sorted(found) == sorted((p.endpoint, p.kind) for p in plants.values() if p.kind)


def test_caching_on_its_plant_and_not_where_the_cache_already_serves(
    tenant: Tenant, ingest: Ingest, planted: Planted, now: datetime
) -> None:
    events, plants = planted
    ingest(only(events, "kb-answer", "clean-faq"))
    detect_project(project=tenant.project, now=now)
    found = _found(tenant)
    assert list(found) == [("kb-answer", Kind.CACHING)]
    hit = found[("kb-answer", Kind.CACHING)]
    _within(hit, plants["kb-answer"])
    evidence = hit.evidence
    assert evidence["lifetime"] == "5-minute" and evidence["cached_share_now"] == 0
    assert 3900 <= evidence["cacheable_tokens_per_call"] <= 4000 and evidence["median_gap_s"] == 120
    assert evidence["repeats"] == 7 * 720 - 1  # every call but the first repeats the prefix
    assert "cache_control" in hit.change["snippet"] and len(hit.examples) == 3


def test_caching_prices_the_one_hour_lifetime_when_repeats_are_twenty_minutes_apart(
    tenant: Tenant, ingest: Ingest, now: datetime
) -> None:
    events, _ = kb_answer(now - timedelta(days=DAYS))
    sparse = [e for i, e in enumerate(events) if i % 10 == 0]  # every 20 minutes
    ingest(sparse)
    detect_project(project=tenant.project, now=now)
    hit = _found(tenant)[("kb-answer", Kind.CACHING)]
    assert hit.evidence["lifetime"] == "1-hour" and '"ttl": "1h"' in hit.change["snippet"]
    # 503 calls; each repeat reads 4,000 tokens at $0.30 instead of $3 per 1M; one 1-hour write at $6.
    expected = (503 - 1) * 4000 * 2.7e-6 - 4000 * 3e-6
    assert abs(hit.monthly_nano / 1e9 - expected / DAYS * 365.25 / 12) < 0.1 * expected / DAYS * 30.44


def test_batch_tier_on_bursts_not_on_streams_nor_user_facing_nor_steady_traffic(
    tenant: Tenant, ingest: Ingest, planted: Planted, now: datetime
) -> None:
    events, plants = planted
    night = only(events, "nightly-enrich")
    streamed = [e | {"endpoint": "streamed-enrich", "event_id": e["event_id"][:-4] + "0000", "ttft_ms": 200}
                for e in night]  # fmt: skip
    ingest(night + streamed + only(events, "clean-faq"))
    detect_project(project=tenant.project, now=now)
    found = _found(tenant)
    assert list(found) == [("nightly-enrich", Kind.TIER)]
    _within(found[("nightly-enrich", Kind.TIER)], plants["nightly-enrich"])
    assert found[("nightly-enrich", Kind.TIER)].evidence["burst_share"] > 0.9
    # Marked user-facing: never batch (and the open finding is dismissed with the reason).
    endpoint_latency_set(
        project=tenant.project, endpoint="nightly-enrich", latency=Latency.USER_FACING, actor=None
    )
    detect_project(project=tenant.project, now=now)
    assert _found(tenant)[("nightly-enrich", Kind.TIER)].status == "dismissed"


def test_batch_tier_for_steady_background_work_only_when_marked(
    tenant: Tenant, ingest: Ingest, now: datetime
) -> None:
    events, plant = nightly_enrich(now - timedelta(days=DAYS))
    step = timedelta(days=DAYS) / len(events)
    steady = [
        e | {"ts": int((now - timedelta(days=DAYS) + i * step).timestamp() * 1000)}
        for i, e in enumerate(events)
    ]
    ingest(steady)
    detect_project(project=tenant.project, now=now)
    assert not _found(tenant)  # 4,200 calls spread evenly: nothing says it can wait
    endpoint_latency_set(
        project=tenant.project, endpoint="nightly-enrich", latency=Latency.BACKGROUND, actor=None
    )
    detect_project(project=tenant.project, now=now)
    hit = _found(tenant)[("nightly-enrich", Kind.TIER)]
    _within(hit, plant)
    assert hit.evidence["why"] == "marked latency-insensitive"


def test_output_waste_on_its_plant_and_not_on_ordinary_answers(
    tenant: Tenant, ingest: Ingest, planted: Planted, now: datetime
) -> None:
    events, plants = planted
    ingest(only(events, "product-copy", "clean-faq"))
    detect_project(project=tenant.project, now=now)
    found = _found(tenant)
    assert list(found) == [("product-copy", Kind.OUTPUT)]
    hit = found[("product-copy", Kind.OUTPUT)]
    _within(hit, plants["product-copy"])
    assert hit.evidence["retried"] == hit.evidence["cut"] > 90 and hit.evidence["long_answers"] > 180
    assert any("set max_tokens to" in step for step in hit.change["steps"])


def test_context_growth_on_its_plant_and_not_on_conversations_that_do_not_grow(
    tenant: Tenant, ingest: Ingest, planted: Planted, now: datetime
) -> None:
    events, plants = planted
    chat = only(events, "support-chat")
    # The same calls as conversations whose prompts do not grow (a daily thread per user, as the demo's).
    flat = [e | {"endpoint": "flat-chat", "event_id": e["event_id"][:-4] + "1111",
                 "input_tokens": 900 + (hash(e["event_id"]) % 700)} for e in chat]  # fmt: skip
    ingest(chat + flat + only(events, "clean-faq"))
    detect_project(project=tenant.project, now=now)
    found = _found(tenant)
    assert list(found) == [("support-chat", Kind.CONTEXT)]
    hit = found[("support-chat", Kind.CONTEXT)]
    _within(hit, plants["support-chat"])
    assert (
        0.7 < hit.evidence["history_share_of_spend"] < 0.8 and hit.evidence["turn_history_passes_budget"] == 4
    )


def test_superseded_model_on_its_plant_and_not_on_current_models(
    tenant: Tenant, ingest: Ingest, planted: Planted, now: datetime
) -> None:
    events, plants = planted
    ingest(only(events, "legacy-summary", "clean-faq"))
    detect_project(project=tenant.project, now=now)
    found = _found(tenant)
    assert list(found) == [("legacy-summary", Kind.MODEL)]
    hit = found[("legacy-summary", Kind.MODEL)]
    _within(hit, plants["legacy-summary"])
    assert hit.subject == "openai/gpt-4o" and hit.evidence["successor"] == "openai/gpt-4.1"


def test_a_retired_model_is_reported_even_when_moving_saves_nothing(
    tenant: Tenant, ingest: Ingest, now: datetime
) -> None:
    calls = [{"event_id": f"00000000-0000-4000-8000-{i:012d}", "ts": int((now - timedelta(hours=i + 1)).timestamp() * 1000),
              "endpoint": "old-bot", "provider": "groq", "model": "gemma-7b-it", "input_tokens": 300,
              "output_tokens": 50} for i in range(48)]  # fmt: skip
    ingest(calls)
    detect_project(project=tenant.project, now=now)
    hit = _found(tenant)[("old-bot", Kind.MODEL)]
    assert hit.monthly_nano == 0 and "deprecated since 2024-12-18" in hit.title
    assert hit.evidence["successor"] == "" and "pick a current model" in hit.change["steps"][0]
