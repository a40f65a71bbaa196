"""Captured Gemini calls → provider-neutral requests and answers.

Two spellings of the same API arrive here: the REST body of `generateContent` (camelCase:
`contents`, `systemInstruction`, `generationConfig`, `functionCall`), as OTLP and hand-written
events carry it, and what the SDK captures from the official `google-genai` client: its keyword
arguments (`contents` as a string, a part, a list of parts or of contents; `config` with
`system_instruction`, `max_output_tokens`, `tools`…) and its response's snake_case dump. Both
read into the same `ChatRequest`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from apps.replay.providers.base import ChatRequest, Message, ToolCall, ToolSpec, Unsupported, answer_text

_CONTENT_KEYS = frozenset({"parts", "role"})


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _get(mapping: Mapping[str, Any], camel: str, snake: str) -> Any:
    value = mapping.get(camel)
    return mapping.get(snake) if value is None else value


def _contents(value: Any) -> list[Mapping[str, Any]]:
    """`contents` as a list of {role, parts}: a string or a list of parts is one user turn."""
    if value is None:
        return []
    if isinstance(value, str) or (isinstance(value, Mapping) and not _CONTENT_KEYS & value.keys()):
        return [{"role": "user", "parts": [value]}]
    if isinstance(value, Mapping):
        return [value]
    if not isinstance(value, list):
        raise Unsupported(f"contents of type {type(value).__name__}")
    if all(isinstance(item, Mapping) and _CONTENT_KEYS & item.keys() for item in value):
        return list(value)
    if any(isinstance(item, Mapping) and _CONTENT_KEYS & item.keys() for item in value):
        return [
            item if isinstance(item, Mapping) and "parts" in item else {"role": "user", "parts": [item]}
            for item in value
        ]
    return [{"role": "user", "parts": list(value)}]


def _part(part: Any) -> Mapping[str, Any]:
    return {"text": part} if isinstance(part, str) else part


def _system(value: Any) -> str:
    """A system instruction: a string, a part, a content, or a list of parts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    parts = value.get("parts") if isinstance(value, Mapping) and "parts" in value else value
    if isinstance(parts, Mapping | str):
        parts = [parts]
    out = []
    for part in parts or []:
        part = _part(part)
        if "text" not in part:
            raise Unsupported("systemInstruction: a non-text part")
        out.append(str(part["text"]))
    return "".join(out)


def _tools(groups: Any) -> tuple[ToolSpec, ...]:
    tools = []
    for group in groups or []:
        for d in _get(group, "functionDeclarations", "function_declarations") or []:
            schema = _get(d, "parameters", "parameters_json_schema") or d.get("parametersJsonSchema") or {}
            tools.append(ToolSpec(str(d["name"]), str(d.get("description") or ""), dict(schema)))
    return tuple(tools)


def _max_tokens(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def from_gemini(payload: Mapping[str, Any]) -> ChatRequest:
    config = payload.get("config") or _get(payload, "generationConfig", "generation_config") or {}
    if not isinstance(config, Mapping):
        raise Unsupported("config is not an object")
    system = _system(
        _get(payload, "systemInstruction", "system_instruction")
        or _get(config, "systemInstruction", "system_instruction")
    )
    messages: list[Message] = []
    for i, content in enumerate(_contents(payload.get("contents"))):
        role = "assistant" if content.get("role") == "model" else "user"
        texts: list[str] = []
        calls: list[ToolCall] = []
        for j, raw in enumerate(content.get("parts") or []):
            part = _part(raw)
            call = _get(part, "functionCall", "function_call")
            result = _get(part, "functionResponse", "function_response")
            if "text" in part:
                if not part.get("thought"):
                    texts.append(str(part["text"]))
            elif call is not None:
                calls.append(
                    ToolCall(str(call.get("id") or ""), str(call["name"]), _json_text(call.get("args") or {}))
                )
            elif result is not None:
                messages.append(
                    Message(
                        "tool", _json_text(result.get("response") or {}), name=str(result.get("name", ""))
                    )
                )
            else:
                raise Unsupported(
                    f"contents[{i}].parts[{j}]: a {next(iter(part), '?')!r} part (only text and tools can be replayed)"
                )
        if texts or calls:
            messages.append(Message(role, "".join(texts), tuple(calls)))
    mime = _get(config, "responseMimeType", "response_mime_type")
    schema = _get(config, "responseSchema", "response_schema") or _get(
        config, "responseJsonSchema", "response_json_schema"
    )
    stop = _get(config, "stopSequences", "stop_sequences")
    return ChatRequest(
        system=system,
        messages=tuple(messages),
        tools=_tools(payload.get("tools") or config.get("tools")),
        json_mode=mime == "application/json",
        json_schema=dict(schema) if isinstance(schema, Mapping) else None,
        max_tokens=_max_tokens(_get(config, "maxOutputTokens", "max_output_tokens")),
        temperature=_number(config.get("temperature")),
        top_p=_number(_get(config, "topP", "top_p")),
        stop=tuple(str(s) for s in stop) if isinstance(stop, list) else (),
        source_format="gemini",
    )


def gemini_answer(payload: Mapping[str, Any]) -> str:
    """The first candidate's text (thoughts left out) and function calls."""
    candidates = payload.get("candidates") or []
    parts = ((candidates[0].get("content") or {}).get("parts") or []) if candidates else []
    text = "".join(str(p["text"]) for p in parts if "text" in p and not p.get("thought"))
    calls = []
    for p in parts:
        call = _get(p, "functionCall", "function_call")
        if call is not None:
            calls.append(
                ToolCall(str(call.get("id") or ""), str(call["name"]), _json_text(call.get("args") or {}))
            )
    return answer_text(text, calls)
