"""The local routing decision (docs/protocol.md, "Routing decision").

:func:`plan` turns the compiled config, the endpoint and the app's own model into an ordered list
of attempts: the routed target first, then fallbacks, and always last the app's own call. The
possible plans of a policy are few, so each is built once and cached on the compiled policy: a
decision is a dict lookup, one or two SHA-256 buckets, and a cache hit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from hashlib import sha256
from typing import NamedTuple

from ._config import CompiledConfig, CompiledPolicy, Target

ARM_BASELINE = "baseline"
ARM_CANDIDATE = "candidate"
ARM_FALLBACK = "fallback"


def bucket(salt: str, unit: str) -> int:
    """``int.from_bytes(sha256(f"{salt}:{unit}")[:8], "big") % 10000`` (shared vectors in sdk/testdata)."""
    return int.from_bytes(sha256(f"{salt}:{unit}".encode()).digest()[:8], "big") % 10000


class Attempt(NamedTuple):
    """One provider call the wrapper may make."""

    provider: str
    model: str
    arm: str
    reason: str


class Plan(NamedTuple):
    """What to call, in order. ``attempts[-1]`` is always the app's own model."""

    policy_version: int
    attempts: tuple[Attempt, ...]
    cascade_checks: tuple[str, ...] = ()


def plan(
    config: CompiledConfig | None,
    *,
    endpoint: str,
    provider: str,
    model: str,
    available: Collection[str],
    event_id: str,
    conversation_id: str | None = None,
    user_id: str | None = None,
    prompt: Callable[[], str] | None = None,
    can_cascade: bool = True,
) -> Plan | None:
    """Decide locally where a call goes; ``None`` means "no policy: the app's own call".

    ``available`` holds the providers this call can reach (the wrapped client's own and any
    registered with :func:`switchyard.register_client` for the same API).
    """
    if config is None:
        return None
    policy = config.policies.get(endpoint)
    if policy is None:
        return None
    baseline = policy.baseline
    if baseline.provider != provider or baseline.model != model:
        return Plan(policy.version, (Attempt(provider, model, ARM_BASELINE, "model_mismatch"),))
    reach = available if isinstance(available, frozenset) else frozenset(available)
    if baseline.key in config.killed_models or baseline.provider in config.killed_providers:
        return _cached(config, policy, ("killed", reach))
    if policy.sticky_on == "conversation_id" and conversation_id:
        unit = conversation_id
    elif policy.sticky_on == "user_id" and user_id:
        unit = user_id
    else:
        unit = event_id
    if policy.threshold < 10000 and bucket(policy.salt, unit) >= policy.threshold:
        return _cached(config, policy, ("only", "rollout"))
    strategy = policy.strategy
    index = 0
    if strategy == "split":
        draw = bucket(policy.split_salt, unit)
        index = len(policy.cumulative) - 1
        for i, cumulative in enumerate(policy.cumulative):
            if draw < cumulative:
                index = i
                break
    elif strategy == "learned":
        learned = policy.learned
        if learned is None or prompt is None:
            return _cached(config, policy, ("only", "learned:below_threshold"))
        routed, why = learned.decide(prompt())
        if not routed:
            return _cached(config, policy, ("only", why or "learned:below_threshold"))
        if why is not None:  # decided by the fallback router: the reason says so
            return _cached(config, policy, ("target", index, reach, why))
    elif strategy == "cascade" and not can_cascade:
        return _cached(config, policy, ("only", "cascade:unsupported"))
    return _cached(config, policy, ("target", index, reach))


def _cached(config: CompiledConfig, policy: CompiledPolicy, key: tuple[object, ...]) -> Plan:
    found = policy.plans.get(key)
    if found is None:
        found = _build(config, policy, key)
        if len(policy.plans) < 256:
            policy.plans[key] = found
    return found


def _build(config: CompiledConfig, policy: CompiledPolicy, key: tuple[object, ...]) -> Plan:
    baseline = policy.baseline
    if key[0] == "only":
        return _only(policy, str(key[1]))
    if key[0] == "killed":
        reach = key[1]
        assert isinstance(reach, frozenset)
        attempts = _fallbacks(config, policy, reach, {baseline.key}, "kill_switch")
        if not attempts:
            return _only(policy, "kill_switch:no_alternative")
        attempts.append(Attempt(baseline.provider, baseline.model, ARM_FALLBACK, "provider_error"))
        return Plan(policy.version, tuple(attempts))
    index, reach = key[1], key[2]
    assert isinstance(index, int) and isinstance(reach, frozenset)
    target, strategy = policy.targets[index], policy.strategy
    if len(key) > 3:
        strategy = str(key[3])
    if target.key == baseline.key:
        return _only(policy, strategy)
    if config.is_killed(target):
        return _only(policy, "kill_switch")
    if target.provider not in reach:
        return _only(policy, f"provider_unavailable:{target.provider}")
    attempts = [Attempt(target.provider, target.model, ARM_CANDIDATE, strategy)]
    attempts += _fallbacks(config, policy, reach, {target.key, baseline.key}, "provider_error")
    attempts.append(Attempt(baseline.provider, baseline.model, ARM_FALLBACK, "provider_error"))
    checks = policy.cascade_checks if strategy == "cascade" else ()
    return Plan(policy.version, tuple(attempts), checks)


def _only(policy: CompiledPolicy, reason: str) -> Plan:
    baseline = policy.baseline
    return Plan(policy.version, (Attempt(baseline.provider, baseline.model, ARM_BASELINE, reason),))


def _fallbacks(
    config: CompiledConfig,
    policy: CompiledPolicy,
    reach: frozenset[str],
    exclude: set[str],
    reason: str,
) -> list[Attempt]:
    """Usable fallbacks in order: not killed, reachable, not already tried.

    Step 2 (a killed baseline) puts them first; the app's own model stays the last resort either
    way, so Switchyard never turns a call that could have succeeded into a failure.
    """
    out: list[Attempt] = []
    for fallback in policy.fallbacks:
        if fallback.key in exclude or config.is_killed(fallback) or fallback.provider not in reach:
            continue
        exclude.add(fallback.key)
        out.append(Attempt(fallback.provider, fallback.model, ARM_FALLBACK, reason))
    return out


__all__ = ["ARM_BASELINE", "ARM_CANDIDATE", "ARM_FALLBACK", "Attempt", "Plan", "Target", "bucket", "plan"]
