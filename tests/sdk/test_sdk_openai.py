"""The real ``openai`` client, wrapped, against a local fake OpenAI server and Switchyard sink."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import switchyard
from sy_fake_providers import USAGE, ProviderState
from sy_fake_switchyard import SwitchyardState

openai = pytest.importorskip("openai")

MSGS = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}]


def only_event(sink: SwitchyardState) -> dict[str, Any]:
    assert switchyard.flush(5.0)
    events = sink.wait_for_events(1)
    assert len(events) == 1, events
    return events[0]


def test_chat_completion_is_recorded_with_usage(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                                openai_client: Any) -> None:
    start_sdk()
    client = switchyard.wrap(openai_client)
    with switchyard.endpoint("support-reply"):
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
    assert reply.choices[0].message.content == "answer from gpt-4o-mini"
    event = only_event(sink)
    assert event["endpoint"] == "support-reply"
    assert event["provider"] == "openai"
    assert event["model"] == "gpt-4o-mini"
    assert event["response_model"] == "gpt-4o-mini-2024-07-18"
    assert event["input_tokens"] == USAGE["input"]
    assert event["output_tokens"] == USAGE["output"]
    assert event["cached_input_tokens"] == USAGE["cached"]
    assert event["reasoning_tokens"] == USAGE["reasoning"]
    assert event["input_includes_cached"] is True
    assert event["status"] == "ok"
    assert isinstance(event["latency_ms"], int)
    assert "routing" not in event  # no config: no decision to record
    assert "request" not in event and "response" not in event  # no capture policy: nothing leaves


def test_stream_requests_usage_and_hides_the_extra_chunk(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                                        openai_peer: ProviderState, openai_client: Any) -> None:
    start_sdk()
    client = switchyard.wrap(openai_client)
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True)
    pieces = []
    for chunk in stream:
        pieces.append(chunk.choices[0].delta.content or "")  # the app indexes choices[0] on every chunk
    assert "".join(pieces) == "answer from gpt-4o-mini"
    assert openai_peer.requests[0]["body"]["stream_options"] == {"include_usage": True}
    event = only_event(sink)
    assert event["input_tokens"] == USAGE["input"] and event["output_tokens"] == USAGE["output"]
    assert event["ttft_ms"] <= event["latency_ms"]


def test_stream_keeps_the_apps_own_usage_chunk(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                              openai_client: Any) -> None:
    start_sdk()
    client = switchyard.wrap(openai_client)
    with client.chat.completions.create(
        model="gpt-4o-mini", messages=MSGS, stream=True, stream_options={"include_usage": True}
    ) as stream:
        usage_chunks = [c for c in stream if not c.choices]
    assert len(usage_chunks) == 1 and usage_chunks[0].usage.prompt_tokens == USAGE["input"]
    assert only_event(sink)["output_tokens"] == USAGE["output"]


def test_stream_closed_early_is_still_recorded_once(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                                   openai_client: Any) -> None:
    start_sdk()
    client = switchyard.wrap(openai_client)
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True)
    first = next(iter(stream))
    assert first.choices[0].delta.role == "assistant"
    stream.close()
    stream.close()
    event = only_event(sink)
    assert event["status"] == "ok" and "output_tokens" not in event


def test_responses_api_sync_and_stream(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                       openai_client: Any) -> None:
    start_sdk()
    client = switchyard.wrap(openai_client)
    with switchyard.endpoint("summarise"):
        response = client.responses.create(model="gpt-4.1-mini", input="summarise this")
        assert response.output_text == "answer from gpt-4.1-mini"
        deltas = [e.delta for e in client.responses.create(model="gpt-4.1-mini", input="again", stream=True)
                  if e.type == "response.output_text.delta"]
    assert "".join(deltas) == "answer from gpt-4.1-mini"
    assert switchyard.flush(5.0)
    events = sink.wait_for_events(2)
    assert len(events) == 2
    for event in events:
        assert event["endpoint"] == "summarise"
        assert event["input_tokens"] == USAGE["input"] and event["reasoning_tokens"] == USAGE["reasoning"]
    assert sum("ttft_ms" in e for e in events) == 1


def test_provider_error_is_recorded_and_raised_unchanged(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                                         openai_peer: ProviderState, openai_client: Any) -> None:
    start_sdk()
    client = switchyard.wrap(openai_client)
    openai_peer.failures["gpt-4o-mini"] = [500]
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
    event = only_event(sink)
    assert event["status"] == "error" and event["error_type"] == "InternalServerError"


def test_per_call_keyword_attribution(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                      openai_peer: ProviderState, openai_client: Any) -> None:
    start_sdk()
    client = switchyard.wrap(openai_client)
    with switchyard.attributes(endpoint="outer", tags=["a"], metadata={"tier": "pro"}):
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MSGS,
            switchyard={"endpoint": "inner", "conversation_id": "c1", "user_id": "u1", "tags": ["b"],
                        "metadata": {"ab": "x"}},
        )
    assert "switchyard" not in openai_peer.requests[0]["body"]
    event = only_event(sink)
    assert event["endpoint"] == "inner"
    assert (event["conversation_id"], event["user_id"]) == ("c1", "u1")
    assert event["tags"] == ["a", "b"]
    assert event["metadata"] == {"tier": "pro", "ab": "x"}


def test_async_client_across_concurrent_tasks(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                              async_openai_client: Any) -> None:
    start_sdk()
    client = switchyard.wrap(async_openai_client)

    async def one(name: str) -> None:
        with switchyard.endpoint(name):
            await asyncio.sleep(0)
            await client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
            stream = await client.chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True)
            async with stream:
                async for _ in stream:
                    await asyncio.sleep(0)
            await client.responses.create(model="gpt-4o-mini", input="x")

    async def main() -> None:
        await asyncio.gather(*(one(f"task-{i}") for i in range(4)))

    asyncio.run(main())
    assert switchyard.flush(5.0)
    events = sink.wait_for_events(12)
    by_endpoint: dict[str, int] = {}
    for event in events:
        by_endpoint[event["endpoint"]] = by_endpoint.get(event["endpoint"], 0) + 1
        assert event["output_tokens"] == USAGE["output"]
    assert by_endpoint == {f"task-{i}": 3 for i in range(4)}


def test_wrap_is_idempotent_and_survives_with_options(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                                      openai_client: Any) -> None:
    start_sdk()
    client = switchyard.wrap(switchyard.wrap(openai_client))
    assert isinstance(client, openai.OpenAI)
    client.with_options(timeout=5.0).chat.completions.create(model="gpt-4o-mini", messages=MSGS)
    assert only_event(sink)["model"] == "gpt-4o-mini"


def test_without_init_calls_pass_through(sink: SwitchyardState, openai_peer: ProviderState,
                                         openai_client: Any) -> None:
    switchyard.shutdown()
    client = switchyard.wrap(openai_client)
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=MSGS, switchyard={"endpoint": "x"})
    assert reply.choices[0].message.content == "answer from gpt-4o-mini"
    assert "switchyard" not in openai_peer.requests[0]["body"]
    assert "stream_options" not in openai_peer.requests[0]["body"]
    assert sink.events == {}


def test_parse_and_stream_helpers_are_instrumented(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                                   openai_peer: ProviderState, openai_client: Any) -> None:
    start_sdk()
    client = switchyard.wrap(openai_client)
    with switchyard.endpoint("helpers"):
        parsed = client.chat.completions.parse(model="gpt-4o-mini", messages=MSGS)
        assert parsed.choices[0].message.content == "answer from gpt-4o-mini"
        with client.chat.completions.stream(model="gpt-4o-mini", messages=MSGS) as stream:
            text = "".join(e.delta for e in stream if e.type == "content.delta")
        assert text == "answer from gpt-4o-mini"
        with client.responses.stream(model="gpt-4o-mini", input="hi") as rstream:
            final = rstream.get_final_response()
        assert final.output_text == "answer from gpt-4o-mini"
    assert switchyard.flush(5.0)
    events = sink.wait_for_events(3)
    assert len(events) == 3
    for event in events:
        assert event["endpoint"] == "helpers" and event["output_tokens"] == USAGE["output"]
