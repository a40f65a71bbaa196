"""One usage record, one cost function: every provider shape through every source, to the nano-dollar.

Each shape is one real call as its provider reports it, hand-costed from the provider's published
rules at the seed file's prices. Each source is a way Switchyard hears about that call:

- `sdk`: the SDK's adapter reads the real client library's response object (built from the
  provider's JSON) into an event, posted to /v1/ingest;
- `estimate:<format>`: POST /v1/prices/estimate with the provider's own usage object;
- `estimate:switchyard`: the same estimate with the event's fields;
- `otel:current`: a span under the current GenAI conventions (input counts the whole prompt, output
  counts reasoning, `gen_ai.provider.name`), posted as OTLP/JSON;
- `otel:older`: `gen_ai.system`, `prompt_tokens` / `completion_tokens`, the underscore cache names;
- `openllmetry`: the attributes OpenLLMetry's instrumentation of that client sets.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from switchyard._integrations._anthropic import MessagesAdapter
from switchyard._integrations._gemini import GenerateContentAdapter
from switchyard._integrations._openai import ChatAdapter, ResponsesAdapter

from apps.pricing.catalogue import seed_prices_load
from apps.pricing.selectors import price_book_invalidate
from tests.ingest.events import post_batch, stored_call
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db


@dataclass
class Shape:
    name: str
    provider: str
    model: str
    usage_format: str
    usage: dict[str, Any]  # as the provider's API returns it
    response: Callable[[], Any]  # the client library's response object
    adapter: Any
    otel: dict[str, dict[str, Any]]  # source → span attributes
    expected: int  # nano-USD, worked by hand below


def _chat_completion(usage: dict[str, Any], model: str) -> Any:
    from openai.types.chat import ChatCompletion

    message = {"role": "assistant", "content": "ok"}
    return ChatCompletion.model_validate(
        {
            "id": "c1",
            "object": "chat.completion",
            "created": 1,
            "model": model,
            "service_tier": "default",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": usage,
        }
    )


OPENAI_CHAT = {
    "prompt_tokens": 2006,
    "completion_tokens": 300,
    "total_tokens": 2306,
    "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0},
}
OPENAI_RESPONSES = {
    "input_tokens": 1200,
    "input_tokens_details": {"cached_tokens": 1024, "cache_write_tokens": 0},
    "output_tokens": 2500,
    "output_tokens_details": {"reasoning_tokens": 2000},
    "total_tokens": 3700,
}
ANTHROPIC = {
    "input_tokens": 50,
    "cache_creation_input_tokens": 3000,
    "cache_read_input_tokens": 10000,
    "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000},
    "output_tokens": 400,
    "service_tier": "standard",
}
ANTHROPIC_5M = {
    **ANTHROPIC,
    "cache_creation": {"ephemeral_5m_input_tokens": 3000, "ephemeral_1h_input_tokens": 0},
}
GEMINI = {
    "promptTokenCount": 1500,
    "candidatesTokenCount": 600,
    "thoughtsTokenCount": 1200,
    "totalTokenCount": 3300,
}
XAI = {
    "prompt_tokens": 10120,
    "completion_tokens": 1499,
    "total_tokens": 14428,
    "prompt_tokens_details": {"cached_tokens": 128},
    "completion_tokens_details": {"reasoning_tokens": 2809},
}


def _responses(model: str) -> Any:
    from openai.types.responses import Response

    return Response.model_validate(
        {
            "id": "r1",
            "object": "response",
            "created_at": 1,
            "model": model,
            "status": "completed",
            "output": [],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": OPENAI_RESPONSES,
        }
    )


def _message(model: str, usage: dict[str, Any]) -> Any:
    from anthropic.types import Message

    return Message.model_validate(
        {
            "id": "m1",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": usage,
        }
    )


OTEL_ANTHROPIC = {
    "otel:current": {
        "gen_ai.provider.name": "anthropic",
        "gen_ai.usage.input_tokens": 13050,
        "gen_ai.usage.output_tokens": 400,
        "gen_ai.usage.cache_read.input_tokens": 10000,
        "gen_ai.usage.cache_creation.input_tokens": 3000,
    },
    "otel:older": {
        "gen_ai.system": "anthropic",
        "gen_ai.usage.prompt_tokens": 13050,
        "gen_ai.usage.completion_tokens": 400,
        "gen_ai.usage.cache_read_input_tokens": 10000,
        "gen_ai.usage.cache_creation_input_tokens": 3000,
    },
    "openllmetry": {
        "gen_ai.system": "Anthropic",
        "gen_ai.usage.input_tokens": 13050,
        "gen_ai.usage.output_tokens": 400,
        "gen_ai.usage.cache_read.input_tokens": 10000,
        "gen_ai.usage.cache_creation.input_tokens": 3000,
        "llm.usage.total_tokens": 13450,
    },
}


def _gemini(model: str) -> Any:
    from google.genai import types

    return types.GenerateContentResponse.model_validate({"usageMetadata": GEMINI, "modelVersion": model})


SHAPES = [
    # gpt-4o ($2.50 in, $1.25 cached, $10 out): 86 x 2.50 = 215,000; 1920 x 1.25 = 2,400,000;
    # 300 x 10 = 3,000,000.
    Shape(
        "openai chat, cached prompt",
        "openai",
        "gpt-4o",
        "openai_chat",
        OPENAI_CHAT,
        lambda: _chat_completion(OPENAI_CHAT, "gpt-4o-2024-08-06"),
        ChatAdapter(),
        {
            "otel:current": {
                "gen_ai.provider.name": "openai",
                "gen_ai.usage.input_tokens": 2006,
                "gen_ai.usage.output_tokens": 300,
                "gen_ai.usage.cache_read.input_tokens": 1920,
            },
            "otel:older": {
                "gen_ai.system": "openai",
                "gen_ai.usage.prompt_tokens": 2006,
                "gen_ai.usage.completion_tokens": 300,
                "gen_ai.usage.cache_read_input_tokens": 1920,
            },
            "openllmetry": {
                "gen_ai.provider.name": "openai",
                "gen_ai.usage.input_tokens": 2006,
                "gen_ai.usage.output_tokens": 300,
                "gen_ai.usage.cache_read.input_tokens": 1920,
                "gen_ai.usage.total_tokens": 2306,
                "openai.response.service_tier": "default",
            },
        },
        5_615_000,
    ),
    # gpt-4o Responses with reasoning: 176 x 2.50 = 440,000; 1024 x 1.25 = 1,280,000; 2500 output
    # (2000 of it reasoning, billed as output) x 10 = 25,000,000.
    Shape(
        "openai responses, reasoning",
        "openai",
        "gpt-4o",
        "openai_responses",
        OPENAI_RESPONSES,
        lambda: _responses("gpt-4o-2024-08-06"),
        ResponsesAdapter(),
        {
            "otel:current": {
                "gen_ai.provider.name": "openai",
                "gen_ai.usage.input_tokens": 1200,
                "gen_ai.usage.output_tokens": 2500,
                "gen_ai.usage.cache_read.input_tokens": 1024,
                "gen_ai.usage.reasoning.output_tokens": 2000,
            },
            "otel:older": {
                "gen_ai.system": "openai",
                "gen_ai.usage.prompt_tokens": 1200,
                "gen_ai.usage.completion_tokens": 2500,
                "gen_ai.usage.cache_read_input_tokens": 1024,
            },
            "openllmetry": {
                "gen_ai.provider.name": "openai",
                "gen_ai.usage.input_tokens": 1200,
                "gen_ai.usage.output_tokens": 2500,
                "gen_ai.usage.cache_read.input_tokens": 1024,
                "gen_ai.usage.reasoning_tokens": 2000,
                "gen_ai.usage.total_tokens": 3700,
            },
        },
        26_720_000,
    ),
    # claude-sonnet-4-5 ($3 in, $0.30 read, $3.75 5-minute write, $15 out): 50 x 3 = 150,000;
    # 10,000 x 0.30 = 3,000,000; 3000 x 3.75 = 11,250,000; 400 x 15 = 6,000,000.
    Shape(
        "anthropic, cache reads and 5-minute writes",
        "anthropic",
        "claude-sonnet-4-5",
        "anthropic",
        ANTHROPIC_5M,
        lambda: _message("claude-sonnet-4-5-20250929", ANTHROPIC_5M),
        MessagesAdapter(),
        OTEL_ANTHROPIC,
        20_400_000,
    ),
    # The same with 2000 of the writes 1-hour ($6): 1000 x 3.75 = 3,750,000; 2000 x 6 = 12,000,000, so
    # 24,900,000. Span attributes carry no TTL (no convention has one): there every write is billed
    # at the 5-minute rate, 20,400,000 (README, Prices and cost).
    Shape(
        "anthropic, 5-minute + 1-hour writes",
        "anthropic",
        "claude-sonnet-4-5",
        "anthropic",
        ANTHROPIC,
        lambda: _message("claude-sonnet-4-5-20250929", ANTHROPIC),
        MessagesAdapter(),
        OTEL_ANTHROPIC,
        24_900_000,
    ),
    # gemini-2.5-flash ($0.30 in, $2.50 out, thinking as output): 1500 x 0.30 = 450,000; 600 + 1200
    # thoughts = 1800 x 2.50 = 4,500,000.
    Shape(
        "gemini, thinking",
        "google",
        "gemini-2.5-flash",
        "gemini",
        GEMINI,
        lambda: _gemini("gemini-2.5-flash"),
        GenerateContentAdapter(),
        {
            "otel:current": {
                "gen_ai.provider.name": "gcp.gemini",
                "gen_ai.usage.input_tokens": 1500,
                "gen_ai.usage.output_tokens": 1800,
                "gen_ai.usage.reasoning.output_tokens": 1200,
            },
            "otel:older": {
                "gen_ai.system": "gemini",
                "gen_ai.usage.prompt_tokens": 1500,
                "gen_ai.usage.completion_tokens": 1800,
            },
            "openllmetry": {
                "gen_ai.system": "gcp.gen_ai",
                "gen_ai.usage.prompt_tokens": 1500,
                "gen_ai.usage.completion_tokens": 600,
                "llm.usage.total_tokens": 3300,
            },
        },
        4_950_000,
    ),
    # grok-4.20 ($1.25 in, $0.20 cached, $2.50 out; completion_tokens exclude reasoning): 9992 x 1.25 =
    # 12,490,000; 128 x 0.20 = 25,600; (1499 + 2809) x 2.50 = 10,770,000 — what xAI bills.
    Shape(
        "xai, reasoning beside completion",
        "xai",
        "grok-4.20",
        "openai_chat",
        XAI,
        lambda: _chat_completion(XAI, "grok-4.20-0309"),
        ChatAdapter(),
        {
            "otel:current": {
                "gen_ai.provider.name": "x_ai",
                "gen_ai.usage.input_tokens": 10120,
                "gen_ai.usage.output_tokens": 4308,
                "gen_ai.usage.cache_read.input_tokens": 128,
                "gen_ai.usage.reasoning.output_tokens": 2809,
            },
            "otel:older": {
                "gen_ai.system": "xai",
                "gen_ai.usage.prompt_tokens": 10120,
                "gen_ai.usage.completion_tokens": 4308,
                "gen_ai.usage.cache_read_input_tokens": 128,
            },
            "openllmetry": {
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "grok-4.20",
                "gen_ai.usage.input_tokens": 10120,
                "gen_ai.usage.output_tokens": 1499,
                "gen_ai.usage.cache_read.input_tokens": 128,
                "gen_ai.usage.reasoning_tokens": 2809,
                "gen_ai.usage.total_tokens": 14428,
            },
        },
        23_285_600,
    ),
]
NO_TTL = 20_400_000  # the 1-hour shape through span attributes: every write at the 5-minute rate


def _span(attrs: dict[str, Any], model: str, endpoint: str) -> dict[str, Any]:
    def value(v: Any) -> dict[str, Any]:
        return {"intValue": str(v)} if isinstance(v, int) else {"stringValue": str(v)}

    attrs = {"gen_ai.request.model": model, "switchyard.endpoint": endpoint, **attrs}
    now = time.time_ns()
    return {
        "traceId": uuid.uuid4().hex,
        "spanId": uuid.uuid4().hex[:16],
        "name": "chat",
        "startTimeUnixNano": str(now - 1_000_000_000),
        "endTimeUnixNano": str(now),
        "attributes": [{"key": k, "value": value(v)} for k, v in attrs.items()],
    }


def _stored(tenant: Tenant, endpoint: str) -> int | None:
    from apps.warehouse.client import ProjectScope

    sql = "SELECT cost_nano_usd FROM llm_calls FINAL WHERE project_id = {project_id:UInt64} AND endpoint = {e:String}"
    return ProjectScope(tenant.project.pk).query(sql, {"e": endpoint}, feature="test").scalar()


def test_every_shape_through_every_source_costs_the_same(tenant: Tenant) -> None:
    seed_prices_load()
    price_book_invalidate()
    web, ingest = tenant.web(), tenant.api("ingest")
    got: dict[tuple[str, str], int | None] = {}
    want: dict[tuple[str, str], int] = {}
    spans = []
    for i, shape in enumerate(SHAPES):
        fields = shape.adapter.response_fields(shape.response())
        event = {
            "event_id": str(uuid.uuid4()),
            "ts": int(time.time() * 1000),
            "endpoint": f"sdk-{i}",
            "provider": shape.provider,
            "model": shape.model,
            **fields,
        }
        post_batch(ingest, [event])
        got[(shape.name, "sdk")] = stored_call(tenant.project.pk, event["event_id"])["cost_nano_usd"]
        for fmt, usage in ((shape.usage_format, shape.usage), ("switchyard", _event_usage(event))):
            body = {"provider": shape.provider, "model": shape.model, "usage_format": fmt, "usage": usage}
            answer = web.post("/v1/prices/estimate", data=json.dumps(body), content_type="application/json")
            got[(shape.name, f"estimate:{fmt}")] = answer.json().get("total_nano_usd")
        for source, attrs in shape.otel.items():
            spans.append(_span(attrs, shape.model, f"{source}-{i}"))
        for source in ("sdk", f"estimate:{shape.usage_format}", "estimate:switchyard", *shape.otel):
            no_ttl = source.startswith(("otel", "openllmetry")) and "1-hour" in shape.name
            want[(shape.name, source)] = NO_TTL if no_ttl else shape.expected
    body = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": spans}]}]}
    assert (
        ingest.post("/v1/otlp/v1/traces", data=json.dumps(body), content_type="application/json").status_code
        == 200
    )
    for i, shape in enumerate(SHAPES):
        for source in shape.otel:
            got[(shape.name, source)] = _stored(tenant, f"{source}-{i}")
    assert got == want


def _event_usage(event: dict[str, Any]) -> dict[str, Any]:
    names = (
        "input_tokens",
        "output_tokens",
        "cached_input_tokens",
        "cache_write_tokens",
        "cache_write_1h_tokens",
        "reasoning_tokens",
        "input_includes_cached",
        "output_includes_reasoning",
        "service_tier",
    )
    return {k: event[k] for k in names if k in event}
