"""Response bodies shaped exactly as the real providers send them today, with everything a real
body carries besides the answer: created timestamps, long ids, fingerprints, usage blocks with
their detail objects, safety ratings. Fake provider servers answer with these, and the redaction
benchmark and tests use them, so nothing here is a simplified stand-in.
"""

from __future__ import annotations

import time
from typing import Any

CREATED = 1733456789  # 10 digits: the shape a careless phone-number pattern takes for a phone


def openai_chat(model: str, text: str, prompt_tokens: int, output_tokens: int) -> dict[str, Any]:
    """`POST /v1/chat/completions`."""
    return {
        "id": "chatcmpl-AbCdEf0123456789GhIjKlMnOpQrSt",
        "object": "chat.completion",
        "created": CREATED,
        "model": f"{model}-2024-08-06" if "-20" not in model else model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": output_tokens,
            "total_tokens": prompt_tokens + output_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_50cad350e4",
    }


def openai_responses(model: str, text: str, prompt_tokens: int, output_tokens: int) -> dict[str, Any]:
    """`POST /v1/responses`."""
    return {
        "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
        "object": "response",
        "created_at": CREATED,
        "status": "completed",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": f"{model}-2024-08-06" if "-20" not in model else model,
        "output": [
            {
                "type": "message",
                "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
            }
        ],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt_tokens + output_tokens,
        },
        "user": None,
        "metadata": {},
    }


def anthropic_message(model: str, text: str, prompt_tokens: int, output_tokens: int) -> dict[str, Any]:
    """`POST /v1/messages`."""
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": prompt_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": output_tokens,
            "service_tier": "standard",
        },
    }


def gemini_generate(model: str, text: str, prompt_tokens: int, output_tokens: int) -> dict[str, Any]:
    """`POST /v1beta/models/{model}:generateContent`."""
    return {
        "candidates": [
            {
                "content": {"parts": [{"text": text}], "role": "model"},
                "finishReason": "STOP",
                "avgLogprobs": -0.1274352073669434,
                "safetyRatings": [
                    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
                    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "NEGLIGIBLE"},
                    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
                    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
                ],
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": prompt_tokens + output_tokens + 23,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
            "thoughtsTokenCount": 23,
        },
        "modelVersion": model,
        "responseId": "7kxMaJ6tLZ2wz7IPzqOQuAU",
        "createTime": time.strftime("%Y-%m-%dT%H:%M:%S.123456Z", time.gmtime(CREATED)),
    }


BODIES = {
    "openai_chat": openai_chat,
    "openai_responses": openai_responses,
    "anthropic": anthropic_message,
    "gemini": gemini_generate,
}
