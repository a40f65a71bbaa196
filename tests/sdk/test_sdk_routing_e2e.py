"""Config rollouts observed end to end: publish a signed config, the SDK picks it up, calls are
routed through the real ``openai``/``anthropic`` clients, and the events show the arm."""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import switchyard
from conftest import policy, policy_config
from switchyard._routing import bucket
from sy_fake_providers import ProviderState
from sy_fake_switchyard import SwitchyardState

openai = pytest.importorskip("openai")

MSGS = [{"role": "user", "content": "Where is my parcel?"}]
MINI = {"provider": "openai", "model": "gpt-4o-mini"}


def wait_config_version(version: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while switchyard.stats().config_version != version and time.monotonic() < deadline:
        time.sleep(0.02)
    assert switchyard.stats().config_version == version


def flushed(sink: SwitchyardState, count: int) -> list[dict[str, Any]]:
    assert switchyard.flush(5.0)
    found = sink.wait_for_events(count)
    assert len(found) == count, found
    return sorted(found, key=lambda e: (e["ts"], e["event_id"]))


def ask(client: Any, endpoint: str = "support", **kwargs: Any) -> str:
    kwargs.setdefault("model", "gpt-4o")
    kwargs.setdefault("messages", MSGS)
    reply = client.chat.completions.create(switchyard={"endpoint": endpoint, **kwargs.pop("sy", {})}, **kwargs)
    return str(reply.choices[0].message.content)


def test_rollout_override_then_sticky_split(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                            openai_peer: ProviderState, openai_client: Any) -> None:
    sink.publish(policy_config(1, policy("support", "override", [MINI])))
    start_sdk(config_poll_interval=0.1)
    assert switchyard.wait_for_config(5.0)
    client = switchyard.wrap(openai_client)

    assert ask(client) == "answer from gpt-4o-mini"
    assert ask(client, endpoint="other") == "answer from gpt-4o"
    routed, untouched = flushed(sink, 2)
    assert routed["model"] == "gpt-4o-mini"
    assert routed["routing"] == {"policy_version": 1, "arm": "candidate", "target": "openai/gpt-4o-mini",
                                 "reason": "override"}
    assert "routing" not in untouched

    split = policy(
        "support",
        "split",
        [{"provider": "openai", "model": "gpt-4o", "weight": 5000},
         {"provider": "openai", "model": "gpt-4.1-nano", "weight": 5000}],
        policy_version=2,
        rollout={"percent": 100.0, "salt": "canary-7", "sticky_on": "conversation_id"},
    )
    sink.publish(policy_config(2, split))
    wait_config_version(2)
    assert any(h.get("If-None-Match") for h in sink.config_requests)  # polls were conditional
    sink.events.clear()
    openai_peer.requests.clear()
    conversations = [f"conv-{i}" for i in range(16)]
    for conv in conversations * 2:
        ask(client, sy={"conversation_id": conv})
    expected = {c: "gpt-4o" if bucket("canary-7:split", c) < 5000 else "gpt-4.1-nano" for c in conversations}
    assert set(expected.values()) == {"gpt-4o", "gpt-4.1-nano"}  # the vectors exercise both arms
    assert openai_peer.models() == [expected[c] for c in conversations * 2]
    for event in flushed(sink, 32):
        model = expected[event["conversation_id"]]
        assert event["model"] == model
        assert event["routing"]["policy_version"] == 2
        assert event["routing"]["arm"] == ("baseline" if model == "gpt-4o" else "candidate")


def test_partial_rollout_uses_baseline_outside(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                               openai_client: Any) -> None:
    rollout = {"percent": 30.0, "salt": "r", "sticky_on": "user_id"}
    sink.publish(policy_config(1, policy("support", "override", [MINI], rollout=rollout)))
    start_sdk()
    assert switchyard.wait_for_config(5.0)
    client = switchyard.wrap(openai_client)
    users = [f"user-{i}" for i in range(20)]
    for user in users:
        ask(client, sy={"user_id": user})
    for event in flushed(sink, 20):
        inside = bucket("r", event["user_id"]) < 3000
        assert event["model"] == ("gpt-4o-mini" if inside else "gpt-4o")
        assert event["routing"]["reason"] == ("override" if inside else "rollout")


def test_provider_errors_fall_through_fallbacks_to_the_apps_model(
    start_sdk: Callable[..., Any], sink: SwitchyardState, openai_peer: ProviderState, openai_client: Any
) -> None:
    fallbacks = [{"provider": "openai", "model": "gpt-4.1-mini"}, {"provider": "anthropic", "model": "claude-haiku-4-5"}]
    sink.publish(policy_config(1, policy("support", "override", [MINI], fallbacks=fallbacks)))
    start_sdk()
    assert switchyard.wait_for_config(5.0)
    openai_peer.failures.update({"gpt-4o-mini": [500], "gpt-4.1-mini": [429]})
    assert ask(switchyard.wrap(openai_client)) == "answer from gpt-4o"
    assert openai_peer.models() == ["gpt-4o-mini", "gpt-4.1-mini", "gpt-4o"]  # anthropic skipped: no client
    first, second, last = flushed(sink, 3)
    assert (first["status"], first["routing"]["arm"], first["routing"]["reason"]) == ("error", "candidate", "override")
    assert (second["status"], second["routing"]["arm"], second["routing"]["reason"]) == (
        "error", "fallback", "provider_error")
    assert (last["status"], last["model"], last["routing"]["arm"]) == ("ok", "gpt-4o", "fallback")


def test_cascade_escalates_on_refusal_and_invalid_json(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                                       openai_peer: ProviderState, openai_client: Any) -> None:
    checks = {"checks": ["empty", "refusal", "invalid_json"], "escalate_to": "baseline"}
    sink.publish(policy_config(1, policy("extract", "cascade", [MINI], cascade=checks)))
    start_sdk()
    assert switchyard.wait_for_config(5.0)
    client = switchyard.wrap(openai_client)
    openai_peer.answers.update({"gpt-4o-mini": "I'm sorry, but I can't help with that.", "gpt-4o": '{"ok": 1}'})
    assert ask(client, endpoint="extract") == '{"ok": 1}'
    openai_peer.answers["gpt-4o-mini"] = "not json at all"
    assert ask(client, endpoint="extract") == '{"ok": 1}'
    openai_peer.answers["gpt-4o-mini"] = '{"ok": 2}'
    assert ask(client, endpoint="extract") == '{"ok": 2}'
    reasons = [(e["model"], e["routing"]["arm"], e["routing"]["reason"]) for e in flushed(sink, 5)]
    assert reasons == [
        ("gpt-4o-mini", "candidate", "cascade"),
        ("gpt-4o", "fallback", "cascade:refusal"),
        ("gpt-4o-mini", "candidate", "cascade"),
        ("gpt-4o", "fallback", "cascade:invalid_json"),
        ("gpt-4o-mini", "candidate", "cascade"),
    ]


def test_kill_switch(start_sdk: Callable[..., Any], sink: SwitchyardState, openai_peer: ProviderState,
                     openai_client: Any) -> None:
    killed_target = policy("a", "override", [MINI])
    killed_baseline = policy(
        "b", "override", [MINI], baseline={"provider": "openai", "model": "gpt-4-turbo"},
        fallbacks=[{"provider": "openai", "model": "gpt-4.1"}],
    )
    kill = {"models": ["openai/gpt-4o-mini", "openai/gpt-4-turbo"], "providers": []}
    sink.publish(policy_config(1, killed_target, killed_baseline, kill_switch=kill))
    start_sdk()
    assert switchyard.wait_for_config(5.0)
    client = switchyard.wrap(openai_client)
    assert ask(client, endpoint="a") == "answer from gpt-4o"
    assert ask(client, endpoint="b", model="gpt-4-turbo") == "answer from gpt-4.1"
    a, b = flushed(sink, 2)
    assert (a["routing"]["arm"], a["routing"]["reason"]) == ("baseline", "kill_switch")
    assert (b["model"], b["routing"]["arm"], b["routing"]["reason"]) == ("gpt-4.1", "fallback", "kill_switch")


def test_learned_policy_routes_by_prompt(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                         openai_client: Any) -> None:
    learned = {
        "type": "hashed_linear", "version": 1, "n_buckets": 4096, "ngrams": [1, 2], "lowercase": True,
        "token_pattern": "[a-z0-9]+", "bias": -1.0, "length_weights": {"log_chars": 0.0, "log_words": 0.0},
        "weights": {str(zlib.crc32(b"1:parcel") % 4096): 2.0}, "threshold": 0.5,
    }
    sink.publish(policy_config(1, policy("support", "learned", [MINI], learned=learned)))
    start_sdk()
    assert switchyard.wait_for_config(5.0)
    client = switchyard.wrap(openai_client)
    assert ask(client) == "answer from gpt-4o-mini"
    assert ask(client, messages=[{"role": "user", "content": "Prove the Riemann hypothesis"}]) == "answer from gpt-4o"
    easy, hard = flushed(sink, 2)
    assert (easy["routing"]["arm"], easy["routing"]["reason"]) == ("candidate", "learned")
    assert (hard["routing"]["arm"], hard["routing"]["reason"]) == ("baseline", "learned:below_threshold")


def test_rejected_configs_keep_the_last_good_one(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                                 openai_client: Any) -> None:
    sink.publish(policy_config(1, policy("support", "override", [MINI])))
    client_sy = start_sdk(config_poll_interval=0.1)
    assert switchyard.wait_for_config(5.0)
    bad_signature = "ed25519=" + "A" * 86 + "=="
    sink.publish(policy_config(2, policy("support", "override", [{"provider": "openai", "model": "evil"}])),
                 signature=bad_signature)
    assert client_sy.refresh_config(5.0)
    assert isinstance(client_sy.last_config_error, switchyard.SignatureError)
    sink.publish(policy_config(3, policy("support", "split", [MINI])))  # split without weights
    assert client_sy.refresh_config(5.0)
    assert type(client_sy.last_config_error) is switchyard.InvalidConfigError
    sink.publish(policy_config(0, policy("support", "override", [{"provider": "openai", "model": "old"}])))
    assert client_sy.refresh_config(5.0)
    assert "older" in str(client_sy.last_config_error)
    assert ask(switchyard.wrap(openai_client)) == "answer from gpt-4o-mini"
    assert switchyard.stats().config_version == 1
    assert switchyard.stats().config_errors == 3


def test_config_persisted_and_loaded_at_start(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                              tmp_path: Path) -> None:
    sink.publish(policy_config(5, policy("support", "override", [MINI])))
    start_sdk()
    assert switchyard.wait_for_config(5.0)
    (cached,) = (tmp_path / "cache").glob("config-*.json")
    assert json.loads(cached.read_text())["etag"]
    sink.config = None  # the server has nothing to say now; the cache must carry the start
    restarted = start_sdk()
    assert restarted.wait_for_config(0.0)  # loaded synchronously from disk, verified again
    assert switchyard.stats().config_version == 5

    doc = json.loads(cached.read_text())
    doc["body"] = doc["body"][:-8] + "AAAAAAA="  # tampered on disk
    cached.write_text(json.dumps(doc))
    tampered = start_sdk()
    assert not tampered.wait_for_config(0.0)
    assert isinstance(tampered.last_config_error, switchyard.InvalidConfigError)


def test_targets_of_other_providers_need_a_registered_client(
    start_sdk: Callable[..., Any], sink: SwitchyardState, openai_peer: ProviderState, openai_client: Any
) -> None:
    target = [{"provider": "groq", "model": "llama-3.1-8b-instant"}]
    sink.publish(policy_config(1, policy("support", "override", target)))
    start_sdk()
    assert switchyard.wait_for_config(5.0)
    client = switchyard.wrap(openai_client)
    assert ask(client) == "answer from gpt-4o"
    switchyard.register_client("groq", openai.OpenAI(base_url=openai_peer.url + "/v1", api_key="gsk-x", max_retries=0))
    assert ask(client) == "answer from llama-3.1-8b-instant"
    skipped, routed = flushed(sink, 2)
    assert (skipped["routing"]["arm"], skipped["routing"]["reason"]) == ("baseline", "provider_unavailable:groq")
    assert (routed["provider"], routed["model"], routed["routing"]["arm"]) == ("groq", "llama-3.1-8b-instant",
                                                                              "candidate")
    assert openai_peer.requests[-1]["headers"]["authorization"] == "Bearer gsk-x"


def test_unknown_model_and_streams(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                   openai_client: Any) -> None:
    sink.publish(policy_config(1, policy("support", "override", [MINI]),
                               policy("extract", "cascade", [MINI])))
    start_sdk()
    assert switchyard.wait_for_config(5.0)
    client = switchyard.wrap(openai_client)
    assert ask(client, model="gpt-3.5-turbo") == "answer from gpt-3.5-turbo"
    streamed = client.chat.completions.create(model="gpt-4o", messages=MSGS, stream=True,
                                              switchyard={"endpoint": "support"})
    assert "".join(c.choices[0].delta.content or "" for c in streamed) == "answer from gpt-4o-mini"
    cascade_stream = client.chat.completions.create(model="gpt-4o", messages=MSGS, stream=True,
                                                    switchyard={"endpoint": "extract"})
    assert "".join(c.choices[0].delta.content or "" for c in cascade_stream) == "answer from gpt-4o"
    mismatch, stream, cascade = flushed(sink, 3)
    assert mismatch["routing"]["reason"] == "model_mismatch"
    assert (stream["routing"]["arm"], stream["output_tokens"]) == ("candidate", 7)
    assert cascade["routing"]["reason"] == "cascade:unsupported"


def test_anthropic_stream_helper_is_routed_with_fallback(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                                         anthropic_peer: ProviderState,
                                                         anthropic_client: Any) -> None:
    baseline = {"provider": "anthropic", "model": "claude-big-test"}
    targets = [{"provider": "anthropic", "model": "claude-haiku-4-5"}]
    sink.publish(policy_config(1, policy("chat", "override", targets, baseline=baseline)))
    start_sdk()
    assert switchyard.wait_for_config(5.0)
    anthropic_peer.failures["claude-haiku-4-5"] = [529]
    client = switchyard.wrap(anthropic_client)
    with switchyard.endpoint("chat"), client.messages.stream(
        model="claude-big-test", max_tokens=32, messages=MSGS
    ) as stream:
        assert "".join(stream.text_stream) == "answer from claude-big-test"
    failed, served = flushed(sink, 2)
    assert (failed["model"], failed["status"], failed["routing"]["arm"]) == ("claude-haiku-4-5", "error", "candidate")
    assert (served["model"], served["routing"]["arm"], served["routing"]["reason"]) == (
        "claude-big-test", "fallback", "provider_error")
    assert served["output_tokens"] == 7
