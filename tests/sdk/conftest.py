"""Fixtures for the SDK suite: real local peers (fake providers, a Switchyard sink/config server)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import switchyard
from switchyard._integrations._registry import unregister_all
from switchyard._log import reset_log_once
from sy_fake_providers import AnthropicHandler, GeminiHandler, OpenAIHandler, ProviderState
from sy_fake_switchyard import INGEST_KEY, SDK_KEY, SwitchyardHandler, SwitchyardState
from sy_http import LocalServer


class Peer:
    """A fake's state plus where it listens."""

    def __init__(self, state: Any, url: str) -> None:
        self.state = state
        self.url = url


def _serve(handler: type[Any], state: Any) -> Iterator[Peer]:
    with LocalServer(handler, state) as server:
        state.url = server.url
        yield Peer(state, server.url)


@pytest.fixture(scope="session")
def _switchyard_server() -> Iterator[Peer]:
    yield from _serve(SwitchyardHandler, SwitchyardState())


@pytest.fixture(scope="session")
def _openai_server() -> Iterator[Peer]:
    yield from _serve(OpenAIHandler, ProviderState())


@pytest.fixture(scope="session")
def _anthropic_server() -> Iterator[Peer]:
    yield from _serve(AnthropicHandler, ProviderState())


@pytest.fixture(scope="session")
def _gemini_server() -> Iterator[Peer]:
    yield from _serve(GeminiHandler, ProviderState())


@pytest.fixture
def sink(_switchyard_server: Peer) -> SwitchyardState:
    """The Switchyard peer's state (events received, configs served), reset for the test."""
    _switchyard_server.state.reset()
    state: SwitchyardState = _switchyard_server.state
    return state


@pytest.fixture
def openai_peer(_openai_server: Peer) -> ProviderState:
    _openai_server.state.reset()
    state: ProviderState = _openai_server.state
    return state


@pytest.fixture
def anthropic_peer(_anthropic_server: Peer) -> ProviderState:
    _anthropic_server.state.reset()
    state: ProviderState = _anthropic_server.state
    return state


@pytest.fixture
def gemini_peer(_gemini_server: Peer) -> ProviderState:
    _gemini_server.state.reset()
    state: ProviderState = _gemini_server.state
    return state


@pytest.fixture(autouse=True)
def _fresh_log_once() -> None:
    """Each test observes "logged once" from a clean slate."""
    reset_log_once()


@pytest.fixture
def start_sdk(sink: SwitchyardState, tmp_path: Path) -> Iterator[Callable[..., switchyard.Client]]:
    """``start_sdk(**overrides)`` → ``switchyard.init`` against the local peer; shut down after."""

    def start(**overrides: Any) -> switchyard.Client:
        options: dict[str, Any] = {
            "api_key": INGEST_KEY,
            "sdk_key": SDK_KEY,
            "host": sink.url,
            "config_public_keys": sink.public_keys,
            "config_cache_dir": tmp_path / "cache",
            "flush_interval": 0.05,
            "request_timeout": 2.0,
        }
        options.update(overrides)
        return switchyard.init(**options)

    yield start
    switchyard.shutdown(timeout=1.0)
    unregister_all()


@pytest.fixture
def openai_client(openai_peer: ProviderState) -> Any:
    openai = pytest.importorskip("openai")
    return openai.OpenAI(base_url=openai_peer.url + "/v1", api_key="sk-test-key", max_retries=0)


@pytest.fixture
def async_openai_client(openai_peer: ProviderState) -> Any:
    openai = pytest.importorskip("openai")
    return openai.AsyncOpenAI(base_url=openai_peer.url + "/v1", api_key="sk-test-key", max_retries=0)


@pytest.fixture
def anthropic_client(anthropic_peer: ProviderState) -> Any:
    anthropic = pytest.importorskip("anthropic")
    return anthropic.Anthropic(base_url=anthropic_peer.url, api_key="sk-ant-test", max_retries=0)


@pytest.fixture
def async_anthropic_client(anthropic_peer: ProviderState) -> Any:
    anthropic = pytest.importorskip("anthropic")
    return anthropic.AsyncAnthropic(base_url=anthropic_peer.url, api_key="sk-ant-test", max_retries=0)


def policy_config(version: int, *policies: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A config body in the shape of docs/protocol.md."""
    return {
        "schema_version": 1,
        "config_version": version,
        "published_at": "2026-11-22T10:00:00Z",
        "project": "test",
        "capture": extra.pop("capture", {"mode": "none"}),
        "kill_switch": extra.pop("kill_switch", {"models": [], "providers": []}),
        "policies": list(policies),
        **extra,
    }


def policy(endpoint: str, strategy: str, targets: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "endpoint": endpoint,
        "policy_version": extra.pop("policy_version", 1),
        "baseline": extra.pop("baseline", {"provider": "openai", "model": "gpt-4o"}),
        "strategy": strategy,
        "targets": targets,
        "rollout": extra.pop("rollout", {"percent": 100.0, "salt": "s1", "sticky_on": "event"}),
        "fallbacks": extra.pop("fallbacks", []),
        **extra,
    }
