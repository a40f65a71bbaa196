"""The service tier a call was served at, read by the SDK from real client libraries' responses,
and Batch API results recorded at the batch tier (local fakes speak each provider's wire format)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import switchyard
from sy_fake_providers import ProviderState
from sy_fake_switchyard import SwitchyardState, validate_event

MSGS = [{"role": "user", "content": "hello there"}]


def recorded(sink: SwitchyardState, count: int) -> list[dict[str, Any]]:
    assert switchyard.flush(5.0)
    found = sink.wait_for_events(count)
    assert len(found) == count, found
    assert all(validate_event(e) is None for e in found)
    return found


@pytest.mark.parametrize(("served", "tier"), [("flex", "flex"), ("priority", "priority"), ("default", "standard")])
def test_openai_chat_and_responses_report_their_tier(
    start_sdk: Callable[..., Any], sink: SwitchyardState, openai_client: Any, openai_peer: ProviderState,
    served: str, tier: str,
) -> None:
    start_sdk()
    openai_peer.tiers["o4-mini"] = served
    client = switchyard.wrap(openai_client)
    client.chat.completions.create(model="o4-mini", messages=MSGS, service_tier=served)
    for _ in client.chat.completions.create(model="o4-mini", messages=MSGS, stream=True):
        pass
    client.responses.create(model="o4-mini", input="hello there")
    events = recorded(sink, 3)
    assert [e.get("service_tier") for e in events] == [tier, tier, tier]


@pytest.mark.parametrize("served", ["priority", "standard"])
def test_anthropic_messages_report_their_tier(
    start_sdk: Callable[..., Any], sink: SwitchyardState, anthropic_client: Any, anthropic_peer: ProviderState,
    served: str,
) -> None:
    start_sdk()
    anthropic_peer.tiers["claude-haiku-4-5"] = served
    client = switchyard.wrap(anthropic_client)
    client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=MSGS)
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=64, messages=MSGS) as stream:
        stream.until_done()
    assert [e.get("service_tier") for e in recorded(sink, 2)] == [served, served]


def test_openai_batch_output_is_recorded_at_the_batch_tier(
    start_sdk: Callable[..., Any], sink: SwitchyardState, openai_client: Any
) -> None:
    start_sdk()
    batch = openai_client.batches.retrieve("batch_abc")
    content = openai_client.files.content(batch.output_file_id)
    assert switchyard.record_batch(content, endpoint="nightly") == 2  # the failed request is skipped
    again = switchyard.record_batch(content.content, endpoint="nightly")  # the same ids: stored once
    first, _ = recorded(sink, 2)
    assert again == 2 and sink.wait_for_events(3, timeout=0.5) == [first, _]
    assert (first["service_tier"], first["endpoint"], first["provider"]) == ("batch", "nightly", "openai")
    assert (first["model"], first["input_tokens"], first["input_includes_cached"]) == ("gpt-4o-mini-2024-07-18", 11, True)
    assert first["metadata"]["batch.custom_id"] == "request-1"


def test_anthropic_batch_results_are_recorded_at_the_batch_tier(
    start_sdk: Callable[..., Any], sink: SwitchyardState, anthropic_client: Any
) -> None:
    start_sdk()
    results = anthropic_client.messages.batches.results("msgbatch_01")
    assert switchyard.record_batch(results, endpoint="nightly") == 2
    first, second = recorded(sink, 2)
    assert (first["service_tier"], first["provider"], first["model"]) == ("batch", "anthropic", "claude-haiku-4-5-20241022")
    assert (first["input_tokens"], second["input_tokens"], first["input_includes_cached"]) == (100, 200, False)


def test_record_batch_without_init_records_nothing() -> None:
    assert switchyard.record_batch(b'{"custom_id": "x", "response": {"status_code": 200, "body": {}}}') == 0


def test_track_sets_the_service_tier(start_sdk: Callable[..., Any], sink: SwitchyardState) -> None:
    start_sdk()
    with switchyard.track(provider="mistral", model="mistral-large-latest") as call:
        call.set_usage(input_tokens=10, output_tokens=2)
        call.set_service_tier("priority")
    with switchyard.track(provider="openai", model="gpt-4o") as call:
        call.set_service_tier("scale")
    assert [e["service_tier"] for e in recorded(sink, 2)] == ["priority", "standard"]
