"""The SDK against the real Switchyard server: real `openai` and `anthropic` clients call local fake
providers, the SDK wraps them, and its telemetry goes to the live ingest endpoint into ClickHouse."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from apps.pricing.models import LlmModel, Price, Provider
from apps.pricing.selectors import price_book_invalidate
from apps.warehouse.client import ProjectScope
from tests.fakes.openai_server import fake_openai
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def priced(transactional_db: None) -> None:
    from datetime import UTC, datetime

    provider = Provider.objects.create(
        slug="openai", name="OpenAI", input_includes_cached=True, output_includes_reasoning=True
    )
    model = LlmModel.objects.create(provider=provider, name="gpt-4o-mini")
    Price.objects.create(
        model=model,
        effective_from=datetime(2024, 1, 1, tzinfo=UTC),
        input=Decimal("0.00000015"),
        output=Decimal("0.0000006"),
        cached_input=Decimal("0.000000075"),
    )
    price_book_invalidate()


@pytest.fixture
def sdk(live_server: Any, tenant: Tenant, tmp_path: Any) -> Iterator[Any]:
    import switchyard

    client = switchyard.init(
        api_key=tenant.ingest_key,
        host=live_server.url,
        enable_routing=False,
        flush_interval=0.1,
        config_cache_dir=False,
        spool_dir=tmp_path / "spool",
    )
    yield client
    switchyard.shutdown(5)


def _calls(project_id: int) -> list[dict[str, Any]]:
    sql = """SELECT endpoint, provider, model, input_tokens, output_tokens, cached_input_tokens, cost_nano_usd,
                    conversation_id, status, payload_captured
             FROM llm_calls FINAL WHERE project_id = {project_id:UInt64} ORDER BY ts"""
    return ProjectScope(project_id).query(sql, feature="test").dicts()


def test_wrapped_openai_calls_reach_clickhouse_with_exact_cost(
    sdk: Any, tenant: Tenant, priced: None
) -> None:
    import openai
    import switchyard

    with fake_openai() as provider:
        client = switchyard.wrap(openai.OpenAI(base_url=provider.base_url, api_key="sk-test"))
        with switchyard.endpoint("support-reply"):
            reply = client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "Where is my order?"}],
                switchyard={"conversation_id": "ticket-42"},
            )
            stream = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Stream it"}], stream=True
            )
            streamed = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert (
        reply.choices[0].message.content == "answer from gpt-4o-mini"
        and streamed == "answer from gpt-4o-mini"
    )
    assert provider.requests[1]["body"]["stream_options"] == {"include_usage": True}
    assert sdk.flush(10)
    calls = _calls(tenant.project.pk)
    assert len(calls) == 2
    first = calls[0]
    assert (first["endpoint"], first["provider"], first["model"]) == (
        "support-reply",
        "openai",
        "gpt-4o-mini",
    )
    assert (first["input_tokens"], first["output_tokens"], first["cached_input_tokens"]) == (42, 7, 10)
    # 32 fresh input × $0.15/M + 10 cached × $0.075/M + 7 output × $0.60/M = 4,800 + 750 + 4,200 nano-USD
    assert first["cost_nano_usd"] == 9_750 and first["conversation_id"] == "ticket-42"
    assert calls[1]["output_tokens"] == 7 and calls[1]["input_tokens"] == 42


def test_rejected_events_are_dropped_with_a_reason_not_retried(sdk: Any, tenant: Tenant) -> None:
    import switchyard

    with switchyard.track(provider="openai", model="x" * 300, endpoint="bad") as call:
        call.set_usage(input_tokens=1, output_tokens=1)
    with switchyard.track(provider="openai", model="gpt-4o-mini", endpoint="good") as call:
        call.set_usage(input_tokens=1, output_tokens=1)
    assert sdk.flush(10)
    assert [c["endpoint"] for c in _calls(tenant.project.pk)] == ["good"]
    stats = sdk.stats()
    assert stats.dropped_by_reason == {"rejected:invalid_field": 1} and stats.sent == 1 and stats.retries == 0


def test_a_wrong_key_never_raises_into_the_app(live_server: Any, tenant: Tenant) -> None:
    import switchyard

    client = switchyard.init(
        api_key="sy_ingest_wrongwrong_" + "x" * 43,
        host=live_server.url,
        enable_routing=False,
        config_cache_dir=False,
    )
    try:
        with switchyard.track(provider="openai", model="gpt-4o-mini", endpoint="e") as call:
            call.set_usage(input_tokens=1, output_tokens=1)
        client.flush(5)
        stats = client.stats()
        assert stats.dropped == 1 and stats.sent == 0, stats
    finally:
        switchyard.shutdown(2)
    assert _calls(tenant.project.pk) == []
