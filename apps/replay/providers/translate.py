"""Captured payloads → provider-neutral requests and answers.

The SDK captures a call's request as the keyword arguments the app passed (OpenAI Chat
Completions, OpenAI Responses, Anthropic Messages) and its response as the provider's reply;
Gemini calls arrive as `generateContent` bodies (OTLP, hand-written events) or as the `google-genai`
client's arguments (translate_gemini.py reads both); a bare `{"content": "…"}` is read too. `parse_request` reads any of them into a `ChatRequest` (system prompt, turns,
tool definitions and calls, JSON mode, limits); `parse_answer` reads the app's answer back out.
Rendering for each provider lives with its adapter (openai_compat.py, anthropic.py, gemini.py).

Content a replay cannot reproduce faithfully (images, audio, files) raises `Unsupported`, and
the sampler counts such calls as excluded rather than replaying a different question.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from apps.replay.providers.base import ChatRequest, Message, ToolCall, ToolSpec, Unsupported, answer_text
from apps.replay.providers.translate_gemini import from_gemini, gemini_answer

_TEXT_PARTS = frozenset({"text", "input_text", "output_text"})


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _parts_text(content: Any, *, where: str) -> str:
    """Text of a string or a list of content parts; non-text parts are unsupported."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        content = [content]
    if not isinstance(content, list):
        raise Unsupported(f"{where}: content of type {type(content).__name__}")
    out = []
    for part in content:
        if isinstance(part, str):
            out.append(part)
            continue
        kind = part.get("type", "text") if isinstance(part, Mapping) else None
        if kind in _TEXT_PARTS:
            out.append(str(part.get("text", "")))
        elif kind == "refusal":
            out.append(str(part.get("refusal", "")))
        else:
            raise Unsupported(f"{where}: a {kind!r} part (only text can be replayed)")
    return "".join(out)


def detect_format(payload: Mapping[str, Any]) -> str:
    if "contents" in payload:
        return "gemini"
    if "input" in payload or "instructions" in payload:
        return "openai_responses"
    if "messages" in payload:
        if "system" in payload or "anthropic_version" in payload:
            return "anthropic"
        for message in payload.get("messages") or []:
            content = message.get("content") if isinstance(message, Mapping) else None
            if isinstance(content, list) and any(
                isinstance(p, Mapping) and p.get("type") in ("tool_use", "tool_result") for p in content
            ):
                return "anthropic"
        tools = payload.get("tools") or []
        if tools and isinstance(tools[0], Mapping) and "input_schema" in tools[0]:
            return "anthropic"
        return "openai"
    raise Unsupported("no messages, contents or input in the captured request")


def parse_request(payload: Any) -> ChatRequest:
    if not isinstance(payload, Mapping):
        raise Unsupported("the captured request is not a JSON object")
    fmt = detect_format(payload)
    parser = {
        "openai": _from_openai,
        "anthropic": _from_anthropic,
        "gemini": from_gemini,
        "openai_responses": _from_responses,
    }[fmt]
    request = parser(payload)
    if not any(m.role == "user" for m in request.messages):
        raise Unsupported("the captured request has no user message")
    return request


def _max_tokens(*values: Any) -> int:
    """The app's output limit, or 0 when it set none (the replay then chooses one)."""
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 0


