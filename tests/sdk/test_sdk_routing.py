"""The routing decision (docs/protocol.md "Routing decision"), step by step, without the network."""

from __future__ import annotations

import json
from typing import Any

from conftest import policy, policy_config
from switchyard._config import CompiledConfig, parse_config
from switchyard._routing import Plan, bucket, plan

MINI = {"provider": "openai", "model": "gpt-4o-mini"}


def compiled(*policies: dict[str, Any], **extra: Any) -> CompiledConfig:
    return parse_config(json.dumps(policy_config(7, *policies, **extra)).encode())


def decide(config: CompiledConfig | None, *, endpoint: str = "e", model: str = "gpt-4o", **kwargs: Any) -> Plan | None:
    kwargs.setdefault("available", {"openai"})
    kwargs.setdefault("event_id", "evt-1")
    return plan(config, endpoint=endpoint, provider="openai", model=model, **kwargs)


def steps(p: Plan | None) -> list[tuple[str, str, str]]:
    assert p is not None
    return [(a.model, a.arm, a.reason) for a in p.attempts]


def test_no_config_or_no_policy_means_the_apps_call() -> None:
    assert decide(None) is None
    assert decide(compiled(policy("other", "override", [MINI]))) is None


def test_override_with_fallbacks_and_the_apps_model_last() -> None:
    fallbacks = [MINI, {"provider": "openai", "model": "gpt-4.1"}, {"provider": "openai", "model": "gpt-4.1"},
                 {"provider": "anthropic", "model": "claude"}]
    p = decide(compiled(policy("e", "override", [MINI], fallbacks=fallbacks, policy_version=4)))
    assert p is not None and p.policy_version == 4
    assert steps(p) == [("gpt-4o-mini", "candidate", "override"), ("gpt-4.1", "fallback", "provider_error"),
                        ("gpt-4o", "fallback", "provider_error")]


def test_sticky_units() -> None:
    rollout = {"percent": 50.0, "salt": "s", "sticky_on": "conversation_id"}
    config = compiled(policy("e", "override", [MINI], rollout=rollout))
    for conv in (f"c{i}" for i in range(40)):
        expected = "override" if bucket("s", conv) < 5000 else "rollout"
        for event_id in ("a", "b"):  # the event id does not matter when the conversation is known
            assert steps(decide(config, conversation_id=conv, event_id=event_id))[0][2] == expected
    by_event = {steps(decide(config, event_id=f"evt-{i}"))[0][2] for i in range(40)}
    assert by_event == {"override", "rollout"}  # no conversation: each event is its own unit


def test_zero_and_full_rollout() -> None:
    zero = compiled(policy("e", "override", [MINI], rollout={"percent": 0.0, "salt": "s", "sticky_on": "event"}))
    assert all(steps(decide(zero, event_id=str(i)))[0][2] == "rollout" for i in range(50))
    full = compiled(policy("e", "override", [MINI]))
    assert all(steps(decide(full, event_id=str(i)))[0][1] == "candidate" for i in range(50))


def test_split_target_equal_to_baseline_is_the_baseline_arm() -> None:
    config = compiled(policy("e", "split", [{"provider": "openai", "model": "gpt-4o", "weight": 10000},
                                            {"provider": "openai", "model": "gpt-4o-mini", "weight": 0}]))
    assert steps(decide(config)) == [("gpt-4o", "baseline", "split")]


def test_model_mismatch_and_provider_mismatch() -> None:
    config = compiled(policy("e", "override", [MINI]))
    assert steps(decide(config, model="gpt-3.5")) == [("gpt-3.5", "baseline", "model_mismatch")]
    p = plan(config, endpoint="e", provider="azure", model="gpt-4o", available={"azure"}, event_id="x")
    assert steps(p) == [("gpt-4o", "baseline", "model_mismatch")]


def test_kill_switch_by_provider_and_model() -> None:
    fallbacks = [{"provider": "groq", "model": "llama"}, {"provider": "openai", "model": "gpt-4.1"}]
    config = compiled(policy("e", "override", [MINI], fallbacks=fallbacks),
                      kill_switch={"models": ["openai/gpt-4o"], "providers": ["groq"]})
    assert steps(decide(config, available={"openai", "groq"})) == [
        ("gpt-4.1", "fallback", "kill_switch"), ("gpt-4o", "fallback", "provider_error")]
    no_alternative = compiled(policy("e", "override", [MINI]), kill_switch={"models": ["openai/gpt-4o"]})
    assert steps(decide(no_alternative)) == [("gpt-4o", "baseline", "kill_switch:no_alternative")]
    killed_target = compiled(policy("e", "override", [MINI]), kill_switch={"providers": ["openai"]})
    assert steps(decide(killed_target)) == [("gpt-4o", "baseline", "kill_switch:no_alternative")]


def test_unavailable_providers_are_skipped() -> None:
    groq = {"provider": "groq", "model": "llama"}
    config = compiled(policy("e", "override", [groq], fallbacks=[groq, MINI]))
    assert steps(decide(config)) == [("gpt-4o", "baseline", "provider_unavailable:groq")]
    assert steps(decide(config, available={"openai", "groq"}))[0] == ("llama", "candidate", "override")
    config = compiled(policy("e", "override", [MINI], fallbacks=[groq]))
    assert [s[0] for s in steps(decide(config))] == ["gpt-4o-mini", "gpt-4o"]


def test_cascade_plan_and_streams() -> None:
    config = compiled(policy("e", "cascade", [MINI]))
    p = decide(config)
    assert p is not None and p.cascade_checks == ("empty", "refusal")
    assert steps(p) == [("gpt-4o-mini", "candidate", "cascade"), ("gpt-4o", "fallback", "provider_error")]
    assert steps(decide(config, can_cascade=False)) == [("gpt-4o", "baseline", "cascade:unsupported")]


def test_learned_without_a_prompt_stays_on_the_baseline() -> None:
    learned = {"type": "hashed_linear", "version": 1, "n_buckets": 8, "bias": 10.0, "threshold": 0.0}
    config = compiled(policy("e", "learned", [MINI], learned=learned))
    assert steps(decide(config)) == [("gpt-4o", "baseline", "learned:below_threshold")]
    assert steps(decide(config, prompt=lambda: "anything"))[0] == ("gpt-4o-mini", "candidate", "learned")
