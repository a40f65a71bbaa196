"""GET /v1/prices and POST /v1/prices/estimate."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from apps.pricing.models import LlmModel
from apps.pricing.selectors import price_book_invalidate
from apps.pricing.services import custom_model_create, discount_set, price_create
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db


def _estimate(client: Client, body: dict[str, Any]) -> Any:
    return client.post("/v1/prices/estimate", data=json.dumps(body), content_type="application/json")


def test_estimate_an_openai_chat_payload(tenant: Tenant, catalogue: dict[str, LlmModel]) -> None:
    response = _estimate(
        tenant.web(),
        {
            "provider": "openai",
            "model": "gpt-4o-2024-08-06",
            "ts": "2026-11-01T12:00:00Z",
            "usage_format": "openai_chat",
            "usage": {
                "prompt_tokens": 2006,
                "completion_tokens": 300,
                "total_tokens": 2306,
                "prompt_tokens_details": {"cached_tokens": 1920},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    # 86 x $2.50/M + 1920 x $1.25/M + 300 x $10/M = 215,000 + 2,400,000 + 3,000,000 nano
    assert body["total_nano_usd"] == 5_615_000 and body["total_usd"] == "0.005615000"
    assert body["breakdown_nano_usd"]["cached_input"] == 2_400_000
    assert body["resolved"] == {
        "provider": "openai",
        "model": "gpt-4o",
        "model_id": catalogue["gpt-4o"].pk,
        "custom": False,
    }
    assert body["rule"] == {"input_includes_cached": True, "output_includes_reasoning": True}
    assert body["usage"]["cached_input_tokens"] == 1920


def test_estimate_uses_the_price_in_force_at_ts_and_the_tier(
    tenant: Tenant, catalogue: dict[str, LlmModel]
) -> None:
    usage = {"input_tokens": 1_000_000}
    old = _estimate(
        tenant.web(), {"provider": "openai", "model": "gpt-4o", "ts": "2024-06-01T00:00:00Z", "usage": usage}
    )
    batch = _estimate(
        tenant.web(),
        {
            "provider": "openai",
            "model": "gpt-4o",
            "ts": "2026-06-01T00:00:00Z",
            "tier": "batch",
            "usage": usage,
        },
    )
    assert old.json()["total_nano_usd"] == 5_000_000_000
    assert batch.json()["total_nano_usd"] == 1_250_000_000


def test_estimate_with_an_sdk_key_applies_the_organisations_discount(
    tenant: Tenant, catalogue: dict[str, LlmModel]
) -> None:
    discount_set(
        organization=tenant.organization,
        actor=None,
        provider="anthropic",
        percent="20",
        effective_from="2026-01-01",
    )
    price_book_invalidate()
    response = _estimate(
        tenant.api("sdk"),
        {
            "provider": "anthropic",
            "model": "claude-sonnet-4-5",
            "ts": "2026-11-01T00:00:00Z",
            "usage_format": "anthropic",
            "usage": {
                "input_tokens": 50,
                "cache_read_input_tokens": 10000,
                "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000},
                "output_tokens": 400,
            },
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    # 24,900,000 nano list price (see test_cost), 20% off = 19,920,000
    assert body["total_nano_usd"] == 19_920_000 and body["discount_percent"] == "20"
    assert body["rule"]["input_includes_cached"] is False


def test_estimate_refusals(tenant: Tenant, catalogue: dict[str, LlmModel]) -> None:
    client = tenant.web()
    unknown = _estimate(client, {"provider": "openai", "model": "gpt-nope", "usage": {"input_tokens": 1}})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "no_price"
    negative = _estimate(client, {"provider": "openai", "model": "gpt-4o", "usage": {"input_tokens": -5}})
    assert negative.status_code == 400
    assert negative.json()["error"]["message"] == "usage.input_tokens: must be >= 0"
    text = _estimate(client, {"provider": "openai", "model": "gpt-4o", "usage": {"input_tokens": "many"}})
    assert (
        text.status_code == 400
        and "usage.input_tokens: must be a whole number" in text.json()["error"]["message"]
    )
    fmt = _estimate(client, {"model": "gpt-4o", "usage_format": "cohere", "usage": {}})
    assert fmt.status_code == 400 and "usage_format" in fmt.json()["error"]["message"]
    anonymous = Client().post("/v1/prices/estimate", data="{}", content_type="application/json")
    assert anonymous.status_code in (401, 403)


def test_list_resolves_aliases_and_shows_history(tenant: Tenant, catalogue: dict[str, LlmModel]) -> None:
    client = tenant.web()
    current = client.get("/v1/prices", {"model": "gpt-4o-2024-11-20"}).json()
    assert current["resolved"]["model"] == "gpt-4o"
    assert {(p["tier"], p["input"], p["cached_input"], p["output"]) for p in current["prices"]} == {
        ("standard", "2.5", "1.25", "10"),
        ("batch", "1.25", None, "5"),
    }
    history = client.get("/v1/prices", {"model": "openai/gpt-4o", "history": "1"}).json()
    standard = [p for p in history["prices"] if p["tier"] == "standard"]
    assert [(p["input"], p["effective_from"][:10], (p["effective_until"] or "")[:10]) for p in standard] == [
        ("2.5", "2024-10-02", ""),
        ("5", "2024-05-13", "2024-10-02"),
    ]
    assert standard[1]["source"] == "https://openai.com/index/hello-gpt-4o/"
    search = client.get("/v1/prices", {"model": "claude"}).json()
    assert search["resolved"] is None and [p["model"] for p in search["prices"]] == ["claude-sonnet-4-5"]


def test_list_includes_the_callers_own_models_and_prices(
    tenant: Tenant, catalogue: dict[str, LlmModel]
) -> None:
    own = custom_model_create(
        organization=tenant.organization, actor=None, provider="vllm", name="acme-llama"
    )
    price_create(
        model=own,
        organization=tenant.organization,
        actor=None,
        effective_from="2025-01-01",
        prices={"input": "0.1", "output": "0.2"},
        per_exp=6,
    )
    price_book_invalidate()
    body = tenant.api("ingest").get("/v1/prices", {"model": "acme-llama"}).json()
    assert body["resolved"]["model"] == "acme-llama"
    assert [(p["scope"], p["input"], p["output"]) for p in body["prices"]] == [("organization", "0.1", "0.2")]