def _stop(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _openai_tools(payload: Mapping[str, Any]) -> tuple[ToolSpec, ...]:
    tools = []
    for tool in payload.get("tools") or []:
        fn = tool.get("function") if tool.get("type", "function") == "function" else None
        if fn is None and "name" in tool:  # Responses API: flat function tools
            fn = tool
        if not isinstance(fn, Mapping):
            raise Unsupported(f"tool of type {tool.get('type')!r}")
        tools.append(
            ToolSpec(str(fn["name"]), str(fn.get("description") or ""), dict(fn.get("parameters") or {}))
        )
    for fn in payload.get("functions") or []:  # the legacy functions parameter
        tools.append(
            ToolSpec(str(fn["name"]), str(fn.get("description") or ""), dict(fn.get("parameters") or {}))
        )
    return tuple(tools)


def _openai_choice(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        fn = value.get("function") or value
        if isinstance(fn, Mapping) and fn.get("name"):
            return str(fn["name"])
    return None


def _openai_json(fmt: Any) -> tuple[bool, dict[str, Any] | None]:
    if not isinstance(fmt, Mapping):
        return False, None
    kind = fmt.get("type")
    if kind == "json_object":
        return True, None
    if kind == "json_schema":
        spec = fmt.get("json_schema") or fmt  # Chat nests it; Responses puts it inline
        schema = spec.get("schema") if isinstance(spec, Mapping) else None
        return True, dict(schema) if isinstance(schema, Mapping) else None
    return False, None


def _from_openai(payload: Mapping[str, Any]) -> ChatRequest:
    system: list[str] = []
    messages: list[Message] = []
    for i, m in enumerate(payload.get("messages") or []):
        role = m.get("role")
        where = f"messages[{i}]"
        if role in ("system", "developer"):
            system.append(_parts_text(m.get("content"), where=where))
        elif role == "user":
            messages.append(Message("user", _parts_text(m.get("content"), where=where)))
        elif role == "assistant":
            calls = tuple(
                ToolCall(
                    str(c.get("id", "")),
                    str(c["function"]["name"]),
                    str(c["function"].get("arguments") or "{}"),
                )
                for c in m.get("tool_calls") or []
            )
            if m.get("function_call"):
                fc = m["function_call"]
                calls += (ToolCall("", str(fc["name"]), str(fc.get("arguments") or "{}")),)
            messages.append(Message("assistant", _parts_text(m.get("content"), where=where), calls))
        elif role in ("tool", "function"):
            messages.append(
                Message(
                    "tool",
                    _parts_text(m.get("content"), where=where),
                    tool_call_id=str(m.get("tool_call_id", "")),
                    name=str(m.get("name", "")),
                )
            )
        else:
            raise Unsupported(f"{where}: role {role!r}")
    json_mode, schema = _openai_json(payload.get("response_format"))
    return ChatRequest(
        system="\n\n".join(s for s in system if s),
        messages=tuple(messages),
        tools=_openai_tools(payload),
        tool_choice=_openai_choice(payload.get("tool_choice") or payload.get("function_call")),
        json_mode=json_mode,
        json_schema=schema,
        max_tokens=_max_tokens(payload.get("max_completion_tokens"), payload.get("max_tokens")),
        temperature=_number(payload.get("temperature")),
        top_p=_number(payload.get("top_p")),
        stop=_stop(payload.get("stop")),
        source_format="openai",
    )


def _from_responses(payload: Mapping[str, Any]) -> ChatRequest:
    system = [str(payload.get("instructions") or "")]
    messages: list[Message] = []
    items = payload.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    for i, item in enumerate(items or []):
        where = f"input[{i}]"
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            text = _parts_text(item.get("content"), where=where)
            if role in ("system", "developer"):
                system.append(text)
            elif role in ("user", "assistant"):
                messages.append(Message(role, text))
            else:
                raise Unsupported(f"{where}: role {role!r}")
        elif kind == "function_call":
            messages.append(
                Message(
                    "assistant",
                    "",
                    (
                        ToolCall(
                            str(item.get("call_id", "")),
                            str(item["name"]),
                            str(item.get("arguments") or "{}"),
                        ),
                    ),
                )
            )
        elif kind == "function_call_output":
            messages.append(
                Message("tool", _json_text(item.get("output", "")), tool_call_id=str(item.get("call_id", "")))
            )
        else:
            raise Unsupported(f"{where}: an item of type {kind!r}")
    json_mode, schema = _openai_json((payload.get("text") or {}).get("format"))
    return ChatRequest(
        system="\n\n".join(s for s in system if s),
        messages=tuple(messages),
        tools=_openai_tools(payload),
        tool_choice=_openai_choice(payload.get("tool_choice")),
        json_mode=json_mode,
        json_schema=schema,
        max_tokens=_max_tokens(payload.get("max_output_tokens")),
        temperature=_number(payload.get("temperature")),
        top_p=_number(payload.get("top_p")),
        source_format="openai_responses",
    )


def _from_anthropic(payload: Mapping[str, Any]) -> ChatRequest:
    system = _parts_text(payload.get("system"), where="system")
    messages: list[Message] = []
    for i, m in enumerate(payload.get("messages") or []):
        role, content, where = m.get("role"), m.get("content"), f"messages[{i}]"
        if role not in ("user", "assistant"):
            raise Unsupported(f"{where}: role {role!r}")
        if isinstance(content, str):
            messages.append(Message(role, content))
            continue
        texts: list[str] = []
        calls: list[ToolCall] = []
        for block in content or []:
            kind = block.get("type")
            if kind == "text":
                texts.append(str(block.get("text", "")))
            elif kind == "tool_use":
                calls.append(
                    ToolCall(
                        str(block.get("id", "")), str(block["name"]), _json_text(block.get("input") or {})
                    )
                )
            elif kind == "tool_result":
                messages.append(
                    Message(
                        "tool",
                        _parts_text(block.get("content"), where=where),
                        tool_call_id=str(block.get("tool_use_id", "")),
                    )
                )
            elif kind in ("thinking", "redacted_thinking"):
                continue
            else:
                raise Unsupported(f"{where}: a {kind!r} block (only text and tools can be replayed)")
        if texts or calls:
            messages.append(Message(role, "".join(texts), tuple(calls)))
    tools = tuple(
        ToolSpec(str(t["name"]), str(t.get("description") or ""), dict(t.get("input_schema") or {}))
        for t in payload.get("tools") or []
        if "name" in t
    )
    choice = payload.get("tool_choice")
    tool_choice = None
    if isinstance(choice, Mapping):
        tool_choice = {"auto": "auto", "any": "required", "none": "none"}.get(str(choice.get("type")))
        if choice.get("type") == "tool":
            tool_choice = str(choice.get("name"))
    return ChatRequest(
        system=system,
        messages=tuple(messages),
        tools=tools,
        tool_choice=tool_choice,
        max_tokens=_max_tokens(payload.get("max_tokens")),
        temperature=_number(payload.get("temperature")),
        top_p=_number(payload.get("top_p")),
        stop=_stop(payload.get("stop_sequences")),
        source_format="anthropic",
    )


# --- answers ---------------------------------------------------------------------------------


def parse_answer(payload: Any) -> str:
    """The app's answer from a captured response, as evaluators compare it ('' when none)."""
    if payload is None:
        return ""
    if isinstance(payload, str):
        return payload
    if not isinstance(payload, Mapping):
        return _json_text(payload)
    if "choices" in payload:  # Chat Completions
        choices = payload.get("choices") or []
        if not choices:
            return ""
        message = choices[0].get("message") or choices[0].get("delta") or {}
        calls = [
            ToolCall(
                str(c.get("id", "")), str(c["function"]["name"]), str(c["function"].get("arguments") or "{}")
            )
            for c in message.get("tool_calls") or []
            if isinstance(c, Mapping) and "function" in c
        ]
        text = message.get("content")
        return answer_text(_parts_text(text, where="message") if text else "", calls)
    if "candidates" in payload:  # Gemini (REST or google-genai)
        return gemini_answer(payload)
    if payload.get("type") == "message" and isinstance(payload.get("content"), list):  # Anthropic
        blocks = payload["content"]
        text = "".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text")
        calls = [
            ToolCall(str(b.get("id", "")), str(b["name"]), _json_text(b.get("input") or {}))
            for b in blocks
            if b.get("type") == "tool_use"
        ]
        return answer_text(text, calls)
    if "output" in payload and isinstance(payload["output"], list):  # Responses
        texts: list[str] = []
        calls = []
        for item in payload["output"]:
            if item.get("type") == "message":
                texts.extend(
                    str(c.get("text", ""))
                    for c in item.get("content") or []
                    if c.get("type") == "output_text"
                )
            elif item.get("type") == "function_call":
                calls.append(
                    ToolCall(
                        str(item.get("call_id", "")), str(item["name"]), str(item.get("arguments") or "{}")
                    )
                )
        return answer_text("".join(texts), calls)
    for key in ("output_text", "content", "text", "output", "completion", "answer"):
        if key in payload:
            value = payload[key]
            if isinstance(value, list):
                try:
                    return _parts_text(value, where=key)
                except Unsupported:
                    return _json_text(value)
            return value if isinstance(value, str) else _json_text(value)
    return ""
