"""Provider adapters over the real HTTP path, against local servers speaking each wire format."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from apps.replay.providers.anthropic import AnthropicAdapter, parse_anthropic
from apps.replay.providers.base import ChatRequest, Completion, Message, ProviderError, ToolCall, ToolSpec
from apps.replay.providers.gemini import GeminiAdapter, parse_gemini
from apps.replay.providers.openai_compat import OpenAICompatAdapter, parse_openai
from apps.replay.providers.remote import HttpAdapter, retry_after_seconds
from tests.replay.fakes import FakeProvider

ADAPTERS: dict[str, type[HttpAdapter]] = {
    "openai": OpenAICompatAdapter,
    "anthropic": AnthropicAdapter,
    "gemini": GeminiAdapter,
}
WEATHER = ToolSpec(
    "get_weather", "Weather for a city", {"type": "object", "properties": {"city": {"type": "string"}}}
)
REQUEST = ChatRequest(
    system="You are terse.",
    messages=(
        Message("user", "Weather in Paris?"),
        Message("assistant", "", (ToolCall("call_1", "get_weather", '{"city": "Paris"}'),)),
        Message("tool", '{"temp_c": 21}', tool_call_id="call_1", name="get_weather"),
        Message("user", "Answer as JSON."),
    ),
    tools=(WEATHER,),
    tool_choice="auto",
    json_mode=True,
    max_tokens=200,
    temperature=0.2,
)


def _complete(
    wire: str, fake: FakeProvider, request: ChatRequest = REQUEST, timeout: float = 5.0
) -> Completion:
    async def go() -> Completion:
        adapter = ADAPTERS[wire](
            provider=wire, base_url=fake.base_url, api_key="sk-secret-key", timeout_s=timeout
        )
        try:
            return await adapter.complete(request, model="m-1")
        finally:
            await adapter.aclose()

    return asyncio.run(go())


def _error(wire: str, fake: FakeProvider, timeout: float = 5.0) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        _complete(wire, fake, timeout=timeout)
    return info.value


def test_openai_wire_format_round_trip() -> None:
    with FakeProvider("openai", responder=lambda p, m, b: '{"temp_c": 21}') as fake:
        completion = _complete("openai", fake)
    sent = fake.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["authorization"] == "Bearer sk-secret-key"
    body = sent["body"]
    assert body["messages"][0] == {"role": "system", "content": "You are terse."}
    assert body["messages"][2]["tool_calls"][0]["function"] == {
        "name": "get_weather",
        "arguments": '{"city": "Paris"}',
    }
    assert body["messages"][3] == {"role": "tool", "tool_call_id": "call_1", "content": '{"temp_c": 21}'}
    assert body["tools"][0]["function"]["name"] == "get_weather" and body["tool_choice"] == "auto"
    assert body["response_format"] == {"type": "json_object"} and body["max_tokens"] == 200
    assert completion.text == '{"temp_c": 21}' and completion.usage is not None
    assert completion.usage.output_tokens == 4 and completion.usage.input_tokens > 0


def test_anthropic_wire_format_round_trip() -> None:
    with FakeProvider("anthropic", responder=lambda p, m, b: "21 C") as fake:
        completion = _complete("anthropic", fake)
    sent = fake.requests[0]
    assert sent["path"] == "/v1/messages"
    assert sent["headers"]["x-api-key"] == "sk-secret-key" and sent["headers"]["anthropic-version"]
    body = sent["body"]
    assert body["system"].startswith("You are terse.") and "JSON" in body["system"]  # no JSON mode: told so
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][1]["content"][0] == {
        "type": "tool_use",
        "id": "call_1",
        "name": "get_weather",
        "input": {"city": "Paris"},
    }
    tool_turn = body["messages"][2]["content"]  # the tool result and the next question share a turn
    assert tool_turn[0]["type"] == "tool_result" and tool_turn[0]["tool_use_id"] == "call_1"
    assert tool_turn[1] == {"type": "text", "text": "Answer as JSON."}
    assert body["tools"][0]["input_schema"]["properties"]["city"] == {"type": "string"}
    assert body["tool_choice"] == {"type": "auto"} and body["max_tokens"] == 200
    assert completion.text == "21 C" and completion.usage is not None and completion.usage.output_tokens == 1


def test_gemini_wire_format_round_trip() -> None:
    with FakeProvider("gemini", responder=lambda p, m, b: "sunny") as fake:
        completion = _complete("gemini", fake)
    sent = fake.requests[0]
    assert sent["path"] == "/v1beta/models/m-1:generateContent"
    assert sent["headers"]["x-goog-api-key"] == "sk-secret-key"
    body = sent["body"]
    assert body["systemInstruction"] == {"parts": [{"text": "You are terse."}]}
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["contents"][1]["parts"][0] == {
        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}}
    }
    assert body["contents"][2]["parts"][0]["functionResponse"] == {
        "name": "get_weather",
        "response": {"temp_c": 21},
    }
    assert body["generationConfig"]["responseMimeType"] == "application/json"
    assert body["tools"][0]["functionDeclarations"][0]["name"] == "get_weather"
    assert completion.text == "sunny" and completion.usage is not None and completion.usage.output_tokens == 2


@pytest.mark.parametrize("wire", ["openai", "anthropic", "gemini"])
def test_rate_limit_carries_retry_after(wire: str) -> None:
    with FakeProvider(wire) as fake:
        fake.script.append("429:7")
        err = _error(wire, fake)
        assert err.kind == "rate_limited" and err.retryable and err.retry_after == 7.0 and err.status == 429
        assert _complete(wire, fake).text == "answer from m-1"  # the connection is still usable


@pytest.mark.parametrize("wire", ["openai", "anthropic", "gemini"])
def test_timeout_is_retryable_and_maybe_billed(wire: str) -> None:
    with FakeProvider(wire) as fake:
        fake.script.append("timeout")
        err = _error(wire, fake, timeout=0.3)
    assert err.kind == "timeout" and err.retryable and err.maybe_billed


@pytest.mark.parametrize("wire", ["openai", "anthropic", "gemini"])
def test_malformed_reply_is_reported(wire: str) -> None:
    with FakeProvider(wire) as fake:
        fake.script.append("malformed")
        err = _error(wire, fake)
    assert err.kind == "malformed" and "malformed reply" in err.message


@pytest.mark.parametrize(
    ("step", "kind", "fatal"),
    [
        ("401", "auth", True),
        ("404", "not_found", True),
        ("500", "server", False),
        ("400", "bad_request", False),
    ],
)
def test_http_errors_map_to_kinds(step: str, kind: str, fatal: bool) -> None:
    with FakeProvider("openai") as fake:
        fake.script.append(step)
        err = _error("openai", fake)
    assert err.kind == kind and err.fatal is fatal and f"HTTP {step}" in err.message


def test_missing_usage_is_none_not_zero() -> None:
    with FakeProvider("openai") as fake:
        fake.script.append("no-usage")
        completion = _complete("openai", fake)
    assert completion.usage is None and completion.text


def test_connection_refused_is_a_connection_error() -> None:
    with FakeProvider("openai") as fake:
        url = fake.base_url
    adapter = OpenAICompatAdapter(provider="openai", base_url=url, api_key="", timeout_s=2)
    with pytest.raises(ProviderError) as info:
        asyncio.run(adapter.complete(REQUEST, model="m"))
    assert info.value.kind == "connection" and not info.value.maybe_billed


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past
    assert retry_after_seconds({}) is None


def test_tool_call_replies_parse_in_every_format() -> None:
    openai: dict[str, Any] = {
        "choices": [
            {
                "message": {
                    "content": None,
                    "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": '{"a": 1}'}}],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 2}},
    }
    anthropic: dict[str, Any] = {
        "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 5, "output_tokens": 3, "cache_read_input_tokens": 2},
    }
    gemini: dict[str, Any] = {
        "candidates": [
            {
                "content": {"parts": [{"functionCall": {"name": "f", "args": {"a": 1}}}]},
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 3, "thoughtsTokenCount": 4},
    }
    for parsed in (parse_openai(openai, 1), parse_anthropic(anthropic, 1), parse_gemini(gemini, 1)):
        assert parsed.answer() == '{"arguments": {"a": 1}, "name": "f"}'
    assert parse_openai(openai, 1).usage.cached_input_tokens == 2  # type: ignore[union-attr]
    assert parse_anthropic(anthropic, 1).usage.cached_input_tokens == 2  # type: ignore[union-attr]
    assert parse_gemini(gemini, 1).usage.reasoning_tokens == 4  # type: ignore[union-attr]
    blocked = parse_gemini({"promptFeedback": {"blockReason": "SAFETY"}}, 1)
    assert blocked.refused and blocked.text == ""
