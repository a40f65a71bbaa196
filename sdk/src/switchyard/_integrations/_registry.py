"""Clients registered for other providers, so a policy may route a call to them.

A target whose provider differs from the wrapped client's is reachable only through a client
registered here for the same API family (OpenAI-compatible, Anthropic or Google Gen AI) and the same sync/async
kind. Everything else is skipped and the reason is recorded on the event.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

from .._log import log_once

_lock = threading.Lock()
_clients: dict[tuple[str, str, bool], Any] = {}
_available: dict[tuple[str, str, bool], frozenset[str]] = {}


def client_kind(client: Any) -> tuple[str, bool] | None:
    """``(family, is_async)`` of an OpenAI, Anthropic or Google Gen AI client, else ``None``."""
    family = type(client).__module__.split(".", 1)[0]
    try:
        if family == "openai":
            method = _original(client.chat.completions.create)
        elif family == "anthropic":
            method = _original(client.messages.create)
        elif family == "google" and type(client).__module__.startswith("google.genai"):
            method = _original(client.models.generate_content)
        else:
            return None
    except AttributeError:
        return None
    return family, inspect.iscoroutinefunction(inspect.unwrap(method))


def _original(method: Any) -> Any:
    return getattr(method, "__switchyard_original__", method)


def register_client(provider: str, client: Any) -> None:
    """Let routing reach ``provider`` through ``client``.

    The client must speak the same API as the wrapped client a call comes from: an OpenAI-style
    client (``openai.OpenAI(base_url=...)`` for Groq, Together, vLLM, or Anthropic's OpenAI
    compatible endpoint) serves targets of calls made with a wrapped OpenAI client; an
    ``anthropic.Anthropic`` serves calls made with a wrapped Anthropic client, a ``google.genai.Client``
    those of a wrapped Gen AI client (its ``.aio`` for async calls). Register the async
    client separately for async calls.

    Example::

        switchyard.register_client("groq", OpenAI(base_url="https://api.groq.com/openai/v1",
                                                  api_key=os.environ["GROQ_API_KEY"]))
    """
    kind = client_kind(client)
    if kind is None:
        log_once(f"register-{provider}", "switchyard: register_client(%r): not an OpenAI, Anthropic or Gen AI client", provider)
        return
    with _lock:
        _clients[(provider, kind[0], kind[1])] = client
        _available.clear()


def unregister_all() -> None:
    """Forget every registered client."""
    with _lock:
        _clients.clear()
        _available.clear()


def available_providers(own: str, family: str, is_async: bool) -> frozenset[str]:
    """The providers a call from a wrapped ``family`` client can reach."""
    key = (own, family, is_async)
    found = _available.get(key)
    if found is None:
        with _lock:
            found = frozenset({own} | {p for (p, f, a) in _clients if f == family and a == is_async})
            _available[key] = found
    return found


def registered_method(provider: str, family: str, is_async: bool, path: tuple[str, ...]) -> Callable[..., Any] | None:
    """The (unwrapped) method at ``path`` of the client registered for ``provider``."""
    obj = _clients.get((provider, family, is_async))
    if obj is None:
        return None
    for name in path:
        obj = getattr(obj, name)
    method: Callable[..., Any] = _original(obj)
    return method
