"""Fake OpenAI and Anthropic APIs speaking their wire formats, for the real client libraries.

Behaviour is scripted per model: ``answers[model]`` sets the text, ``failures[model]`` a list of
HTTP statuses returned (and consumed) before answering normally. Every request is recorded.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sy_http import Handler

USAGE = {"input": 11, "output": 7, "cached": 3, "reasoning": 2}


@dataclass
class ProviderState:
    answers: dict[str, str] = field(default_factory=dict)
    failures: dict[str, list[int]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.answers.clear()
            self.failures.clear()
            self.requests.clear()

    def take(self, path: str, body: dict[str, Any], headers: Any) -> tuple[int | None, str]:
        """Record the request; return a scripted failure status (or None) and the answer text."""
        model = str(body.get("model"))
        with self.lock:
            self.requests.append({"path": path, "body": body, "headers": {k.lower(): v for k, v in headers.items()}})
            queue = self.failures.get(model)
            status = queue.pop(0) if queue else None
            return status, self.answers.get(model, f"answer from {model}")

    def models(self) -> list[str]:
        with self.lock:
            return [str(r["body"].get("model")) for r in self.requests]


def _chunks(text: str) -> list[str]:
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


class OpenAIHandler(Handler):
    """``POST /v1/chat/completions`` and ``POST /v1/responses``, JSON or SSE."""

    def do_POST(self) -> None:
        body = self.read_json()
        status, text = self.app.take(self.path, body, self.headers)
        if status is not None:
            error = {"message": f"scripted {status}", "type": "server_error", "param": None, "code": None}
            self.send_json(status, {"error": error})
            return
        if self.path == "/v1/chat/completions":
            self.chat(body, text)
        elif self.path == "/v1/responses":
            self.responses_api(body, text)
        else:
            self.send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def chat_usage(self) -> dict[str, Any]:
        return {
            "prompt_tokens": USAGE["input"],
            "completion_tokens": USAGE["output"],
            "total_tokens": USAGE["input"] + USAGE["output"],
            "prompt_tokens_details": {"cached_tokens": USAGE["cached"], "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": USAGE["reasoning"], "audio_tokens": 0},
        }

    def chat(self, body: dict[str, Any], text: str) -> None:
        model = f"{body['model']}-2024-07-18"
        base = {"id": "chatcmpl-1", "created": int(time.time()), "model": model, "system_fingerprint": "fp_1"}
        refusal = text if text.startswith("REFUSE:") else None
        if not body.get("stream"):
            message = {"role": "assistant", "content": None if refusal else text, "refusal": refusal}
            choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
            self.send_json(200, {**base, "object": "chat.completion", "choices": [choice], "usage": self.chat_usage()})
            return
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunk = {**base, "object": "chat.completion.chunk"}
        extra = {"usage": None} if include_usage else {}

        def delta(d: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {**chunk, **extra, "choices": [{"index": 0, "delta": d, "logprobs": None, "finish_reason": finish}]}

        events: list[tuple[str | None, Any]] = [(None, delta({"role": "assistant", "content": ""}))]
        events += [(None, delta({"content": piece})) for piece in _chunks(text)]
        events.append((None, delta({}, "stop")))
        if include_usage:
            events.append((None, {**chunk, "choices": [], "usage": self.chat_usage()}))
        events.append((None, "[DONE]"))
        self.send_sse(events)

    def responses_api(self, body: dict[str, Any], text: str) -> None:
        usage = {
            "input_tokens": USAGE["input"],
            "input_tokens_details": {"cached_tokens": USAGE["cached"]},
            "output_tokens": USAGE["output"],
            "output_tokens_details": {"reasoning_tokens": USAGE["reasoning"]},
            "total_tokens": USAGE["input"] + USAGE["output"],
        }
        message = {
            "type": "message",
            "id": "msg_1",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }
        response = {
            "id": "resp_1",
            "object": "response",
            "created_at": int(time.time()),
            "model": f"{body['model']}-2024-07-18",
            "status": "completed",
            "output": [message],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": usage,
        }
        if not body.get("stream"):
            self.send_json(200, response)
            return
        started = {**response, "status": "in_progress", "output": [], "usage": None}
        item = {**message, "status": "in_progress", "content": []}
        part = {"type": "output_text", "text": "", "annotations": []}
        where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
        raw: list[dict[str, Any]] = [
            {"type": "response.created", "response": started},
            {"type": "response.in_progress", "response": started},
            {"type": "response.output_item.added", "output_index": 0, "item": item},
            {"type": "response.content_part.added", **where, "part": part},
        ]
        raw += [{"type": "response.output_text.delta", **where, "delta": p, "logprobs": []} for p in _chunks(text)]
        raw += [
            {"type": "response.output_text.done", **where, "text": text, "logprobs": []},
            {"type": "response.content_part.done", **where, "part": message["content"][0]},
            {"type": "response.output_item.done", "output_index": 0, "item": message},
            {"type": "response.completed", "response": response},
        ]
        self.send_sse([(e["type"], {**e, "sequence_number": i}) for i, e in enumerate(raw)])


class AnthropicHandler(Handler):
    """``POST /v1/messages``, JSON or SSE."""

    def do_POST(self) -> None:
        body = self.read_json()
        status, text = self.app.take(self.path, body, self.headers)
        if status is not None:
            kind = "overloaded_error" if status == 529 else "api_error"
            self.send_json(status, {"type": "error", "error": {"type": kind, "message": f"scripted {status}"}})
            return
        model = f"{body['model']}-20241022"
        usage = {
            "input_tokens": USAGE["input"],
            "output_tokens": USAGE["output"],
            "cache_creation_input_tokens": 5,
            "cache_read_input_tokens": USAGE["cached"],
            "cache_creation": {"ephemeral_5m_input_tokens": 1, "ephemeral_1h_input_tokens": 4},
        }
        stop = "refusal" if text.startswith("REFUSE:") else "end_turn"
        message = {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": usage,
        }
        if not body.get("stream"):
            self.send_json(200, message)
            return
        start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
        events: list[tuple[str | None, Any]] = [
            ("message_start", {"type": "message_start", "message": start}),
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            ("ping", {"type": "ping"}),
        ]
        for piece in _chunks(text):
            delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}
            events.append(("content_block_delta", delta))
        events += [
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": USAGE["output"]},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        self.send_sse(events)


class GeminiHandler(Handler):
    """``POST /v1beta/models/{model}:generateContent`` and ``:streamGenerateContent?alt=sse``.

    Recorded bodies carry the model from the path under ``model`` (Gemini puts it in the URL).
    """

    def do_POST(self) -> None:
        body = self.read_json()
        path = self.path.split("?", 1)[0]
        model = path.rsplit("/models/", 1)[-1].split(":", 1)[0]
        status, text = self.app.take(self.path, {**body, "model": model}, self.headers)
        if status is not None:
            error = {"code": status, "message": f"scripted {status}", "status": "UNAVAILABLE"}
            self.send_json(status, {"error": error})
            return
        usage = {
            "promptTokenCount": USAGE["input"],
            "candidatesTokenCount": USAGE["output"],
            "cachedContentTokenCount": USAGE["cached"],
            "thoughtsTokenCount": USAGE["reasoning"],
            "totalTokenCount": USAGE["input"] + USAGE["output"] + USAGE["reasoning"],
        }
        reason = "SAFETY" if text.startswith("REFUSE:") else "STOP"
        base = {"modelVersion": f"{model}-001", "responseId": "7kxMaJ6tLZ2wz7IPzqOQuAU"}

        def candidate(piece: str, finish: str | None) -> dict[str, Any]:
            out: dict[str, Any] = {"content": {"parts": [{"text": piece}], "role": "model"}, "index": 0}
            if finish:
                out["finishReason"] = finish
            return out

        if path.endswith(":generateContent"):
            self.send_json(200, {"candidates": [candidate(text, reason)], "usageMetadata": usage, **base})
        elif path.endswith(":streamGenerateContent"):
            pieces = _chunks(text)
            events: list[tuple[str | None, Any]] = [
                (None, {"candidates": [candidate(p, reason if i == len(pieces) - 1 else None)],
                        "usageMetadata": usage if i == len(pieces) - 1 else {"promptTokenCount": USAGE["input"]},
                        **base})
                for i, p in enumerate(pieces)
            ]
            self.send_sse(events)
        else:
            self.send_json(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})
