"""Anthropic adapter: Messages ``create`` (incl. ``stream=True``) and the ``messages.stream()`` helper."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from .._log import log_once
from ._core import (
    Adapter,
    Binding,
    Call,
    UsageSpec,
    read_tier,
    read_usage,
    run_async,
    run_sync,
    start_call,
    user_text,
)
from ._streams import StreamObserver

_TEXT = frozenset({"text"})


MESSAGES_USAGE: UsageSpec = (
    ("input_tokens", None, "input_tokens"),
    ("output_tokens", None, "output_tokens"),
    ("cached_input_tokens", None, "cache_read_input_tokens"),
    ("cache_write_tokens", None, "cache_creation_input_tokens"),
    ("cache_write_1h_tokens", "cache_creation", "ephemeral_1h_input_tokens"),
    ("reasoning_tokens", "output_tokens_details", "thinking_tokens"),
)
"""Messages usage: ``input_tokens`` excludes cache reads and writes."""
DELTA_USAGE: UsageSpec = (
    ("output_tokens", None, "output_tokens"),
    ("reasoning_tokens", "output_tokens_details", "thinking_tokens"),
)


def _stop_reason(fields: dict[str, Any], reason: object) -> None:
    if reason == "refusal":
        fields["status"] = "filtered"
        fields["error_type"] = "refusal"


class MessagesAdapter(Adapter):
    """``client.messages.create`` and ``client.messages.stream``."""

    family = "anthropic"

    def prompt_text(self, kwargs: Mapping[str, Any]) -> str:
        return user_text(kwargs.get("messages"), _TEXT)

    def response_fields(self, response: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {"status": "ok"}
        model = getattr(response, "model", None)
        if isinstance(model, str):
            fields["response_model"] = model
        usage = getattr(response, "usage", None)
        if usage is not None:
            read_usage(fields, usage, MESSAGES_USAGE, False)
            read_tier(fields, getattr(usage, "service_tier", None))
        _stop_reason(fields, getattr(response, "stop_reason", None))
        return fields

    def output_text(self, response: Any) -> str | None:
        texts = []
        for block in getattr(response, "content", None) or ():
            kind = getattr(block, "type", None)
            if kind in ("tool_use", "server_tool_use"):
                return None
            if kind == "text":
                texts.append(getattr(block, "text", ""))
        return "".join(texts)

    def refused(self, response: Any) -> bool:
        return getattr(response, "stop_reason", None) == "refusal"

    def observer(self, capture: bool, hide_usage: bool) -> StreamObserver:
        return MessagesStreamObserver(capture)


class MessagesStreamObserver(StreamObserver):
    """Reads raw Messages stream events: ``message_start`` (input usage), deltas, ``message_delta``."""

    __slots__ = ("stop_reason",)

    def __init__(self, capture: bool) -> None:
        super().__init__(capture)
        self.stop_reason: str | None = None

    def on_item(self, item: Any) -> bool:
        kind = getattr(item, "type", None)
        if kind == "content_block_delta":
            delta = getattr(item, "delta", None)
            self.token(getattr(delta, "text", None))
        elif kind == "message_start":
            message = getattr(item, "message", None)
            model = getattr(message, "model", None)
            if isinstance(model, str):
                self.fields["response_model"] = model
            usage = getattr(message, "usage", None)
            if usage is not None:
                read_usage(self.fields, usage, MESSAGES_USAGE, False)
                read_tier(self.fields, getattr(usage, "service_tier", None))
        elif kind == "message_delta":
            usage = getattr(item, "usage", None)
            if usage is not None:
                read_usage(self.fields, usage, DELTA_USAGE, None)
            reason = getattr(getattr(item, "delta", None), "stop_reason", None)
            if reason:
                self.stop_reason = reason
                _stop_reason(self.fields, reason)
        return True

    def summary(self) -> Any:
        return {"output_text": "".join(self.texts), "stop_reason": self.stop_reason}


def instrument_stream_helper(binding: Binding) -> Any:
    """The replacement of ``messages.stream``: routes, then watches the raw event stream."""
    original = binding.original

    def stream(*args: Any, **kwargs: Any) -> Any:
        options = kwargs.pop("switchyard", None)
        call = None if args else start_call(binding, kwargs, options, streaming=True)
        if call is None:
            return original(*args, **kwargs)
        return AsyncManagedStream(call) if binding.is_async else ManagedStream(call)

    stream.__switchyard_original__ = original  # type: ignore[attr-defined]
    stream.__doc__ = getattr(original, "__doc__", None)
    return stream


def _hook(call: Call, opened: tuple[Any, Any], is_async: bool) -> tuple[Any, Any]:
    """Put a watching proxy between the helper's ``MessageStream`` and its raw event stream."""
    _, stream = opened
    raw = getattr(stream, "_raw_stream", None)
    if raw is None:
        log_once("anthropic-raw-stream", "switchyard: this anthropic version hides its raw stream; no usage")
        call.client.record({**call.event, "status": "ok"})
    else:
        stream._raw_stream = call.watch_async(raw) if is_async else call.watch_sync(raw)
    return opened


def _open(fn: Any, kw: dict[str, Any]) -> tuple[Any, Any]:
    manager = fn(**kw)
    return manager, manager.__enter__()


async def _aopen(fn: Any, kw: dict[str, Any]) -> tuple[Any, Any]:
    manager = fn(**kw)
    return manager, await manager.__aenter__()


class ManagedStream:
    """Stands in for ``MessageStreamManager``: ``with client.messages.stream(...) as stream:``."""

    def __init__(self, call: Call) -> None:
        self._call = call
        self._manager: Any = None

    def __enter__(self) -> Any:
        self._manager, stream = run_sync(self._call, _open, lambda opened: _hook(self._call, opened, False))
        return stream

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._manager is not None:
            self._manager.__exit__(exc_type, exc, tb)


class AsyncManagedStream:
    """Stands in for ``AsyncMessageStreamManager``: ``async with client.messages.stream(...)``."""

    def __init__(self, call: Call) -> None:
        self._call = call
        self._manager: Any = None

    async def __aenter__(self) -> Any:
        self._manager, stream = await run_async(self._call, _aopen, lambda opened: _hook(self._call, opened, True))
        return stream

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._manager is not None:
            await self._manager.__aexit__(exc_type, exc, tb)
