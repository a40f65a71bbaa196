"""OpenAI-compatible Chat Completions: OpenAI, OpenRouter, Together, Groq, vLLM, Ollama, …

Any host speaking `POST {base_url}/chat/completions` with a Bearer key. Usage is read with the
`openai_chat` parser of apps.pricing (cached and reasoning tokens included).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.pricing.usage import usage_from_payload
from apps.replay.providers.base import DEFAULT_MAX_TOKENS, ChatRequest, Completion, ToolCall
from apps.replay.providers.remote import HttpAdapter

# Models that take `max_completion_tokens` and refuse `max_tokens` (OpenAI reasoning models).
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")


def render_openai(request: ChatRequest, model: str) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    for m in request.messages:
        if m.role == "tool":
            messages.append({"role": "tool", "tool_call_id": m.tool_call_id or m.name, "content": m.text})
        elif m.role == "assistant" and m.tool_calls:
            messages.append(
                {
                    "role": "assistant",
                    "content": m.text or None,
                    "tool_calls": [
                        {
                            "id": c.id or f"call_{i}",
                            "type": "function",
                            "function": {"name": c.name, "arguments": c.arguments},
                        }
                        for i, c in enumerate(m.tool_calls)
                    ],
                }
            )
        else:
            messages.append({"role": m.role, "content": m.text})
    body: dict[str, Any] = {"model": model, "messages": messages}
    bare = model.rsplit("/", 1)[-1].lower()
    if bare.startswith(_REASONING_PREFIXES):
        body["max_completion_tokens"] = request.max_tokens or DEFAULT_MAX_TOKENS
    else:
        body["max_tokens"] = request.max_tokens or DEFAULT_MAX_TOKENS
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.parameters or {"type": "object"},
                },
            }
            for t in request.tools
        ]
        if request.tool_choice in ("auto", "none", "required"):
            body["tool_choice"] = request.tool_choice
        elif request.tool_choice:
            body["tool_choice"] = {"type": "function", "function": {"name": request.tool_choice}}
    if request.json_schema:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": request.json_schema},
        }
    elif request.json_mode:
        body["response_format"] = {"type": "json_object"}
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop:
        body["stop"] = list(request.stop)
    return body


def parse_openai(data: Mapping[str, Any], latency_ms: int) -> Completion:
    choice = data["choices"][0]
    message = choice.get("message") or {}
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    calls = tuple(
        ToolCall(
            str(c.get("id", "")), str(c["function"]["name"]), str(c["function"].get("arguments") or "{}")
        )
        for c in message.get("tool_calls") or []
    )
    usage = data.get("usage")
    return Completion(
        text=str(content or ""),
        tool_calls=calls,
        usage=usage_from_payload("openai_chat", usage) if isinstance(usage, Mapping) else None,
        latency_ms=latency_ms,
        finish_reason=str(choice.get("finish_reason") or ""),
        refused=bool(message.get("refusal")) or choice.get("finish_reason") == "content_filter",
        model=str(data.get("model") or ""),
    )


class OpenAICompatAdapter(HttpAdapter):
    api = "openai"
    usage_format = "openai_chat"
    default_base_url = "https://api.openai.com/v1"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def path(self, model: str) -> str:
        return "/chat/completions"

    def render(self, request: ChatRequest, model: str) -> dict[str, Any]:
        return render_openai(request, model)

    def parse(self, data: Mapping[str, Any], latency_ms: int) -> Completion:
        return parse_openai(data, latency_ms)
