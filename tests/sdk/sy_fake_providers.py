"""Fake OpenAI and Anthropic APIs speaking their wire formats, for the real client libraries.

Behaviour is scripted per model: ``answers[model]`` sets the text, ``failures[model]`` a list of
HTTP statuses returned (and consumed) before answering normally. Every request is recorded.
"""

from __future__ import annotations

import json
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
    tiers: dict[str, str] = field(default_factory=dict)  # the service tier each model is served at
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def reset(self) -> None:
        with self.lock:
            self.answers.clear()
            self.failures.clear()
            self.tiers.clear()
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

    def do_GET(self) -> None:
        """The Batch API's results: ``GET /v1/batches/{id}`` and ``GET /v1/files/{id}/content``."""
        if self.path.startswith("/v1/batches/"):
            batch_id = self.path.rsplit("/", 1)[-1]
            counts = {"total": 3, "completed": 2, "failed": 1}
            self.send_json(200, {
                "id": batch_id, "object": "batch", "endpoint": "/v1/chat/completions", "input_file_id": "file-in",
                "completion_window": "24h", "status": "completed", "output_file_id": "file-out",
                "created_at": int(time.time()) - 600, "request_counts": counts,
            })
        elif self.path == "/v1/files/file-out/content":
            lines = [
                {"id": f"batch_req_{i}", "custom_id": f"request-{i}", "error": None,
                 "response": {"status_code": 200, "request_id": f"req_{i}",
                              "body": self.completion({"model": "gpt-4o-mini"}, f"batch answer {i}", f"chatcmpl-b{i}")}}
                for i in (1, 2)
            ]
            lines.append({"id": "batch_req_3", "custom_id": "request-3", "response": None,
                          "error": {"code": "invalid_request", "message": "bad"}})
            self.send_bytes(200, "\n".join(json.dumps(line) for line in lines).encode(), "application/jsonl")
        else:
            self.send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def completion(self, body: dict[str, Any], text: str, response_id: str = "chatcmpl-1") -> dict[str, Any]:
        model = f"{body['model']}-2024-07-18"
        message = {"role": "assistant", "content": text, "refusal": None}
        return {
            "id": response_id, "object": "chat.completion", "created": int(time.time()), "model": model,
            "system_fingerprint": "fp_1", "service_tier": "default",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
            "usage": self.chat_usage(),
        }

    def chat(self, body: dict[str, Any], text: str) -> None:
        model = f"{body['model']}-2024-07-18"
        base = {"id": "chatcmpl-1", "created": int(time.time()), "model": model, "system_fingerprint": "fp_1",
                "service_tier": self.app.tiers.get(body["model"], "default")}
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
            "service_tier": self.app.tiers.get(body["model"], "default"),
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
    """``POST /v1/messages``, JSON or SSE; a finished Message Batch and its results (``GET``)."""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path.endswith("/results"):
            batch_id = path.split("/")[-2]
            lines = [
                {"custom_id": f"request-{i}", "result": {"type": "succeeded", "message": {
                    "id": f"msg_b{i}", "type": "message", "role": "assistant", "model": "claude-haiku-4-5-20241022",
                    "content": [{"type": "text", "text": f"batch answer {i}"}], "stop_reason": "end_turn",
                    "stop_sequence": None,
                    "usage": {"input_tokens": 100 * i, "output_tokens": 10 * i, "cache_read_input_tokens": 0,
                              "cache_creation_input_tokens": 0, "service_tier": "batch"}}}}
                for i in (1, 2)
            ]
            lines.append({"custom_id": "request-3", "result": {"type": "errored", "error": {
                "type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}}})
            self.send_bytes(200, "\n".join(json.dumps(line) for line in lines).encode(), "application/binary")
        elif path.startswith("/v1/messages/batches/"):
            batch_id = path.rsplit("/", 1)[-1]
            now = "2026-12-01T00:00:00Z"
            self.send_json(200, {
                "id": batch_id, "type": "message_batch", "processing_status": "ended",
                "request_counts": {"processing": 0, "succeeded": 2, "errored": 1, "canceled": 0, "expired": 0},
                "created_at": now, "ended_at": now, "expires_at": now, "archived_at": None,
                "cancel_initiated_at": None, "results_url": f"{self.app.url}/v1/messages/batches/{batch_id}/results",
            })
        else:
            self.send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "not found"}})

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
            "service_tier": self.app.tiers.get(body["model"], "standard"),
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
