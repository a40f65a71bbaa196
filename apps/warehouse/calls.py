"""The `llm_calls` row contract: the columns ingest writes, how a row is encoded, how usage reads back.

Every writer and reader of raw calls goes through this module, so the contract is said once:

- `CallRow` lists the columns ingest writes, in order (`CALL_COLUMNS` is its field names), and
  encodes as one JSONCompactEachRow line (`encode_call`) for the group-commit writer's insert.
  `revision`, `received_at` and `prev_cost_nano_usd` are not written by ingest (their defaults
  hold; a price recompute writes a revision of its own).
- Tri-state flags (`input_includes_cached`, `output_includes_reasoning`, `streamed`) are stored as
  Int8: -1 = not said (the model's provider's rule), 0 = no, 1 = yes (`encode_flag`/`decode_flag`).
- `usage_fields(row)` reads a stored call's token counts and flags back under the names of
  `apps.pricing.cost.Usage` (`apps.pricing.usage.from_call` builds the record), exactly as ingest
  read the event; the table's DDL is in `migrations/` (0001, 0005, 0006, 0007).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import msgspec


class CallRow(msgspec.Struct, array_like=True):
    """One call as ingest writes it; the field order is the insert's column order."""

    project_id: int
    environment: str
    endpoint: str
    ts: str  # epoch seconds with milliseconds, '1767225600.123' (exact; DateTime64(3, 'UTC'))
    event_id: uuid.UUID
    provider: str
    model: str
    response_model: str
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    cache_write_1h_tokens: int
    reasoning_tokens: int
    input_includes_cached: int  # encode_flag
    output_includes_reasoning: int  # encode_flag
    service_tier: str  # standard / batch / flex / priority
    latency_ms: int
    ttft_ms: int | None
    status: str
    error_type: str
    cost_nano_usd: int | None  # None: no price for the model at ts
    client_cost_nano_usd: int | None
    price_id: int  # 0: unpriced
    cost_breakdown: msgspec.Raw | str  # JSON object of nano-USD per part, "" when unpriced
    routing_policy_version: int
    routing_arm: str
    routing_target: str
    routing_reason: str
    conversation_id: str
    user_id: str
    customer_id: str
    tags: list[str]
    metadata: dict[str, str]
    payload_captured: int  # 1 / 0
    redactions: list[str]
    request: msgspec.Raw | str  # the captured JSON, "" when not captured
    response: msgspec.Raw | str
    retention_days: int
    max_tokens: int  # 0: not said
    streamed: int  # encode_flag
    finish_reason: str
    prompt_bytes: int
    prefix_points: list[int]


CALL_COLUMNS: tuple[str, ...] = CallRow.__struct_fields__

encode_call = msgspec.json.Encoder().encode  # a CallRow → one JSONCompactEachRow line (a JSON array)

USAGE_COUNTS = (
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
)


def encode_flag(value: bool | None) -> int:
    return -1 if value is None else int(value)


def decode_flag(value: int | None) -> bool | None:
    return None if value is None or value < 0 else bool(value)


def usage_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored call's usage as keyword arguments of `Usage`; columns the query left out are left out.

    A blank service tier reads as standard (calls stored before tiers were recorded were standard).
    """
    fields: dict[str, Any] = {name: row[name] for name in USAGE_COUNTS}
    fields["input_includes_cached"] = decode_flag(row["input_includes_cached"])
    if "output_includes_reasoning" in row:
        fields["output_includes_reasoning"] = decode_flag(row["output_includes_reasoning"])
    if "service_tier" in row:
        fields["service_tier"] = row["service_tier"] or "standard"
    return fields
