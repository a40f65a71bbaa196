"""OpenAPI for the plain Django views (ingest, feedback, OTLP): the hot paths skip DRF, but they
are public APIs, so they are documented here and merged into /api/schema/ by a postprocessing hook."""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
_COUNT = {"type": "integer", "minimum": 0, "maximum": 2_000_000_000}
EVENT = {
    "type": "object",
    "required": ["event_id", "ts", "model"],
    "properties": {
        "event_id": {"type": "string", "format": "uuid"},
        "ts": {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "integer", "minimum": 1}]},
        "model": {"type": "string", "minLength": 1, "maxLength": 256},
        "endpoint": {"type": "string", "minLength": 1, "maxLength": 128},
        "provider": {"type": "string", "maxLength": 256},
        "input_tokens": _COUNT,
        "output_tokens": _COUNT,
        "cached_input_tokens": _COUNT,
        "reasoning_tokens": _COUNT,
        "latency_ms": {"type": "integer", "minimum": 0, "maximum": 86_400_000},
        "status": {"type": "string", "enum": ["ok", "error", "timeout", "filtered"]},
        "request": {"type": "object"},
        "response": {"type": "object"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 128}, "maxItems": 64},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
RESULT = {
    "type": "object",
    "required": ["accepted", "duplicates", "rejected"],
    "properties": {
        "accepted": {"type": "integer"},
        "duplicates": {"type": "integer"},
        "rejected": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(code): {"description": "error", "content": {"application/json": {"schema": ERROR}}}
        for code in codes
    }


def _post(operation_id: str, summary: str, body: dict[str, Any], ok: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["telemetry"],
            "security": [{"ProjectKey": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": {
                "200": {
                    "description": "stored (see rejected for events that were not)",
                    "content": {"application/json": {"schema": ok}},
                },
                **_errors(400, 401, 403, 413, 415, 429, 503),
            },
        }
    }


PATHS = {
    "/v1/ingest": _post(
        "ingest_events",
        "Send a batch of LLM call events (docs/protocol.md). gzip and zstd bodies accepted.",
        {
            "type": "object",
            "required": ["events"],
            "properties": {
                "schema_version": {"type": "integer", "enum": [1]},
                "events": {"type": "array", "items": EVENT, "maxItems": 5000},
            },
        },
        RESULT,
    ),
    "/v1/feedback": _post(
        "ingest_feedback",
        "Attach scores or thumbs to earlier events.",
        {
            "type": "object",
            "required": ["feedback"],
            "properties": {
                "feedback": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["event_id", "score"],
                        "properties": {
                            "event_id": {"type": "string", "format": "uuid"},
                            "score": {"type": "number"},
                            "kind": {"type": "string", "enum": ["thumbs", "score"]},
                            "comment": {"type": "string", "maxLength": 4096},
                        },
                    },
                }
            },
        },
        RESULT,
    ),
}


def add_plain_views(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("paths", {}).update(PATHS)
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes.setdefault("ProjectKey", {"type": "http", "scheme": "bearer"})
    return result
