"""OpenAPI for `GET /v1/config` (a plain Django view), merged into /api/schema/ by a hook."""

from __future__ import annotations

from typing import Any

from apps.core.openapi import ERROR

CONFIG = {
    "type": "object",
    "required": ["schema_version", "config_version", "published_at", "capture", "kill_switch", "policies"],
    "properties": {
        "schema_version": {"type": "integer", "enum": [1]},
        "config_version": {"type": "integer", "minimum": 1},
        "published_at": {"type": "string", "format": "date-time"},
        "project": {"type": "string"},
        "capture": {
            "type": "object",
            "properties": {
                "mode": {"type": "string", "enum": ["none", "sampled", "always"]},
                "sample_rate": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
        "kill_switch": {
            "type": "object",
            "properties": {
                "models": {"type": "array", "items": {"type": "string"}},
                "providers": {"type": "array", "items": {"type": "string"}},
            },
        },
        "policies": {
            "type": "array",
            "items": {"type": "object"},
            "description": "POLICY objects (docs/protocol.md)",
        },
    },
}


def _error(description: str, retry: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": ERROR}}}
    if retry:
        out["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}
    return out


PATHS = {
    "/v1/config": {
        "get": {
            "operationId": "config_get",
            "summary": "The project's signed routing config for the SDK (docs/protocol.md).",
            "tags": ["routing"],
            "security": [{"ProjectKey": []}],
            "parameters": [
                {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {
                    "description": "the config; verify X-Switchyard-Signature (Ed25519 over the exact bytes)",
                    "headers": {
                        "ETag": {"schema": {"type": "string"}},
                        "X-Switchyard-Signature": {"schema": {"type": "string"}},
                        "X-Switchyard-Key-Id": {"schema": {"type": "string"}},
                    },
                    "content": {"application/json": {"schema": CONFIG}},
                },
                "304": {"description": "unchanged since the ETag sent in If-None-Match"},
                "401": _error("no valid key"),
                "403": _error("not an SDK key (sy_sdk_…)"),
                "429": _error("too many requests for this key", retry=True),
                "503": _error("try again shortly", retry=True),
            },
        }
    }
}


def add_config_view(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("paths", {}).update(PATHS)
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes.setdefault("ProjectKey", {"type": "http", "scheme": "bearer"})
    return result
