"""Building replay test data through the real components: prices, ingested calls, connections."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.test import Client

from apps.pricing.models import LlmModel, Provider
from apps.pricing.selectors import price_book_invalidate
from apps.pricing.services import price_create
from apps.replay.services.connections import connection_save
from apps.replay.services.planning import NANO, CandidateSpec, ReplaySpec
from tests.tenancy import Tenant

# USD per 1M tokens (input, output)
CATALOGUE: dict[tuple[str, str], tuple[str, str]] = {
    ("openai", "gpt-4o"): ("2.50", "10"),
    ("openai", "gpt-4o-mini"): ("0.15", "0.60"),
    ("anthropic", "claude-haiku-4-5"): ("1", "5"),
    ("google", "gemini-2.5-flash"): ("0.30", "2.50"),
    ("together", "llama-3.1-8b"): ("0.18", "0.18"),
}
RULES = {"anthropic": (False, True), "google": (True, False)}


def replay_catalogue() -> dict[tuple[str, str], LlmModel]:
    models: dict[tuple[str, str], LlmModel] = {}
    providers: dict[str, Provider] = {}
    for (provider, name), (inp, out) in CATALOGUE.items():
        if provider not in providers:
            cached, reasoning = RULES.get(provider, (True, True))
            providers[provider] = Provider.objects.create(
                slug=provider,
                name=provider.title(),
                input_includes_cached=cached,
                output_includes_reasoning=reasoning,
            )
        model = LlmModel.objects.create(provider=providers[provider], name=name)
        price_create(
            model=model,
            organization=None,
            actor=None,
            effective_from="2024-01-01",
            prices={"input": inp, "output": out},
            per_exp=6,
        )
        models[(provider, name)] = model
    price_book_invalidate()
    return models


def tokens(text: str) -> int:
    return max(1, math.ceil(len(text.encode("utf-8")) / 4))


def call(
    prompt: str,
    answer: str,
    *,
    endpoint: str = "support-reply",
    provider: str = "openai",
    model: str = "gpt-4o",
    ts: datetime | None = None,
    user_id: str = "",
    event_id: str | None = None,
    system: str = "",
    request_extra: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """One telemetry event as the SDK sends it for an OpenAI Chat Completions call."""
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": prompt}
    ]
    request = {"model": model, "messages": messages, **(request_extra or {})}
    response = {
        "id": "chatcmpl-x",
        "object": "chat.completion",
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": tokens(system + prompt), "completion_tokens": tokens(answer)},
    }
    event = {
        "event_id": event_id or str(uuid.uuid4()),
        "ts": (ts or datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
        "endpoint": endpoint,
        "provider": provider,
        "model": model,
        "input_tokens": tokens(system + prompt),
        "output_tokens": tokens(answer),
        "latency_ms": 900,
        "status": "ok",
        "request": request,
        "response": response,
    }
    if user_id:
        event["user_id"] = user_id
    event.update(fields)
    return event


def ingest(tenant: Tenant, events: Iterable[dict[str, Any]], *, batch: int = 400) -> int:
    """POST the events to /v1/ingest with the tenant's ingest key; returns how many were stored."""
    client = Client(HTTP_AUTHORIZATION=f"Bearer {tenant.ingest_key}")
    items = list(events)
    stored = 0
    for start in range(0, len(items), batch):
        body = json.dumps({"schema_version": 1, "events": items[start : start + batch]})
        response = client.post("/v1/ingest", data=body, content_type="application/json")
        assert response.status_code == 200, response.content
        assert not response.json()["rejected"], response.json()["rejected"][:3]
        stored += response.json()["accepted"]
    return stored


def feedback(tenant: Tenant, items: list[dict[str, Any]]) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {tenant.ingest_key}")
    response = client.post(
        "/v1/feedback", data=json.dumps({"feedback": items}), content_type="application/json"
    )
    assert response.status_code == 200, response.content


def connect(tenant: Tenant, provider: str, api: str, base_url: str, **extra: Any) -> Any:
    return connection_save(
        organization=tenant.organization,
        actor=None,
        provider=provider,
        api=api,
        base_url=base_url,
        api_key=extra.pop("api_key", f"sk-test-{provider}-0123456789"),
        **extra,
    )


def triage_traffic(tenant: Tenant, n: int) -> dict[str, str]:
    """`n` distinct "triage" calls of the last `n` hours, ingested; their prompts and answers."""
    now = datetime.now(UTC)
    answers = {f"Label ticket {i}": "refund" for i in range(n)}
    ingest(
        tenant,
        [
            call(p, a, endpoint="triage", ts=now - timedelta(hours=i + 1))
            for i, (p, a) in enumerate(answers.items())
        ],
    )
    return answers


def triage_spec(n: int) -> ReplaySpec:
    """Replay every one of `n` triage calls on gpt-4o-mini, capped at one dollar."""
    return ReplaySpec(
        endpoint="triage",
        candidates=(CandidateSpec("openai", "gpt-4o-mini"),),
        sample_size=n,
        spend_cap_nano=NANO,
    )
