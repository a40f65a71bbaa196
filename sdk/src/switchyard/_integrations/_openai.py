"""OpenAI adapters: Chat Completions and Responses (sync, async, ``stream=True``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._core import Adapter, omitted, put_int, user_text
from ._streams import StreamObserver

_CHAT_TEXT = frozenset({"text"})
_RESPONSES_TEXT = frozenset({"input_text", "text"})


def chat_usage(fields: dict[str, Any], usage: Any) -> None:
    """Chat Completions usage: ``prompt_tokens`` includes cached tokens."""
    put_int(fields, "input_tokens", getattr(usage, "prompt_tokens", None))
    put_int(fields, "output_tokens", getattr(usage, "completion_tokens", None))
    prompt = getattr(usage, "prompt_tokens_details", None)
    if prompt is not None:
        put_int(fields, "cached_input_tokens", getattr(prompt, "cached_tokens", None))
        put_int(fields, "cache_write_tokens", getattr(prompt, "cache_write_tokens", None))
    completion = getattr(usage, "completion_tokens_details", None)
    if completion is not None:
        put_int(fields, "reasoning_tokens", getattr(completion, "reasoning_tokens", None))
    fields["input_includes_cached"] = True


def responses_usage(fields: dict[str, Any], usage: Any) -> None:
    """Responses usage: ``input_tokens`` includes cached tokens."""
    put_int(fields, "input_tokens", getattr(usage, "input_tokens", None))
    put_int(fields, "output_tokens", getattr(usage, "output_tokens", None))
    details_in = getattr(usage, "input_tokens_details", None)
    if details_in is not None:
        put_int(fields, "cached_input_tokens", getattr(details_in, "cached_tokens", None))
        put_int(fields, "cache_write_tokens", getattr(details_in, "cache_write_tokens", None))
    details_out = getattr(usage, "output_tokens_details", None)
    if details_out is not None:
        put_int(fields, "reasoning_tokens", getattr(details_out, "reasoning_tokens", None))
    fields["input_includes_cached"] = True


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
        _set_model(fields, getattr(response, "model", None))
        usage = getattr(response, "usage", None)
        if usage is not None:
            chat_usage(fields, usage)
        choices = getattr(response, "choices", None)
        if choices and any(getattr(c, "finish_reason", None) == "content_filter" for c in choices):
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
            chat_usage(fields, usage)
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
            responses_usage(fields, usage)
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
