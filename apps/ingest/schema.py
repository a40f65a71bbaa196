"""The telemetry event, schema v1 (DESIGN.md §3, docs/protocol.md), validated with msgspec.

Each event is decoded on its own so one bad event is rejected with its index and reason while
the rest of the batch is stored.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import msgspec

SCHEMA_VERSIONS = (1,)
Count = Annotated[int, msgspec.Meta(ge=0, le=2_000_000_000)]
Millis = Annotated[int, msgspec.Meta(ge=0, le=86_400_000)]
Short = Annotated[str, msgspec.Meta(max_length=256)]
Endpoint = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Status = Literal["ok", "error", "timeout", "filtered"]
Arm = Literal["baseline", "candidate", "fallback", ""]

MAX_FUTURE = timedelta(days=1)
MAX_PAST = timedelta(days=400)


class Routing(msgspec.Struct, forbid_unknown_fields=False):
    policy_version: Annotated[int, msgspec.Meta(ge=0)] = 0
    arm: Arm = ""
    target: Short = ""
    reason: Short = ""


class EventV1(msgspec.Struct, forbid_unknown_fields=False):
    event_id: uuid.UUID
    ts: str | int
    model: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    endpoint: Endpoint = "default"
    provider: Short = ""
    response_model: Short = ""
    input_tokens: Count = 0
    output_tokens: Count = 0
    cached_input_tokens: Count = 0
    cache_write_tokens: Count = 0
    cache_write_1h_tokens: Count = 0
    reasoning_tokens: Count = 0
    input_includes_cached: bool | None = None
    output_includes_reasoning: bool | None = None
    service_tier: Annotated[str, msgspec.Meta(max_length=32)] = ""
    # What the request asked and how the answer ended, when the payloads do not say (or are not sent).
    max_tokens: Count | None = None
    stream: bool | None = None
    finish_reason: Annotated[str, msgspec.Meta(max_length=64)] = ""
    latency_ms: Millis = 0
    ttft_ms: Millis | None = None
    status: Status = "ok"
    error_type: Short = ""
    cost_usd: Annotated[float, msgspec.Meta(ge=0, le=1_000_000)] | None = None
    # Captured payloads, kept as their raw JSON text (b"" when absent, b"null" when null).
    request: msgspec.Raw = msgspec.Raw(b"")
    response: msgspec.Raw = msgspec.Raw(b"")
    routing: Routing | None = None
    conversation_id: Short = ""
    user_id: Short = ""
    customer_id: Short = ""
    tags: Annotated[list[Annotated[str, msgspec.Meta(max_length=128)]], msgspec.Meta(max_length=64)] = []
    metadata: Annotated[
        dict[str, Annotated[str, msgspec.Meta(max_length=2048)]], msgspec.Meta(max_length=64)
    ] = {}
    environment: Annotated[str, msgspec.Meta(max_length=64)] = ""


class Batch(msgspec.Struct, forbid_unknown_fields=False):
    events: list[msgspec.Raw]
    schema_version: int = 1
    sdk: dict[str, str] | None = None


class Feedback(msgspec.Struct, forbid_unknown_fields=False):
    event_id: uuid.UUID
    score: Annotated[float, msgspec.Meta(ge=-1_000_000, le=1_000_000)]
    kind: Literal["thumbs", "score"] = "score"
    comment: Annotated[str, msgspec.Meta(max_length=4096)] = ""
    ts: str | int | None = None
    feedback_id: uuid.UUID | None = None


class FeedbackBatch(msgspec.Struct, forbid_unknown_fields=False):
    feedback: list[msgspec.Raw]


batch_decoder = msgspec.json.Decoder(Batch)
event_decoder = msgspec.json.Decoder(EventV1)
feedback_batch_decoder = msgspec.json.Decoder(FeedbackBatch)
feedback_decoder = msgspec.json.Decoder(Feedback)


class InvalidEvent(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
MAX_FUTURE_MS = MAX_FUTURE // _MS
MAX_PAST_MS = MAX_PAST // _MS


def now_ms() -> int:
    return (datetime.now(UTC) - _EPOCH) // _MS


def parse_ts_ms(value: str | int, *, now: int) -> int:
    """RFC 3339 text or epoch milliseconds → epoch milliseconds, within a sane window of now."""
    if isinstance(value, int):
        if not 0 < value < 10**14:
            raise InvalidEvent("invalid_field", "ts: epoch milliseconds out of range")
        ms = value
    else:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise InvalidEvent(
                "invalid_field", "ts: not an RFC 3339 timestamp or epoch milliseconds"
            ) from exc
        if parsed.tzinfo is None:
            raise InvalidEvent("invalid_field", "ts: RFC 3339 timestamps need a timezone (e.g. Z)")
        ms = (parsed - _EPOCH) // _MS
    if ms > now + MAX_FUTURE_MS:
        raise InvalidEvent("invalid_field", "ts: more than a day in the future (check the client clock)")
    if ms < now - MAX_PAST_MS:
        raise InvalidEvent("invalid_field", "ts: older than 400 days")
    return ms


def ms_to_datetime(ms: int) -> datetime:
    return _EPOCH + ms * _MS


def ms_to_text(ms: int) -> str:
    """Exact decimal seconds, as ClickHouse parses into DateTime64(3)."""
    return f"{ms // 1000}.{ms % 1000:03d}"


def decode_event(raw: bytes | msgspec.Raw) -> EventV1:
    try:
        return event_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise InvalidEvent("invalid_field", str(exc).replace("`$.", "`")) from exc
    except msgspec.DecodeError as exc:
        raise InvalidEvent("malformed_event", str(exc)) from exc
    except RecursionError as exc:
        raise InvalidEvent("malformed_event", "event JSON is nested too deeply") from exc
