"""Building realistic telemetry events and reading back what was stored."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from django.test import Client

from apps.warehouse.client import ProjectScope


def event(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "ts": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "endpoint": "support-reply",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input_tokens": 1200,
        "output_tokens": 300,
        "latency_ms": 850,
        "status": "ok",
        "request": {"messages": [{"role": "user", "content": "Where is my order #1234?"}]},
        "response": {"content": "It ships tomorrow."},
    }
    base.update(overrides)
    return base


def post_batch(client: Client, events: list[dict[str, Any]], *, encoding: str = "", **extra: Any) -> Any:
    body = json.dumps({"schema_version": 1, "events": events}).encode()
    headers: dict[str, Any] = {}
    if encoding == "gzip":
        body = gzip.compress(body)
        headers["HTTP_CONTENT_ENCODING"] = "gzip"
    elif encoding == "zstd":
        import zstandard

        body = zstandard.ZstdCompressor().compress(body)
        headers["HTTP_CONTENT_ENCODING"] = "zstd"
    return client.post("/v1/ingest", data=body, content_type="application/json", **headers, **extra)


def stored_count(project_id: int) -> int:
    sql = "SELECT count() FROM llm_calls FINAL WHERE project_id = {project_id:UInt64}"
    return int(ProjectScope(project_id).query(sql, feature="test").scalar())


def raw_row_count(project_id: int) -> int:
    sql = "SELECT count() FROM llm_calls WHERE project_id = {project_id:UInt64}"
    return int(ProjectScope(project_id).query(sql, feature="test").scalar())


def rollup_calls(project_id: int) -> tuple[int, int]:
    """(calls in the minute rollup, calls in the hour rollup)."""
    scope = ProjectScope(project_id)
    minute = scope.query(
        "SELECT sum(calls) FROM llm_calls_1m WHERE project_id = {project_id:UInt64}", feature="test"
    )
    hour = scope.query(
        "SELECT sum(calls) FROM llm_calls_1h WHERE project_id = {project_id:UInt64}", feature="test"
    )
    return int(minute.scalar() or 0), int(hour.scalar() or 0)


def stored_call(project_id: int, event_id: str) -> dict[str, Any]:
    sql = """SELECT * FROM llm_calls FINAL
             WHERE project_id = {project_id:UInt64} AND event_id = {e:UUID}"""
    rows = ProjectScope(project_id).query(sql, {"e": event_id}, feature="test").dicts()
    assert len(rows) == 1, rows
    return rows[0]
