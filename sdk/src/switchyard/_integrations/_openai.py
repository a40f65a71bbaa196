"""OpenAI adapters: Chat Completions and Responses (sync, async, ``stream=True``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._core import Adapter, UsageSpec, omitted, read_tier, read_usage, user_text
from ._streams import StreamObserver

_CHAT_TEXT = frozenset({"text"})
_RESPONSES_TEXT = frozenset({"input_text", "text"})


CHAT_USAGE: UsageSpec = (
    ("input_tokens", None, "prompt_tokens"),
    ("output_tokens", None, "completion_tokens"),
    ("cached_input_tokens", "prompt_tokens_details", "cached_tokens"),
    ("cache_write_tokens", "prompt_tokens_details", "cache_write_tokens"),
    ("reasoning_tokens", "completion_tokens_details", "reasoning_tokens"),
)
RESPONSES_USAGE: UsageSpec = (
    ("input_tokens", None, "input_tokens"),
    ("output_tokens", None, "output_tokens"),
    ("cached_input_tokens", "input_tokens_details", "cached_tokens"),
    ("cache_write_tokens", "input_tokens_details", "cache_write_tokens"),
    ("reasoning_tokens", "output_tokens_details", "reasoning_tokens"),
)


def _set_model(fields: dict[str, Any], model: object) -> None:
    if isinstance(model, str) and "response_model" not in fields:
        fields["response_model"] = model


def _filtered(fields: dict[str, Any]) -> None:
    fields["status"] = "filtered"
    fields["error_type"] = "content_filter"


class ChatAdapter(Adapter):
    """``client.chat.completions.create``."""

    family = "openai"

    def prepare(self, kwargs: dict[str, Any], stream: bool) -> bool:
        """Ask for usage on streams; the extra usage-only chunk is then hidden from the app."""
        options = kwargs.get("stream_options")
        if isinstance(options, Mapping):
            if options.get("include_usage"):
                return False
            kwargs["stream_options"] = {**options, "include_usage": True}
            return True
        if omitted(options):
            kwargs["stream_options"] = {"include_usage": True}
            return True
        return False

    def prompt_text(self, kwargs: Mapping[str, Any]) -> str:
        return user_text(kwargs.get("messages"), _CHAT_TEXT)

    def response_fields(self, response: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {"status": "ok"}
        model = getattr(response, "model", None)
        if type(model) is str:
            fields["response_model"] = model
        usage = getattr(response, "usage", None)
        if usage is not None:
            read_usage(fields, usage, CHAT_USAGE, True)
        read_tier(fields, getattr(response, "service_tier", None))
        for choice in getattr(response, "choices", None) or ():
            if getattr(choice, "finish_reason", None) == "content_filter":
                _filtered(fields)
        return fields

    def output_text(self, response: Any) -> str | None:
        choices = list(getattr(response, "choices", None) or ())
        if not choices:
            return ""
        message = getattr(choices[0], "message", None)
        if getattr(message, "tool_calls", None) or getattr(message, "function_call", None):
            return None
        return getattr(message, "content", None) or ""

    def refused(self, response: Any) -> bool:
        choices = list(getattr(response, "choices", None) or ())
        return bool(choices) and bool(getattr(getattr(choices[0], "message", None), "refusal", None))

    def observer(self, capture: bool, hide_usage: bool) -> StreamObserver:
        return ChatStreamObserver(capture, hide_usage)


class ChatStreamObserver(StreamObserver):
    """Reads ``ChatCompletionChunk``s: content deltas, finish reasons, the final usage chunk."""

    __slots__ = ("finish_reason", "hide_usage")

    def __init__(self, capture: bool, hide_usage: bool) -> None:
        super().__init__(capture)
        self.hide_usage = hide_usage
        self.finish_reason: str | None = None

    def on_item(self, item: Any) -> bool:
        fields = self.fields
        if "response_model" not in fields:
            _set_model(fields, getattr(item, "model", None))
        usage = getattr(item, "usage", None)
        if usage is not None:
            read_usage(fields, usage, CHAT_USAGE, True)
        read_tier(fields, getattr(item, "service_tier", None))
        choices = getattr(item, "choices", None)
        if not choices:
            return not (usage is not None and self.hide_usage)
        for choice in choices:
            delta = getattr(choice, "delta", None)
            content = getattr(delta, "content", None)
            if content or getattr(delta, "tool_calls", None):
                self.token(content)
            reason = getattr(choice, "finish_reason", None)
            if reason:
                self.finish_reason = reason
                if reason == "content_filter":
                    _filtered(fields)
        return True

    def summary(self) -> Any:
        return {"output_text": "".join(self.texts), "finish_reason": self.finish_reason}


class ResponsesAdapter(Adapter):
    """``client.responses.create``."""

    family = "openai"

    def prompt_text(self, kwargs: Mapping[str, Any]) -> str:
        return user_text(kwargs.get("input"), _RESPONSES_TEXT)

    def response_fields(self, response: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {"status": "ok"}
        _set_model(fields, getattr(response, "model", None))
        usage = getattr(response, "usage", None)
        if usage is not None:
            read_usage(fields, usage, RESPONSES_USAGE, True)
        read_tier(fields, getattr(response, "service_tier", None))
        status = getattr(response, "status", None)
        if status == "failed":
            fields["status"] = "error"
            fields["error_type"] = str(getattr(getattr(response, "error", None), "code", None) or "failed")
        elif status == "incomplete":
            reason = getattr(getattr(response, "incomplete_details", None), "reason", None)
            if reason == "content_filter":
                _filtered(fields)
        return fields

    def output_text(self, response: Any) -> str | None:
        for item in getattr(response, "output", None) or ():
            if getattr(item, "type", None) in ("function_call", "custom_tool_call"):
                return None
        text = getattr(response, "output_text", None)
        return text if isinstance(text, str) else ""

    def refused(self, response: Any) -> bool:
        for item in getattr(response, "output", None) or ():
            for part in getattr(item, "content", None) or ():
                if getattr(part, "type", None) == "refusal":
                    return True
        return False

    def observer(self, capture: bool, hide_usage: bool) -> StreamObserver:
        return ResponsesStreamObserver(capture, self)


class ResponsesStreamObserver(StreamObserver):
    """Reads Responses stream events; usage arrives with ``response.completed``."""

    __slots__ = ("adapter", "final")

    def __init__(self, capture: bool, adapter: ResponsesAdapter) -> None:
        super().__init__(capture)
        self.adapter = adapter
        self.final: Any = None

    def on_item(self, item: Any) -> bool:
        kind = getattr(item, "type", None)
        if kind == "response.output_text.delta":
            self.token(getattr(item, "delta", None))
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            response = getattr(item, "response", None)
            if response is not None:
                self.final = response
                self.fields.update(self.adapter.response_fields(response))
        elif kind == "response.created":
            _set_model(self.fields, getattr(getattr(item, "response", None), "model", None))
        elif kind in ("response.function_call_arguments.delta", "response.refusal.delta"):
            self.token(None)
        return True

    def summary(self) -> Any:
        if self.final is not None:
            return self.final
        return {"output_text": "".join(self.texts)}
