"""Payload capture follows the pulled policy; secrets and the app's redaction run before sending."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import switchyard
from conftest import policy_config
from sy_fake_switchyard import SwitchyardState

pytest.importorskip("openai")

SECRET_PROMPT = (
    "my key is sk-proj-abcdefghijklmnopqrstuvwxyz123456, header Authorization: Bearer abcdefghijklmnopqrstuvwx1234, "
    "aws AKIAIOSFODNN7EXAMPLE and ghp_" + "a" * 36
)


def capture(mode: str, rate: float | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"mode": mode}
    if rate is not None:
        spec["sample_rate"] = rate
    return policy_config(1, capture=spec)


def call_and_collect(client: Any, sink: SwitchyardState, n: int = 1) -> list[dict[str, Any]]:
    for _ in range(n):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": SECRET_PROMPT}])
    assert switchyard.flush(5.0)
    found = sink.wait_for_events(n)
    assert len(found) == n
    return found


@pytest.mark.parametrize(("mode", "rate", "captured"), [("none", None, False), ("sampled", 0.0, False),
                                                        ("sampled", 1.0, True), ("always", None, True)])
def test_capture_policy_from_config(start_sdk: Callable[..., Any], sink: SwitchyardState, openai_client: Any,
                                    mode: str, rate: float | None, captured: bool) -> None:
    sink.publish(capture(mode, rate))
    start_sdk()
    assert switchyard.wait_for_config(5.0)
    for event in call_and_collect(switchyard.wrap(openai_client), sink, 3):
        assert ("request" in event) is captured
        assert ("response" in event) is captured


def test_no_config_means_no_capture(start_sdk: Callable[..., Any], sink: SwitchyardState, openai_client: Any) -> None:
    start_sdk()
    (event,) = call_and_collect(switchyard.wrap(openai_client), sink)
    assert "request" not in event


def test_local_opt_out_beats_the_config(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                        openai_client: Any) -> None:
    sink.publish(capture("always"))
    start_sdk(capture_payloads=False)
    assert switchyard.wait_for_config(5.0)
    (event,) = call_and_collect(switchyard.wrap(openai_client), sink)
    assert "request" not in event and "response" not in event


def test_secrets_are_redacted_before_leaving(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                             openai_client: Any) -> None:
    sink.publish(capture("always"))
    start_sdk()
    assert switchyard.wait_for_config(5.0)
    (event,) = call_and_collect(switchyard.wrap(openai_client), sink)
    content = event["request"]["messages"][0]["content"]
    assert "sk-proj" not in content and "AKIA" not in content and "ghp_" not in content
    assert "abcdefghijklmnopqrstuvwx1234" not in content
    for kind in ("api_key", "bearer_token", "aws_access_key", "github_token"):
        assert f"[REDACTED:{kind}]" in content
    assert event["response"]["choices"][0]["message"]["content"] == "answer from gpt-4o-mini"


def test_redact_hook_can_rewrite_or_remove_payloads(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                                    openai_client: Any) -> None:
    sink.publish(capture("always"))

    def hook(event: dict[str, Any]) -> dict[str, Any] | None:
        if event["endpoint"] == "private":
            return None
        event["request"] = {"messages": "[app-redacted]"}
        return event

    start_sdk(redact=hook)
    assert switchyard.wait_for_config(5.0)
    client = switchyard.wrap(openai_client)
    with switchyard.endpoint("private"):
        (private,) = call_and_collect(client, sink)
    sink.events.clear()
    (public,) = call_and_collect(client, sink)
    assert "request" not in private and "response" not in private and private["input_tokens"] == 11
    assert public["request"] == {"messages": "[app-redacted]"}
    assert switchyard.stats().payloads_removed == 1


def test_a_failing_hook_fails_closed(start_sdk: Callable[..., Any], sink: SwitchyardState, openai_client: Any) -> None:
    sink.publish(capture("always"))

    def hook(event: dict[str, Any]) -> dict[str, Any] | None:
        raise ValueError("bug in the app's hook")

    start_sdk(redact=hook)
    assert switchyard.wait_for_config(5.0)
    (event,) = call_and_collect(switchyard.wrap(openai_client), sink)
    assert "request" not in event and event["status"] == "ok"


def test_oversized_payloads_are_removed_but_the_event_kept(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                                           openai_client: Any) -> None:
    sink.publish(capture("always"))
    start_sdk(max_event_bytes=2_000)
    assert switchyard.wait_for_config(5.0)
    switchyard.wrap(openai_client).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "long " * 1_000}]
    )
    assert switchyard.flush(5.0)
    (event,) = sink.wait_for_events(1)
    assert "request" not in event and event["output_tokens"] == 7
    assert switchyard.stats().payloads_removed == 1


def test_captured_request_is_a_snapshot(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                        openai_client: Any) -> None:
    sink.publish(capture("always"))
    start_sdk(flush_interval=30.0)
    assert switchyard.wait_for_config(5.0)
    client = switchyard.wrap(openai_client)
    messages = [{"role": "user", "content": "first"}]
    client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    messages.append({"role": "assistant", "content": "later turn, not part of the call"})
    assert switchyard.flush(5.0)
    (event,) = sink.wait_for_events(1)
    assert event["request"]["messages"] == [{"role": "user", "content": "first"}]


def test_stream_capture_contains_the_text(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                          openai_client: Any) -> None:
    sink.publish(capture("always"))
    start_sdk()
    assert switchyard.wait_for_config(5.0)
    stream = switchyard.wrap(openai_client).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    for _ in stream:
        pass
    assert switchyard.flush(5.0)
    (event,) = sink.wait_for_events(1)
    assert event["response"] == {"output_text": "answer from gpt-4o-mini", "finish_reason": "stop"}
