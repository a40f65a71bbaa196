"""The SDK's encoder router (docs/protocol.md, `encoder_linear`) against the real server.

With the extra, the SDK fetches the encoder the server exported — with its SDK key, from
`/v1/encoders/<sha256>/<file>` on a live server — verifies it by the hashes the config names, keeps
it on disk, and decides every shared vector as the server does. Without the extra (onnxruntime and
tokenizers not importable), or before the artefact is there, the fallback router decides and the
reason says `learned:encoder_unavailable`. The SDK states what it can run when it polls, and the
server records it per project.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from apps.policies.models import SdkClient
from apps.policies.selectors import encoder_capability
from apps.policies.services.sdk_clients import sdk_clients_forget_cache
from apps.routing import encoder
from tests.tenancy import Tenant

VECTORS = Path(__file__).resolve().parents[2] / "sdk" / "testdata" / "encoder_vectors.json"
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not encoder.available(), reason="needs the encoder extra"),
]


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return json.loads(VECTORS.read_text())


@pytest.fixture
def fresh_runtimes() -> Iterator[None]:
    from switchyard import _encoder

    saved = dict(_encoder._runtimes)
    _encoder._runtimes.clear()
    yield
    _encoder._runtimes.clear()
    _encoder._runtimes.update(saved)


@pytest.fixture
def no_extra(monkeypatch: pytest.MonkeyPatch, fresh_runtimes: None) -> None:
    """onnxruntime and tokenizers cannot be imported: an SDK installed without the extra."""
    for name in ("onnxruntime", "tokenizers"):
        monkeypatch.setitem(sys.modules, name, None)


def _config(model: dict[str, Any]) -> Any:
    from switchyard._config import parse_config

    policy = {
        "endpoint": "chat",
        "policy_version": 3,
        "baseline": {"provider": "openai", "model": "gpt-4o"},
        "strategy": "learned",
        "targets": [{"provider": "openai", "model": "gpt-4o-mini"}],
        "learned": model,
    }
    return parse_config(json.dumps({"schema_version": 1, "config_version": 1, "policies": [policy]}).encode())


def _decide(config: Any, text: str) -> tuple[str, str]:
    from switchyard._routing import plan

    found = plan(config, endpoint="chat", provider="openai", model="gpt-4o", available={"openai"},
                 event_id="e1", prompt=lambda: text)  # fmt: skip
    assert found is not None
    first = found.attempts[0]
    return first.arm, first.reason


def _loader(host: str, key: str, cache: Path, transport: Any = None) -> Any:
    from switchyard._encoder import EncoderLoader
    from switchyard._transport import HTTPTransport

    return EncoderLoader(host=host, sdk_key=key, transport=transport or HTTPTransport(), cache_dir=cache)


def test_with_the_extra_the_sdk_fetches_the_servers_encoder_and_decides_every_vector(
    live_server: Any, tenant: Tenant, tmp_path: Path, doc: dict[str, Any], fresh_runtimes: None
) -> None:
    artefact = encoder.ensure()
    model = {**doc["model"], "encoder": artefact.spec()}
    config = _config(model)
    compiled = config.policies["chat"].learned
    assert _decide(config, doc["cases"][0]["text"])[1] == "learned:encoder_unavailable"  # not fetched yet
    _loader(live_server.url, tenant.sdk_key, tmp_path).ensure([compiled], wait=True)
    assert compiled.ready
    on_disk = tmp_path / "encoders" / artefact.sha256
    assert sorted(p.name for p in on_disk.iterdir()) == ["model.onnx", "tokenizer.json"]
    from switchyard import _encoder

    runtime = _encoder._runtimes[_encoder.runtime_key(compiled.spec)]
    for case in doc["cases"]:
        vector = runtime.embed(case["text"])
        assert np.abs(vector - np.asarray(case["embedding"])).max() <= doc["embedding_tolerance"]
        assert compiled.score(case["text"]) == pytest.approx(case["score"], abs=doc["score_tolerance"])
        expected = ("candidate", "learned") if case["route_to_target"] else ("baseline", "learned:below_threshold")
        assert _decide(config, case["text"]) == expected, case["text"]


def test_the_artefact_is_fetched_once_kept_on_disk_and_verified(
    live_server: Any, tenant: Tenant, tmp_path: Path, doc: dict[str, Any], fresh_runtimes: None
) -> None:
    from switchyard import _encoder
    from switchyard._transport import MockTransport, Response

    artefact = encoder.ensure()
    compiled = _config({**doc["model"], "encoder": artefact.spec()}).policies["chat"].learned
    _loader(live_server.url, tenant.sdk_key, tmp_path).ensure([compiled], wait=True)
    assert compiled.ready
    asked: list[str] = []

    def offline(request: Any) -> Any:
        asked.append(request.url)
        return Response(503, {}, b"")

    _encoder._runtimes.clear()  # a new process: the files are on disk, the network is down
    _loader(live_server.url, tenant.sdk_key, tmp_path, MockTransport(offline)).ensure([compiled], wait=True)
    assert compiled.ready and asked == []
    _encoder._runtimes.clear()  # a file changed on disk is not trusted: fetched again, here refused
    (tmp_path / "encoders" / artefact.sha256 / "tokenizer.json").write_text("{}")
    loader = _loader(live_server.url, tenant.sdk_key, tmp_path, MockTransport(offline))
    loader.ensure([compiled], wait=True)
    assert not compiled.ready and len(asked) == 1 and "503" in (loader.last_error or "")
    case = doc["cases"][0]
    assert _decide(_config({**doc["model"], "encoder": artefact.spec()}), case["text"])[1] == (
        "learned:encoder_unavailable"
    )


def test_a_config_naming_other_bytes_is_never_run(
    live_server: Any, tenant: Tenant, tmp_path: Path, doc: dict[str, Any], fresh_runtimes: None
) -> None:
    spec = encoder.ensure().spec()
    forged = {**spec, "files": {**spec["files"], "tokenizer.json": {**spec["files"]["tokenizer.json"], "sha256": "0" * 64}}}
    compiled = _config({**doc["model"], "encoder": forged}).policies["chat"].learned
    loader = _loader(live_server.url, tenant.sdk_key, tmp_path)
    loader.ensure([compiled], wait=True)
    assert not compiled.ready and "does not match" in (loader.last_error or "")


def test_without_the_extra_the_fallback_decides_and_says_why(doc: dict[str, Any], no_extra: None) -> None:
    from switchyard import InvalidConfigError
    from switchyard._encoder import capabilities, extra_available

    assert not extra_available() and "encoder_linear" not in capabilities()
    config = _config(doc["model"])
    for case in doc["cases"]:
        want = case["without_encoder"]
        arm = "candidate" if want["route_to_target"] else "baseline"
        assert _decide(config, case["text"]) == (arm, want["reason"]), case["text"]
    bare = _config({**doc["model"], "version": 1, "fallback": None})  # version 1: nothing blended in
    for case in doc["cases"]:
        assert _decide(bare, case["text"]) == ("baseline", case["without_encoder_or_fallback"]["reason"])
    with pytest.raises(InvalidConfigError, match="fallback: required when a member has a linear_weight"):
        _config({**doc["model"], "fallback": None})  # version 2 blends the fallback's score: it needs one


def test_the_sdk_states_what_it_runs_and_the_server_records_it(
    live_server: Any, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    import switchyard

    sdk_clients_forget_cache()
    assert not encoder_capability(project_id=tenant.project.pk).ok  # no SDK has polled yet
    client = switchyard.init(sdk_key=tenant.sdk_key, host=live_server.url, config_cache_dir=False)
    try:
        assert client.refresh_config(timeout=10)
    finally:
        switchyard.shutdown(2)
    row = SdkClient.objects.get(project=tenant.project)
    assert row.runs_encoder and row.agent.startswith("switchyard-python/")
    assert encoder_capability(project_id=tenant.project.pk).ok
    for name in ("onnxruntime", "tokenizers"):  # a second service of the app, installed without the extra
        monkeypatch.setitem(sys.modules, name, None)
    client = switchyard.init(sdk_key=tenant.sdk_key, host=live_server.url, config_cache_dir=False)
    try:
        assert client.refresh_config(timeout=10)
    finally:
        switchyard.shutdown(2)
    found = encoder_capability(project_id=tenant.project.pk)
    assert not found.ok and "switchyard-sdk[encoder]" in found.why
    assert SdkClient.objects.filter(project=tenant.project).count() == 2
