"""The real ``google-genai`` client, wrapped, against a local fake Gemini API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import switchyard
from conftest import policy, policy_config
from sy_fake_providers import USAGE, ProviderState
from sy_fake_switchyard import SwitchyardState

genai = pytest.importorskip("google.genai")
types = pytest.importorskip("google.genai.types")

MODEL = "gemini-2.5-flash"


def client_for(peer: ProviderState) -> Any:
    options = types.HttpOptions(base_url=peer.url, api_version="v1beta", retry_options=None)
    return genai.Client(api_key="AIza-test-key", http_options=options)


def events(sink: SwitchyardState, count: int) -> list[dict[str, Any]]:
    assert switchyard.flush(5.0)
    found = sink.wait_for_events(count)
    assert len(found) == count, found
    return found


def assert_gemini_usage(event: dict[str, Any]) -> None:
    assert event["provider"] == "google" and event["model"] == MODEL
    assert event["response_model"] == f"{MODEL}-001"
    assert (event["input_tokens"], event["output_tokens"]) == (USAGE["input"], USAGE["output"])
    assert (event["cached_input_tokens"], event["reasoning_tokens"]) == (USAGE["cached"], USAGE["reasoning"])
    assert event["input_includes_cached"] is True


def test_generate_content_is_recorded_and_captured(
    start_sdk: Callable[..., Any], sink: SwitchyardState, gemini_peer: ProviderState
) -> None:
    sink.publish(policy_config(1, capture={"mode": "always"}))
    start_sdk()
    assert switchyard.wait_for_config(5.0)
    client = switchyard.wrap(client_for(gemini_peer))
    config = types.GenerateContentConfig(
        system_instruction="Be brief.", max_output_tokens=64, temperature=0.2
    )
    with switchyard.endpoint("summaries"):
        reply = client.models.generate_content(model=MODEL, contents="Summarise my week", config=config)
    assert reply.text == f"answer from {MODEL}"
    (event,) = events(sink, 1)
    assert event["endpoint"] == "summaries" and event["status"] == "ok"
    assert_gemini_usage(event)
    assert event["request"]["contents"] == "Summarise my week"
    assert event["request"]["config"]["system_instruction"] == "Be brief."
    response = event["response"]
    assert response["candidates"][0]["content"]["parts"][0]["text"] == f"answer from {MODEL}"
    assert response["model_version"] == f"{MODEL}-001" and "sdk_http_response" not in response


def test_stream_sync_and_async(
    start_sdk: Callable[..., Any], sink: SwitchyardState, gemini_peer: ProviderState
) -> None:
    start_sdk()
    client = switchyard.wrap(client_for(gemini_peer))
    words = [c.text for c in client.models.generate_content_stream(model=MODEL, contents="Stream it")]
    assert "".join(words) == f"answer from {MODEL}" and len(words) == 3

    async def run() -> str:
        reply = await client.aio.models.generate_content(model=MODEL, contents="Async please")
        stream = await client.aio.models.generate_content_stream(model=MODEL, contents="Async stream")
        return str(reply.text) + "|" + "".join([c.text async for c in stream])

    assert asyncio.run(run()) == f"answer from {MODEL}|answer from {MODEL}"
    found = sorted(events(sink, 3), key=lambda e: e["ts"])
    for event in found:
        assert_gemini_usage(event)
    assert sum("ttft_ms" in e for e in found) == 2
    assert [r["path"].rsplit(":", 1)[-1] for r in gemini_peer.requests] == [
        "streamGenerateContent?alt=sse",
        "generateContent",
        "streamGenerateContent?alt=sse",
    ]


def test_safety_block_is_recorded_as_filtered(
    start_sdk: Callable[..., Any], sink: SwitchyardState, gemini_peer: ProviderState
) -> None:
    start_sdk()
    gemini_peer.answers[MODEL] = "REFUSE: no"
    client = switchyard.wrap(client_for(gemini_peer))
    client.models.generate_content(model=MODEL, contents="Something unsafe")
    (event,) = events(sink, 1)
    assert (event["status"], event["error_type"]) == ("filtered", "safety")


def test_a_policy_routes_to_a_registered_gemini_client(
    start_sdk: Callable[..., Any], sink: SwitchyardState, gemini_peer: ProviderState
) -> None:
    cheap = {"provider": "vertex", "model": "gemini-2.5-flash-lite"}
    baseline = {"provider": "google", "model": MODEL}
    sink.publish(policy_config(1, policy("summaries", "override", [cheap], baseline=baseline)))
    start_sdk(config_poll_interval=0.1)
    assert switchyard.wait_for_config(5.0)
    switchyard.register_client("vertex", client_for(gemini_peer))
    client = switchyard.wrap(client_for(gemini_peer))
    reply = client.models.generate_content(
        model=MODEL, contents="Summarise my week", switchyard={"endpoint": "summaries"}
    )
    assert reply.text == "answer from gemini-2.5-flash-lite"
    (event,) = events(sink, 1)
    assert event["routing"]["target"] == "vertex/gemini-2.5-flash-lite" and event["provider"] == "vertex"


def test_unwrapped_calls_pass_through_before_init(gemini_peer: ProviderState) -> None:
    client = switchyard.wrap(client_for(gemini_peer))
    assert client.models.generate_content(model=MODEL, contents="hi").text == f"answer from {MODEL}"
