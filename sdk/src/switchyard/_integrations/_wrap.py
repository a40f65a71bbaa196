"""``switchyard.wrap(client)``: instrument an OpenAI, Anthropic or Google Gen AI client in place."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from .._log import log_once
from ._anthropic import MessagesAdapter, instrument_stream_helper
from ._core import Adapter, Binding, instrument
from ._gemini import GenerateContentAdapter
from ._openai import ChatAdapter, ResponsesAdapter
from ._registry import client_kind

_C = TypeVar("_C")

_CHAT = ChatAdapter()
_RESPONSES = ResponsesAdapter()
_MESSAGES = MessagesAdapter()
_GEMINI = GenerateContentAdapter()
_instrument_stream = functools.partial(instrument, streaming=True)

_MARK = "_switchyard_provider"


def _patch(
    owner: Any,
    path: tuple[str, ...],
    adapter: Adapter,
    provider: str,
    is_async: bool,
    make: Callable[[Binding], Any],
) -> None:
    resource = owner
    for name in path[:-1]:
        resource = getattr(resource, name, None)
        if resource is None:
            return  # an older SDK without this API (e.g. no Responses)
    original = getattr(resource, path[-1], None)
    if original is None:
        return
    original = getattr(original, "__switchyard_original__", original)
    setattr(resource, path[-1], make(Binding(adapter, provider, original, is_async, path)))


def _wrap_genai(client: Any, name: str, is_async: bool) -> None:
    targets = [(client, is_async)]
    aio = None if is_async else getattr(client, "aio", None)
    if aio is not None:
        targets.append((aio, True))
    for owner, asynchronous in targets:
        _patch(owner, ("models", "generate_content"), _GEMINI, name, asynchronous, instrument)
        _patch(owner, ("models", "generate_content_stream"), _GEMINI, name, asynchronous, _instrument_stream)
        setattr(owner, _MARK, name)


def wrap(client: _C, *, provider: str | None = None) -> _C:
    """Instrument an ``openai``, ``anthropic`` or ``google.genai`` client in place and return it.

    Instrumented: OpenAI ``chat.completions.create``/``parse`` and ``responses.create``/``parse``
    (and the ``.stream()`` helpers, which call ``create``); Anthropic ``messages.create`` and
    ``messages.stream``; Google Gen AI ``models.generate_content`` and
    ``models.generate_content_stream`` (a ``genai.Client`` is instrumented with its ``.aio``)
    — sync and async, streaming included. Each call is
    routed by the endpoint's policy and recorded; other methods are untouched. ``provider`` names
    the provider behind the client when it is not the family's own (``"groq"`` for an OpenAI
    client pointed at Groq). Per-call attribution goes in a ``switchyard=`` keyword. Before
    :func:`switchyard.init` (or after :func:`switchyard.shutdown`) calls pass straight through.

    Example::

        from openai import OpenAI
        client = switchyard.wrap(OpenAI())
        client.chat.completions.create(model="gpt-4o", messages=msgs,
                                       switchyard={"endpoint": "support-reply", "conversation_id": cid})
    """
    kind = client_kind(client)
    if kind is None:
        log_once(
            f"wrap-{type(client).__name__}", "switchyard: wrap(): %r is not an OpenAI, Anthropic or Gen AI client", client
        )
        return client
    family, is_async = kind
    name = provider or family
    if family == "openai":
        for path, adapter in (
            (("chat", "completions", "create"), _CHAT),
            (("chat", "completions", "parse"), _CHAT),
            (("responses", "create"), _RESPONSES),
            (("responses", "parse"), _RESPONSES),
        ):
            _patch(client, path, adapter, name, is_async, instrument)
    elif family == "google":
        _wrap_genai(client, name, is_async)
    else:
        _patch(client, ("messages", "create"), _MESSAGES, name, is_async, instrument)
        _patch(client, ("messages", "stream"), _MESSAGES, name, is_async, instrument_stream_helper)
    copy = getattr(client, "copy", None)
    if callable(copy):
        copy = getattr(copy, "__switchyard_original__", copy)

        def wrapped_copy(*args: Any, **kwargs: Any) -> Any:
            return wrap(copy(*args, **kwargs), provider=provider)

        wrapped_copy.__switchyard_original__ = copy  # type: ignore[attr-defined]
        client.copy = wrapped_copy  # type: ignore[attr-defined]
        client.with_options = wrapped_copy  # type: ignore[attr-defined]
    setattr(client, _MARK, name)
    return client
