"""Parse, validate and compile the routing config body of ``GET /v1/config``.

Compilation happens once per config version, off the call path, so a routing decision is a dict
lookup, a hash and a comparison. Anything malformed raises :class:`InvalidConfigError` and the
caller keeps the last good config.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._budgets import BudgetRule, parse_rules
from ._encoder import EncoderFile, EncoderModel, EncoderSpec
from ._errors import InvalidConfigError
from ._learned import LearnedModel, Member

STRATEGIES = frozenset({"override", "split", "cascade", "learned"})
STICKY_ON = frozenset({"conversation_id", "user_id", "event"})
CAPTURE_MODES = frozenset({"none", "sampled", "always"})
CASCADE_CHECKS = frozenset({"empty", "refusal", "invalid_json"})
DEFAULT_CASCADE_CHECKS = ("empty", "refusal")


@dataclass(frozen=True, slots=True)
class Target:
    """A provider/model pair; ``key`` is ``"provider/model"`` as used by the kill switch."""

    provider: str
    model: str
    key: str

    @classmethod
    def of(cls, provider: str, model: str) -> Target:
        return cls(provider, model, f"{provider}/{model}")


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """One endpoint's policy, with weights made cumulative and the rollout made an integer."""

    endpoint: str
    version: int
    baseline: Target
    strategy: str
    targets: tuple[Target, ...]
    cumulative: tuple[int, ...]
    threshold: int
    salt: str
    split_salt: str
    sticky_on: str
    fallbacks: tuple[Target, ...]
    cascade_checks: tuple[str, ...]
    learned: LearnedModel | EncoderModel | None
    plans: dict[tuple[object, ...], Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class CompiledConfig:
    """A verified config, ready for :func:`switchyard._routing.plan`."""

    version: int
    capture_mode: str
    sample_rate: float
    killed_models: frozenset[str]
    killed_providers: frozenset[str]
    policies: Mapping[str, CompiledPolicy]
    customer_key: str = "customer_id"
    budgets: tuple[BudgetRule, ...] = ()

    def is_killed(self, target: Target) -> bool:
        return target.key in self.killed_models or target.provider in self.killed_providers


def parse_config(body: bytes) -> CompiledConfig:
    """Validate and compile a config body; raise :class:`InvalidConfigError` on any defect."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidConfigError(f"config is not JSON: {exc}") from exc
    root = _obj(doc, "config")
    if root.get("schema_version") != 1:
        raise InvalidConfigError(f"unsupported schema_version {root.get('schema_version')!r}")
    version = _int(root.get("config_version"), "config_version")
    capture = _obj(root.get("capture", {"mode": "none"}), "capture")
    mode = _choice(capture.get("mode", "none"), CAPTURE_MODES, "capture.mode")
    rate = _num(capture.get("sample_rate", 1.0 if mode == "always" else 0.0), "capture.sample_rate")
    if not 0.0 <= rate <= 1.0:
        raise InvalidConfigError("capture.sample_rate: must be within [0, 1]")
    kill = _obj(root.get("kill_switch", {}), "kill_switch")
    killed_models = frozenset(_strs(kill.get("models", []), "kill_switch.models"))
    killed_providers = frozenset(_strs(kill.get("providers", []), "kill_switch.providers"))
    policies: dict[str, CompiledPolicy] = {}
    for i, raw in enumerate(_list(root.get("policies", []), "policies")):
        policy = _policy(_obj(raw, f"policies[{i}]"), f"policies[{i}]")
        if policy.endpoint in policies:
            raise InvalidConfigError(f"policies[{i}].endpoint: duplicate {policy.endpoint!r}")
        policies[policy.endpoint] = policy
    try:
        customer_key, budgets = parse_rules(_obj(root.get("budgets", {}), "budgets"), "budgets")
    except ValueError as exc:
        raise InvalidConfigError(str(exc)) from exc
    return CompiledConfig(version, mode, rate, killed_models, killed_providers, policies, customer_key, budgets)


def _policy(raw: Mapping[str, Any], path: str) -> CompiledPolicy:
    endpoint = _str(raw.get("endpoint"), f"{path}.endpoint")
    if len(endpoint) > 128:
        raise InvalidConfigError(f"{path}.endpoint: longer than 128 characters")
    strategy = _choice(raw.get("strategy"), STRATEGIES, f"{path}.strategy")
    targets_raw = _list(raw.get("targets"), f"{path}.targets")
    if not targets_raw:
        raise InvalidConfigError(f"{path}.targets: at least one target is required")
    targets = tuple(_target(t, f"{path}.targets[{j}]") for j, t in enumerate(targets_raw))
    cumulative: tuple[int, ...] = ()
    if strategy == "split":
        running, sums = 0, []
        for j, t in enumerate(targets_raw):
            weight = _int(_obj(t, f"{path}.targets[{j}]").get("weight"), f"{path}.targets[{j}].weight")
            running += weight
            sums.append(running)
        if running != 10000:
            raise InvalidConfigError(f"{path}.targets: split weights sum to {running}, not 10000")
        cumulative = tuple(sums)
    rollout = _obj(raw.get("rollout", {}), f"{path}.rollout")
    percent = _num(rollout.get("percent", 100.0), f"{path}.rollout.percent")
    if not 0.0 <= percent <= 100.0:
        raise InvalidConfigError(f"{path}.rollout.percent: must be within [0, 100]")
    salt = _str(rollout.get("salt", ""), f"{path}.rollout.salt", allow_empty=True)
    cascade = _obj(raw.get("cascade") or {}, f"{path}.cascade")
    checks = tuple(_strs(cascade.get("checks", list(DEFAULT_CASCADE_CHECKS)), f"{path}.cascade.checks"))
    for check in checks:
        _choice(check, CASCADE_CHECKS, f"{path}.cascade.checks")
    if cascade.get("escalate_to", "baseline") != "baseline":
        raise InvalidConfigError(f"{path}.cascade.escalate_to: only 'baseline' is supported")
    learned = None
    if strategy == "learned":
        learned = _learned(_obj(raw.get("learned"), f"{path}.learned"), f"{path}.learned")
    return CompiledPolicy(
        endpoint=endpoint,
        version=_int(raw.get("policy_version"), f"{path}.policy_version"),
        baseline=_target(raw.get("baseline"), f"{path}.baseline"),
        strategy=strategy,
        targets=targets,
        cumulative=cumulative,
        threshold=round(percent * 100),
        salt=salt,
        split_salt=salt + ":split",
        sticky_on=_choice(rollout.get("sticky_on", "event"), STICKY_ON, f"{path}.rollout.sticky_on"),
        fallbacks=tuple(
            _target(f, f"{path}.fallbacks[{j}]") for j, f in enumerate(_list(raw.get("fallbacks", []), path))
        ),
        cascade_checks=checks,
        learned=learned,
    )


def _learned(raw: Mapping[str, Any], path: str) -> LearnedModel | EncoderModel:
    if raw.get("type") == "encoder_linear" and raw.get("version") in (1, 2):
        return _encoder_model(raw, path)
    return _hashed(raw, path)


_HEX = re.compile("[0-9a-f]{64}")


def _encoder_model(raw: Mapping[str, Any], path: str) -> EncoderModel:
    enc = _obj(raw.get("encoder"), f"{path}.encoder")
    sha = _str(enc.get("sha256"), f"{path}.encoder.sha256")
    if not _HEX.fullmatch(sha):
        raise InvalidConfigError(f"{path}.encoder.sha256: expected 64 lower-case hex digits")
    files = []
    for name, item in _obj(enc.get("files"), f"{path}.encoder.files").items():
        obj = _obj(item, f"{path}.encoder.files.{name}")
        digest = _str(obj.get("sha256"), f"{path}.encoder.files.{name}.sha256")
        if not _HEX.fullmatch(digest) or "/" in name or name.startswith("."):
            raise InvalidConfigError(f"{path}.encoder.files.{name}: bad file name or sha256")
        url = _str(obj.get("url"), f"{path}.encoder.files.{name}.url")
        files.append(EncoderFile(name, url, digest, _int(obj.get("bytes", 0), f"{path}.encoder.files.{name}.bytes")))
    if {"model.onnx", "tokenizer.json"} - {f.name for f in files}:
        raise InvalidConfigError(f"{path}.encoder.files: model.onnx and tokenizer.json are required")
    dim = _int(enc.get("dim"), f"{path}.encoder.dim")
    pooling = _choice(enc.get("pooling"), frozenset({"mean"}), f"{path}.encoder.pooling")
    normalize = enc.get("normalize")
    if not isinstance(normalize, bool):
        raise InvalidConfigError(f"{path}.encoder.normalize: must be a boolean")
    spec = EncoderSpec(
        name=_str(enc.get("name"), f"{path}.encoder.name"),
        sha256=sha,
        files=tuple(sorted(files, key=lambda f: f.name)),
        dim=dim,
        max_tokens=_int(enc.get("max_tokens"), f"{path}.encoder.max_tokens"),
        pooling=pooling,
        normalize=normalize,
    )
    members = []
    for i, item in enumerate(_list(raw.get("members"), f"{path}.members")):
        obj = _obj(item, f"{path}.members[{i}]")
        weights = tuple(_num(w, f"{path}.members[{i}].weights") for w in _list(obj.get("weights"), f"{path}.members[{i}].weights"))
        if len(weights) != dim:
            raise InvalidConfigError(f"{path}.members[{i}].weights: expected {dim} numbers")
        blend = _num(obj.get("linear_weight", 0.0), f"{path}.members[{i}].linear_weight") if raw.get("version") == 2 else 0.0
        members.append((weights, _num(obj.get("bias", 0.0), f"{path}.members[{i}].bias"), blend))
    if not members:
        raise InvalidConfigError(f"{path}.members: at least one member is required")
    fallback_raw = raw.get("fallback")
    fallback = None if fallback_raw is None else _hashed(_obj(fallback_raw, f"{path}.fallback"), f"{path}.fallback")
    if fallback is None and any(m[2] for m in members):
        raise InvalidConfigError(f"{path}.fallback: required when a member has a linear_weight")
    return EncoderModel(spec, tuple(members), _num(raw.get("threshold"), f"{path}.threshold"), fallback)


def _hashed(raw: Mapping[str, Any], path: str) -> LearnedModel:
    if raw.get("type") != "hashed_linear" or raw.get("version") not in (1, 2):
        raise InvalidConfigError(f"{path}: unsupported model {raw.get('type')!r} v{raw.get('version')!r}")
    n_buckets = _int(raw.get("n_buckets"), f"{path}.n_buckets")
    if n_buckets <= 0:
        raise InvalidConfigError(f"{path}.n_buckets: must be positive")
    ngrams = [_int(n, f"{path}.ngrams") for n in _list(raw.get("ngrams", [1]), f"{path}.ngrams")]
    if not ngrams or min(ngrams) < 1:
        raise InvalidConfigError(f"{path}.ngrams: must be positive integers")
    pattern = _str(raw.get("token_pattern", "[a-z0-9]+"), f"{path}.token_pattern")
    try:
        if re.compile(pattern).groups:
            raise InvalidConfigError(f"{path}.token_pattern: capturing groups are not allowed")
    except re.error as exc:
        raise InvalidConfigError(f"{path}.token_pattern: {exc}") from exc
    lowercase = raw.get("lowercase", True)
    if not isinstance(lowercase, bool):
        raise InvalidConfigError(f"{path}.lowercase: must be a boolean")
    if raw.get("version") == 2:
        items = _list(raw.get("members"), f"{path}.members")
        if not items:
            raise InvalidConfigError(f"{path}.members: at least one member is required")
        members = [_member(_obj(m, f"{path}.members[{i}]"), f"{path}.members[{i}]", n_buckets) for i, m in enumerate(items)]
    else:
        members = [_member(raw, path, n_buckets)]
    return LearnedModel.build(
        n_buckets=n_buckets,
        ngrams=sorted(set(ngrams)),
        lowercase=lowercase,
        token_pattern=pattern,
        members=members,
        threshold=_num(raw.get("threshold"), f"{path}.threshold"),
    )


def _member(raw: Mapping[str, Any], path: str, n_buckets: int) -> Member:
    weights: dict[int, float] = {}
    for key, value in _obj(raw.get("weights", {}), f"{path}.weights").items():
        if not key.isdigit() or int(key) >= n_buckets:
            raise InvalidConfigError(f"{path}.weights: bad feature index {key!r}")
        weights[int(key)] = _num(value, f"{path}.weights[{key}]")
    lengths = _obj(raw.get("length_weights", {}), f"{path}.length_weights")
    return Member(
        weights=weights,
        bias=_num(raw.get("bias", 0.0), f"{path}.bias"),
        log_chars=_num(lengths.get("log_chars", 0.0), f"{path}.length_weights.log_chars"),
        log_words=_num(lengths.get("log_words", 0.0), f"{path}.length_weights.log_words"),
    )


def _target(raw: object, path: str) -> Target:
    obj = _obj(raw, path)
    return Target.of(_str(obj.get("provider"), f"{path}.provider"), _str(obj.get("model"), f"{path}.model"))


def _obj(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidConfigError(f"{path}: expected an object")
    return value


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidConfigError(f"{path}: expected a list")
    return value


def _str(value: object, path: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not value and not allow_empty):
        raise InvalidConfigError(f"{path}: expected a non-empty string")
    return value


def _strs(value: object, path: str) -> list[str]:
    return [_str(item, path) for item in _list(value, path)]


def _int(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidConfigError(f"{path}: expected a non-negative integer")
    return value


def _num(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidConfigError(f"{path}: expected a finite number")
    return float(value)


def _choice(value: object, allowed: frozenset[str], path: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidConfigError(f"{path}: expected one of {sorted(allowed)}, got {value!r}")
    return value
