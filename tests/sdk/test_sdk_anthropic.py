"""The real ``anthropic`` client, wrapped, against a local fake Messages API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import switchyard
from sy_fake_providers import USAGE, ProviderState
from sy_fake_switchyard import SwitchyardState

anthropic = pytest.importorskip("anthropic")

MODEL = "claude-haiku-4-5"
MSGS = [{"role": "user", "content": "hello there"}]


def events(sink: SwitchyardState, count: int) -> list[dict[str, Any]]:
    assert switchyard.flush(5.0)
    found = sink.wait_for_events(count)
    assert len(found) == count, found
    return found


def assert_anthropic_usage(event: dict[str, Any]) -> None:
    assert event["provider"] == "anthropic"
    assert event["response_model"] == f"{MODEL}-20241022"
    assert event["input_tokens"] == USAGE["input"]
    assert event["output_tokens"] == USAGE["output"]
    assert event["cached_input_tokens"] == USAGE["cached"]
    assert event["cache_write_tokens"] == 5
    assert event["cache_write_1h_tokens"] == 4
    assert event["input_includes_cached"] is False


def test_messages_create(start_sdk: Callable[..., Any], sink: SwitchyardState, anthropic_client: Any) -> None:
    start_sdk()
    client = switchyard.wrap(anthropic_client)
    with switchyard.endpoint("triage"):
        message = client.messages.create(model=MODEL, max_tokens=64, messages=MSGS)
    assert message.content[0].text == f"answer from {MODEL}"
    (event,) = events(sink, 1)
    assert event["endpoint"] == "triage" and event["status"] == "ok"
    assert_anthropic_usage(event)


def test_messages_create_stream(start_sdk: Callable[..., Any], sink: SwitchyardState, anthropic_client: Any) -> None:
    start_sdk()
    client = switchyard.wrap(anthropic_client)
    text = "".join(
        e.delta.text for e in client.messages.create(model=MODEL, max_tokens=64, messages=MSGS, stream=True)
        if e.type == "content_block_delta"
    )
    assert text == f"answer from {MODEL}"
    (event,) = events(sink, 1)
    assert_anthropic_usage(event)
    assert "ttft_ms" in event


def test_messages_stream_helper(start_sdk: Callable[..., Any], sink: SwitchyardState, anthropic_client: Any) -> None:
    start_sdk()
    client = switchyard.wrap(anthropic_client)
    with client.messages.stream(model=MODEL, max_tokens=64, messages=MSGS) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == f"answer from {MODEL}"
    assert final.usage.output_tokens == USAGE["output"]
    (event,) = events(sink, 1)
    assert_anthropic_usage(event)


def test_async_create_stream_and_helper(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                        async_anthropic_client: Any) -> None:
    start_sdk()
    client = switchyard.wrap(async_anthropic_client)

    async def main() -> str:
        await client.messages.create(model=MODEL, max_tokens=64, messages=MSGS)
        stream = await client.messages.create(model=MODEL, max_tokens=64, messages=MSGS, stream=True)
        async for _ in stream:
            pass
        async with client.messages.stream(model=MODEL, max_tokens=64, messages=MSGS) as helper:
            return "".join([t async for t in helper.text_stream])

    assert asyncio.run(main()) == f"answer from {MODEL}"
    for event in events(sink, 3):
        assert_anthropic_usage(event)


def test_refusal_is_recorded_as_filtered(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                         anthropic_peer: ProviderState, anthropic_client: Any) -> None:
    start_sdk()
    anthropic_peer.answers[MODEL] = "REFUSE: no"
    switchyard.wrap(anthropic_client).messages.create(model=MODEL, max_tokens=64, messages=MSGS)
    (event,) = events(sink, 1)
    assert (event["status"], event["error_type"]) == ("filtered", "refusal")


def test_overloaded_error_is_recorded_and_raised(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                                 anthropic_peer: ProviderState, anthropic_client: Any) -> None:
    start_sdk()
    anthropic_peer.failures[MODEL] = [529]
    client = switchyard.wrap(anthropic_client)
    with pytest.raises(anthropic.APIStatusError) as info:
        client.messages.create(model=MODEL, max_tokens=64, messages=MSGS)
    assert info.value.status_code == 529
    (event,) = events(sink, 1)
    assert event["status"] == "error" and event["provider"] == "anthropic"
