"""Google Gemini `generateContent` over plain HTTP: `POST {base_url}/models/{model}:generateContent`.

Roles are `user` and `model`; the system prompt is `systemInstruction`; tools are
`functionDeclarations`, calls `functionCall` parts and results `functionResponse` parts (matched
by name). JSON mode is `responseMimeType: application/json`; a schema goes into the system
instruction rather than `responseSchema`, whose OpenAPI subset rejects much of JSON Schema.
Gemini reports thinking tokens beside the output tokens, so the worst case allows for them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from apps.pricing.usage import usage_from_payload
from apps.replay.providers.base import DEFAULT_MAX_TOKENS, ChatRequest, Completion, ToolCall
from apps.replay.providers.remote import HttpAdapter

_BLOCKED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"}


def _obj(text: str) -> Any:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {"content": text}
    return value if isinstance(value, dict) else {"content": value}


def render_gemini(request: ChatRequest, model: str) -> dict[str, Any]:
    contents: list[dict[str, Any]] = []
    names = {c.id: c.name for m in request.messages for c in m.tool_calls}

    def add(role: str, part: dict[str, Any]) -> None:
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].append(part)
        else:
            contents.append({"role": role, "parts": [part]})

    for m in request.messages:
        if m.role == "tool":
            name = m.name or names.get(m.tool_call_id, m.tool_call_id)
            add("user", {"functionResponse": {"name": name, "response": _obj(m.text)}})
        elif m.role == "assistant":
            if m.text:
                add("model", {"text": m.text})
            for c in m.tool_calls:
                add("model", {"functionCall": {"name": c.name, "args": _obj(c.arguments)}})
        else:
            add("user", {"text": m.text})
    system = request.system
    if request.json_schema:
        extra = "Respond with JSON matching this JSON Schema: " + json.dumps(
            request.json_schema, sort_keys=True
        )
        system = f"{system}\n\n{extra}" if system else extra
    config: dict[str, Any] = {"maxOutputTokens": (request.max_tokens or DEFAULT_MAX_TOKENS)}
    if request.json_mode or request.json_schema:
        config["responseMimeType"] = "application/json"
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.top_p is not None:
        config["topP"] = request.top_p
    if request.stop:
        config["stopSequences"] = list(request.stop)[:5]
    body: dict[str, Any] = {"contents": contents, "generationConfig": config}
    if system:
        body["systemInstruction"] = {"parts": [{"text": system}]}
    if request.tools:
        body["tools"] = [
            {
                "functionDeclarations": [
                    {
                        "name": t.name,
                        "description": t.description,
                        **({"parameters": t.parameters} if t.parameters else {}),
                    }
                    for t in request.tools
                ]
            }
        ]
        mode = {"auto": "AUTO", "none": "NONE", "required": "ANY"}.get(request.tool_choice or "")
        if mode:
            body["toolConfig"] = {"functionCallingConfig": {"mode": mode}}
        elif request.tool_choice:
            body["toolConfig"] = {
                "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [request.tool_choice]}
            }
    return body


def parse_gemini(data: Mapping[str, Any], latency_ms: int) -> Completion:
    candidates = data.get("candidates")
    usage_raw = data.get("usageMetadata")
    usage = usage_from_payload("gemini", usage_raw) if isinstance(usage_raw, Mapping) else None
    if not candidates:
        block = (data.get("promptFeedback") or {}).get("blockReason")
        if block:  # the prompt itself was blocked: an answer, just an empty and refused one
            return Completion("", (), usage, latency_ms, finish_reason=str(block), refused=True)
        raise ValueError("no candidates in the reply")
    first = candidates[0]
    parts = (first.get("content") or {}).get("parts") or []
    text = "".join(str(p["text"]) for p in parts if "text" in p and not p.get("thought"))
    calls = tuple(
        ToolCall(
            str(p["functionCall"].get("id", "")),
            str(p["functionCall"]["name"]),
            json.dumps(p["functionCall"].get("args") or {}, sort_keys=True),
        )
        for p in parts
        if "functionCall" in p
    )
    finish = str(first.get("finishReason") or "")
    return Completion(
        text=text,
        tool_calls=calls,
        usage=usage,
        latency_ms=latency_ms,
        finish_reason=finish,
        refused=finish in _BLOCKED,
        model=str(data.get("modelVersion") or ""),
    )


class GeminiAdapter(HttpAdapter):
    api = "gemini"
    usage_format = "gemini"
    default_base_url = "https://generativelanguage.googleapis.com/v1beta"
    reasoning_outside_max = True

    def headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self.api_key} if self.api_key else {}

    def path(self, model: str) -> str:
        name = model.removeprefix("models/")
        return f"/models/{quote(name, safe='-._')}:generateContent"

    def render(self, request: ChatRequest, model: str) -> dict[str, Any]:
        return render_gemini(request, model)

    def parse(self, data: Mapping[str, Any], latency_ms: int) -> Completion:
        return parse_gemini(data, latency_ms)
