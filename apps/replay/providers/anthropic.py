"""Anthropic Messages: `POST {base_url}/messages` with `x-api-key` and `anthropic-version`.

Anthropic has no JSON mode: a JSON request gets an instruction (and its schema) appended to the
system prompt. System prompts are top-level; tool calls are `tool_use` blocks and their results
`tool_result` blocks in the next user turn (consecutive tool results share one turn).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from apps.pricing.usage import usage_from_payload
from apps.replay.providers.base import DEFAULT_MAX_TOKENS, ChatRequest, Completion, ToolCall
from apps.replay.providers.remote import HttpAdapter

ANTHROPIC_VERSION = "2023-06-01"
JSON_INSTRUCTION = "Respond with a single valid JSON value and nothing else: no prose, no code fences."


def _args(text: str) -> Any:
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {"_raw": text}


def render_anthropic(request: ChatRequest, model: str) -> dict[str, Any]:
    system = request.system
    if request.json_mode or request.json_schema:
        extra = JSON_INSTRUCTION
        if request.json_schema:
            extra += " It must match this JSON Schema: " + json.dumps(request.json_schema, sort_keys=True)
        system = f"{system}\n\n{extra}" if system else extra
    messages: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if messages and messages[-1]["role"] == role:  # Anthropic wants turns to alternate
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": role, "content": blocks})

    for m in request.messages:
        if m.role == "tool":
            add("user", [{"type": "tool_result", "tool_use_id": m.tool_call_id or m.name, "content": m.text}])
        elif m.role == "assistant":
            blocks: list[dict[str, Any]] = [{"type": "text", "text": m.text}] if m.text else []
            blocks += [
                {"type": "tool_use", "id": c.id or f"toolu_{i}", "name": c.name, "input": _args(c.arguments)}
                for i, c in enumerate(m.tool_calls)
            ]
            add("assistant", blocks)
        else:
            add("user", [{"type": "text", "text": m.text}])
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": (request.max_tokens or DEFAULT_MAX_TOKENS),
        "messages": messages,
    }
    if system:
        body["system"] = system
    if request.tools:
        body["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters or {"type": "object"}}
            for t in request.tools
        ]
        if request.tool_choice == "required":
            body["tool_choice"] = {"type": "any"}
        elif request.tool_choice in ("auto", "none"):
            body["tool_choice"] = {"type": request.tool_choice}
        elif request.tool_choice:
            body["tool_choice"] = {"type": "tool", "name": request.tool_choice}
    if request.temperature is not None:
        body["temperature"] = min(1.0, request.temperature)  # Anthropic's range is 0..1
    elif request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    return body


def parse_anthropic(data: Mapping[str, Any], latency_ms: int) -> Completion:
    blocks = data["content"]
    if not isinstance(blocks, list):
        raise ValueError("content is not a list")
    text = "".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text")
    calls = tuple(
        ToolCall(str(b.get("id", "")), str(b["name"]), json.dumps(b.get("input") or {}, sort_keys=True))
        for b in blocks
        if b.get("type") == "tool_use"
    )
    usage = data.get("usage")
    return Completion(
        text=text,
        tool_calls=calls,
        usage=usage_from_payload("anthropic", usage) if isinstance(usage, Mapping) else None,
        latency_ms=latency_ms,
        finish_reason=str(data.get("stop_reason") or ""),
        refused=data.get("stop_reason") == "refusal",
        model=str(data.get("model") or ""),
    )


class AnthropicAdapter(HttpAdapter):
    api = "anthropic"
    usage_format = "anthropic"
    default_base_url = "https://api.anthropic.com/v1"

    def headers(self) -> dict[str, str]:
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        return headers

    def path(self, model: str) -> str:
        return "/messages"

    def render(self, request: ChatRequest, model: str) -> dict[str, Any]:
        return render_anthropic(request, model)

    def parse(self, data: Mapping[str, Any], latency_ms: int) -> Completion:
        return parse_anthropic(data, latency_ms)
