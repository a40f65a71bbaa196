"""Config validation, Ed25519 verification, key formats, and the poller's error handling."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
import switchyard
from conftest import policy, policy_config
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from switchyard._config import parse_config
from switchyard._signing import load_public_key, load_public_keys, verify_signature
from sy_fake_switchyard import SwitchyardState, public_key_b64, sign

GOOD = policy_config(
    3,
    policy("a", "split", [{"provider": "openai", "model": "m1", "weight": 2500},
                          {"provider": "openai", "model": "m2", "weight": 7500}]),
    policy("b", "cascade", [{"provider": "openai", "model": "m1"}], cascade={"checks": ["invalid_json"]}),
    capture={"mode": "sampled", "sample_rate": 0.25},
    kill_switch={"models": ["openai/x"], "providers": ["groq"]},
)


def test_a_good_config_compiles() -> None:
    config = parse_config(json.dumps(GOOD).encode())
    assert config.version == 3 and config.capture_mode == "sampled" and config.sample_rate == 0.25
    assert config.policies["a"].cumulative == (2500, 10000)
    assert config.policies["a"].threshold == 10000
    assert config.policies["b"].cascade_checks == ("invalid_json",)
    assert config.killed_models == {"openai/x"} and config.killed_providers == {"groq"}


def mutate(path: list[Any], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


BAD = [
    (mutate(["schema_version"], 2), "schema_version"),
    (mutate(["config_version"], -1), "config_version"),
    (mutate(["config_version"], "7"), "config_version"),
    (mutate(["capture", "mode"], "everything"), "capture.mode"),
    (mutate(["capture", "sample_rate"], 1.5), "sample_rate"),
    (mutate(["policies"], {"a": 1}), "policies"),
    (mutate(["policies", 0, "strategy"], "random"), "strategy"),
    (mutate(["policies", 0, "targets"], []), "targets"),
    (mutate(["policies", 0, "targets", 0, "weight"], 2000), "sum to"),
    (mutate(["policies", 0, "baseline"], KeyError), "baseline"),
    (mutate(["policies", 0, "rollout", "percent"], 120), "percent"),
    (mutate(["policies", 0, "rollout", "sticky_on"], "session"), "sticky_on"),
    (mutate(["policies", 1, "cascade", "checks"], ["vibes"]), "checks"),
    (mutate(["policies", 1, "endpoint"], "a"), "duplicate"),
    (mutate(["policies", 1, "endpoint"], "e" * 129), "128"),
    (mutate(["kill_switch", "models"], "openai/x"), "kill_switch"),
]


@pytest.mark.parametrize(("doc", "message"), BAD)
def test_malformed_configs_are_rejected(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(switchyard.InvalidConfigError, match=message):
        parse_config(json.dumps(doc).encode())


@pytest.mark.parametrize(
    "learned",
    [
        {"type": "tree", "version": 1},
        {"type": "hashed_linear", "version": 1, "n_buckets": 0, "threshold": 0},
        {"type": "hashed_linear", "version": 1, "n_buckets": 8, "token_pattern": "(a)+", "threshold": 0},
        {"type": "hashed_linear", "version": 1, "n_buckets": 8, "token_pattern": "[", "threshold": 0},
        {"type": "hashed_linear", "version": 1, "n_buckets": 8, "weights": {"9": 1.0}, "threshold": 0},
        {"type": "hashed_linear", "version": 1, "n_buckets": 8, "weights": {"1": "x"}, "threshold": 0},
        {"type": "hashed_linear", "version": 1, "n_buckets": 8},
    ],
)
def test_malformed_learned_models_are_rejected(learned: dict[str, Any]) -> None:
    doc = policy_config(1, policy("l", "learned", [{"provider": "openai", "model": "m"}], learned=learned))
    with pytest.raises(switchyard.InvalidConfigError):
        parse_config(json.dumps(doc).encode())


def test_not_json_is_rejected() -> None:
    with pytest.raises(switchyard.InvalidConfigError):
        parse_config(b"\xff not json")
    with pytest.raises(switchyard.InvalidConfigError):
        parse_config(b'{"schema_version": 1, "config_version": NaN}')


def test_signature_verification() -> None:
    key = Ed25519PrivateKey.generate()
    keys = load_public_keys({"k1": public_key_b64(key)})
    body = b'{"schema_version":1}'
    verify_signature(body, sign(key, body), "k1", keys)
    bad = [
        (body + b" ", sign(key, body), "k1"),
        (body, sign(Ed25519PrivateKey.generate(), body), "k1"),
        (body, sign(key, body), "k2"),
        (body, None, "k1"),
        (body, sign(key, body), None),
        (body, "rsa=" + sign(key, body).split("=", 1)[1], "k1"),
        (body, "ed25519=!!!", "k1"),
    ]
    for data, signature, key_id in bad:
        with pytest.raises(switchyard.SignatureError):
            verify_signature(data, signature, key_id, keys)


def test_public_key_formats() -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert load_public_key(pem).public_bytes(Encoding.Raw, PublicFormat.Raw) == raw
    assert load_public_key(base64.b64encode(raw).decode()).public_bytes(Encoding.Raw, PublicFormat.Raw) == raw
    env = f"a:{base64.b64encode(raw).decode()}, b:{base64.b64encode(raw).decode()}"
    assert set(load_public_keys(env)) == {"a", "b"}
    for bad in ("not base64!", base64.b64encode(b"short").decode(), "a" * 10):
        with pytest.raises(switchyard.ConfigurationError):
            load_public_key(bad)
    with pytest.raises(switchyard.ConfigurationError):
        load_public_keys("missing-colon")


def test_init_validates_options_but_not_keys(caplog: pytest.LogCaptureFixture, sink: SwitchyardState) -> None:
    with pytest.raises(switchyard.ConfigurationError):
        switchyard.init(api_key="sy_ingest_x", host="ftp://nowhere")
    with pytest.raises(switchyard.ConfigurationError):
        switchyard.init(api_key="sy_ingest_x", host=sink.url, max_queue_size=0)
    client = switchyard.init(api_key="wrong-key", host=sink.url, config_cache_dir=False)
    try:
        assert any("sy_ingest_" in r.getMessage() for r in caplog.records)
        with switchyard.track(provider="p", model="m"):
            pass
        assert client.flush(5.0)
        assert client.stats().dropped_by_reason == {"unauthorized": 1}
    finally:
        switchyard.shutdown()


def test_environment_variables_configure_init(monkeypatch: pytest.MonkeyPatch, sink: SwitchyardState) -> None:
    from sy_fake_switchyard import INGEST_KEY, SDK_KEY

    monkeypatch.setenv("SWITCHYARD_API_KEY", INGEST_KEY)
    monkeypatch.setenv("SWITCHYARD_SDK_KEY", SDK_KEY)
    monkeypatch.setenv("SWITCHYARD_HOST", sink.url)
    monkeypatch.setenv("SWITCHYARD_ENVIRONMENT", "staging")
    monkeypatch.setenv("SWITCHYARD_CONFIG_PUBLIC_KEYS", ",".join(f"{k}:{v}" for k, v in sink.public_keys.items()))
    monkeypatch.setenv("SWITCHYARD_CACHE_DIR", "/nonexistent/readonly/dir")
    monkeypatch.setenv("SWITCHYARD_SYNC_MODE", "1")
    sink.publish(policy_config(9))
    client = switchyard.init()
    try:
        assert client.wait_for_config(5.0)  # an unwritable cache directory is logged, not raised
        with switchyard.track(provider="p", model="m"):
            pass
        (event,) = sink.events.values()
        assert event["environment"] == "staging"
    finally:
        switchyard.shutdown()


def test_wrong_sdk_key_is_logged_once(start_sdk: Callable[..., Any], sink: SwitchyardState,
                                      caplog: pytest.LogCaptureFixture) -> None:
    sink.publish(policy_config(1))
    client = start_sdk(sdk_key="sy_sdk_wrong")
    assert not client.wait_for_config(0.3)
    client.refresh_config(1.0)
    assert sum("answered 401" in r.getMessage() for r in caplog.records) == 1


def test_disabled_by_environment(monkeypatch: pytest.MonkeyPatch, start_sdk: Callable[..., Any],
                                 sink: SwitchyardState) -> None:
    monkeypatch.setenv("SWITCHYARD_DISABLED", "1")
    sink.publish(policy_config(1))
    client = start_sdk()
    with switchyard.track(provider="p", model="m"):
        pass
    assert client.flush(1.0) and sink.events == {} and sink.config_requests == []
