"""Google Gen AI adapter (``google-genai``): ``models.generate_content`` and
``models.generate_content_stream``, sync (``client.models``) and async (``client.aio.models``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._core import Adapter, UsageSpec, read_usage
from ._streams import StreamObserver

GEMINI_USAGE: UsageSpec = (
    ("input_tokens", None, "prompt_token_count"),
    ("output_tokens", None, "candidates_token_count"),
    ("cached_input_tokens", None, "cached_content_token_count"),
    ("reasoning_tokens", None, "thoughts_token_count"),
)
"""``usage_metadata``: the prompt count includes cached tokens; thoughts are counted apart."""

_FILTERED = frozenset({"SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "RECITATION", "IMAGE_SAFETY"})
_NOT_CAPTURED = {"sdk_http_response", "automatic_function_calling_history"}


def _get(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)


def _reason(candidate: Any) -> str | None:
    """A candidate's finish reason as its name (``"STOP"``), whether an enum or a string."""
    reason = _get(candidate, "finish_reason")
    return None if reason is None else str(getattr(reason, "name", None) or reason)


def _parts(response: Any) -> list[Any]:
    candidates = _get(response, "candidates") or ()
    if not candidates:
        return []
    return list(_get(_get(candidates[0], "content"), "parts") or ())


def _prompt(contents: object) -> str:
    """Newline-joined user text: ``contents`` is a string, a part, a content, or a list of these."""
    items = contents if isinstance(contents, list | tuple) else [contents]
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
            continue
        parts = _get(item, "parts")
        if parts is None:  # a part of one user turn
            text = _get(item, "text")
            if isinstance(text, str):
                out.append(text)
            continue
        if _get(item, "role") not in (None, "user"):
            continue
        out.extend(t for t in (_get(p, "text") for p in parts) if isinstance(t, str))
    return "\n".join(out)


def _read(fields: dict[str, Any], response: Any) -> None:
    """The answering model and the token counts of a response (or of a stream chunk)."""
    model = _get(response, "model_version")
    if isinstance(model, str):
        fields["response_model"] = model
    usage = _get(response, "usage_metadata")
    if usage is not None:
        read_usage(fields, usage, GEMINI_USAGE, True)


def _status(fields: dict[str, Any], response: Any) -> None:
    blocked = _get(_get(response, "prompt_feedback"), "block_reason")
    candidates = _get(response, "candidates") or ()
    reason = _reason(candidates[0]) if candidates else None
    if blocked is not None or reason in _FILTERED:
        fields["status"] = "filtered"
        fields["error_type"] = "safety" if blocked is None else "prompt_blocked"


class GenerateContentAdapter(Adapter):
    """``client.models.generate_content`` (and ``generate_content_stream``)."""

    family = "google"

    def prompt_text(self, kwargs: Mapping[str, Any]) -> str:
        return _prompt(kwargs.get("contents"))

    def response_fields(self, response: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {"status": "ok"}
        _read(fields, response)
        _status(fields, response)
        return fields

    def captured_response(self, response: Any) -> Any:
        """The response without the client's own bookkeeping (HTTP headers, AFC history)."""
        dump = getattr(response, "model_dump", None)
        if callable(dump):
            return dump(mode="json", exclude_none=True, exclude=_NOT_CAPTURED)
        return response

    def output_text(self, response: Any) -> str | None:
        texts = []
        for part in _parts(response):
            if _get(part, "function_call") is not None:
                return None
            text = _get(part, "text")
            if isinstance(text, str) and not _get(part, "thought"):
                texts.append(text)
        return "".join(texts)

    def refused(self, response: Any) -> bool:
        fields: dict[str, Any] = {}
        _status(fields, response)
        return fields.get("status") == "filtered"

    def observer(self, capture: bool, hide_usage: bool) -> StreamObserver:
        return GenerateContentStreamObserver(capture)


class GenerateContentStreamObserver(StreamObserver):
    """Reads streamed ``GenerateContentResponse`` chunks; the last one carries the full usage."""

    __slots__ = ("finish_reason",)

    def __init__(self, capture: bool) -> None:
        super().__init__(capture)
        self.finish_reason: str | None = None

    def on_item(self, item: Any) -> bool:
        fields = self.fields
        _read(fields, item)
        for part in _parts(item):
            text = _get(part, "text")
            if _get(part, "function_call") is not None:
                self.token(None)
            elif isinstance(text, str) and not _get(part, "thought"):
                self.token(text)
        candidates = _get(item, "candidates") or ()
        reason = _reason(candidates[0]) if candidates else None
        if reason:
            self.finish_reason = reason
        _status(fields, item)
        return True

    def summary(self) -> Any:
        return {"output_text": "".join(self.texts), "finish_reason": self.finish_reason}
