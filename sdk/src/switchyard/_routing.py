"""The local routing decision (docs/protocol.md, "Routing decision").

:func:`plan` turns the compiled config, the endpoint and the app's own model into an ordered list
of attempts: the routed target first, then fallbacks, and always last the app's own call. It is
pure and allocation-light; the wrappers execute the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass
from hashlib import sha256

from ._config import CompiledConfig, CompiledPolicy, Target

ARM_BASELINE = "baseline"
ARM_CANDIDATE = "candidate"
ARM_FALLBACK = "fallback"


def bucket(salt: str, unit: str) -> int:
    """``int.from_bytes(sha256(f"{salt}:{unit}")[:8], "big") % 10000`` (shared vectors in sdk/testdata)."""
    return int.from_bytes(sha256(f"{salt}:{unit}".encode()).digest()[:8], "big") % 10000


@dataclass(frozen=True, slots=True)
class Attempt:
    """One provider call the wrapper may make."""

    provider: str
    model: str
    arm: str
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
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
    available: Container[str],
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
    own = Attempt(provider, model, ARM_BASELINE, "")
    if policy.baseline.provider != provider or policy.baseline.model != model:
        return _only(policy, own, "model_mismatch")
    if config.is_killed(policy.baseline):
        return _killed_baseline(config, policy, own, available)
    unit = _unit(policy, event_id, conversation_id, user_id)
    if bucket(policy.salt, unit) >= policy.threshold:
        return _only(policy, own, "rollout")
    strategy = policy.strategy
    if strategy == "split":
        draw = bucket(policy.split_salt, unit)
        target = policy.targets[-1]
        for cumulative, candidate in zip(policy.cumulative, policy.targets, strict=True):
            if draw < cumulative:
                target = candidate
                break
    elif strategy == "learned":
        learned = policy.learned
        if learned is None or prompt is None or not learned.routes_to_target(prompt()):
            return _only(policy, own, "learned:below_threshold")
        target = policy.targets[0]
    elif strategy == "cascade" and not can_cascade:
        return _only(policy, own, "cascade:unsupported")
    else:
        target = policy.targets[0]
    if target.key == policy.baseline.key:
        return _only(policy, own, strategy)
    if config.is_killed(target):
        return _only(policy, own, "kill_switch")
    if target.provider not in available:
        return _only(policy, own, f"provider_unavailable:{target.provider}")
    attempts = [Attempt(target.provider, target.model, ARM_CANDIDATE, strategy)]
    attempts += _fallbacks(config, policy, available, {target.key, policy.baseline.key}, "provider_error")
    attempts.append(Attempt(provider, model, ARM_FALLBACK, "provider_error"))
    checks = policy.cascade_checks if strategy == "cascade" else ()
    return Plan(policy.version, tuple(attempts), checks)


def _only(policy: CompiledPolicy, own: Attempt, reason: str) -> Plan:
    return Plan(policy.version, (Attempt(own.provider, own.model, ARM_BASELINE, reason),))


def _unit(policy: CompiledPolicy, event_id: str, conversation_id: str | None, user_id: str | None) -> str:
    if policy.sticky_on == "conversation_id" and conversation_id:
        return conversation_id
    if policy.sticky_on == "user_id" and user_id:
        return user_id
    return event_id


def _fallbacks(
    config: CompiledConfig,
    policy: CompiledPolicy,
    available: Container[str],
    exclude: set[str],
    reason: str,
) -> list[Attempt]:
    out: list[Attempt] = []
    for fallback in policy.fallbacks:
        if fallback.key in exclude or config.is_killed(fallback) or fallback.provider not in available:
            continue
        exclude.add(fallback.key)
        out.append(Attempt(fallback.provider, fallback.model, ARM_FALLBACK, reason))
    return out


def _killed_baseline(
    config: CompiledConfig, policy: CompiledPolicy, own: Attempt, available: Container[str]
) -> Plan:
    """Step 2: the baseline is on the kill switch, so the first usable fallback goes first.

    The app's own model stays the last resort: Switchyard never turns a call that could have
    succeeded into a failure.
    """
    attempts = _fallbacks(config, policy, available, {policy.baseline.key}, "kill_switch")
    if not attempts:
        return _only(policy, own, "kill_switch:no_alternative")
    attempts.append(Attempt(own.provider, own.model, ARM_FALLBACK, "provider_error"))
    return Plan(policy.version, tuple(attempts))


__all__ = ["ARM_BASELINE", "ARM_CANDIDATE", "ARM_FALLBACK", "Attempt", "Plan", "Target", "bucket", "plan"]
