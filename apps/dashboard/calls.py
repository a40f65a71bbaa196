"""The call explorer: raw calls, filtered, newest first, with keyset pagination; one call's
detail; and the rows of a CSV export, fetched in bounded chunks.

Raw calls are read with FINAL (each call once, at its latest revision). A page never scans the
whole range when it does not have to: it reads time windows backwards from the keyset position
(the first one hour long, each next one GROWTH times longer) until it has a page of calls, so
the newest 50 calls of a 30-day range with 10 M calls read about one hour of data.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from apps.core.errors import NotFound
from apps.dashboard.filters import CallFilters, Cursor
from apps.replay.exclusions import EXPLORER_CLAUSES as EXCLUSION_CLAUSES
from apps.warehouse.client import ProjectScope, load_sql

PAGE_SIZE = 50
EXPORT_CHUNK = 5_000
FIRST_WINDOW = timedelta(hours=1)
GROWTH = 8
MAX_UUID = uuid.UUID(int=2**128 - 1)
FINAL_SETTINGS = {"do_not_merge_across_partitions_select_final": 1}

# The only clauses a filter can add to calls_page.sql (with apps.replay.exclusions.EXPLORER_CLAUSES
# for `replay_exclusion`); each binds its value.
FILTER_CLAUSES: dict[str, str] = {
    "endpoint": "AND endpoint = {endpoint:String}",
    "model": "AND model = {model:String}",
    "status": "AND status = {status:String}",
    "tag": "AND has(tags, {tag:String})",
    "user_id": "AND user_id = {user_id:String}",
    "conversation_id": "AND conversation_id = {conversation_id:String}",
    "min_cost": "AND cost_nano_usd >= {min_cost:Int64}",
    "max_cost": "AND cost_nano_usd <= {max_cost:Int64}",
}
COLUMNS = (
    "ts",
    "event_id",
    "endpoint",
    "environment",
    "provider",
    "model",
    "status",
    "error_type",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "latency_ms",
    "ttft_ms",
    "cost_nano_usd",
    "routing_arm",
    "routing_target",
    "user_id",
    "conversation_id",
    "tags",
    "payload_captured",
)


def calls_sql(filters: CallFilters) -> tuple[str, dict[str, Any]]:
    """calls_page.sql with the filters' clauses, and their bound values."""
    values: dict[str, Any] = {
        "endpoint": filters.endpoint,
        "model": filters.model,
        "status": filters.status,
        "tag": filters.tag,
        "user_id": filters.user_id,
        "conversation_id": filters.conversation_id,
        "min_cost": filters.min_cost_nano,
        "max_cost": filters.max_cost_nano,
    }
    used = {name: value for name, value in values.items() if value not in ("", None)}
    clauses = [FILTER_CLAUSES[name] for name in used]
    if filters.replay_exclusion:
        clauses.append(EXCLUSION_CLAUSES[filters.replay_exclusion])
        provider, _, model = filters.baseline.partition("/")
        used |= {"baseline_provider": provider, "baseline_model": model}
    return load_sql(__file__, "calls_page").replace("__FILTERS__", "\n  ".join(clauses)), used


@dataclass(frozen=True)
class CallRow:
    ts: datetime
    event_id: uuid.UUID
    endpoint: str
    environment: str
    provider: str
    model: str
    status: str
    error_type: str
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    reasoning_tokens: int
    latency_ms: int
    ttft_ms: int | None
    cost_nano_usd: int | None
    routing_arm: str
    routing_target: str
    user_id: str
    conversation_id: str
    tags: list[str]
    payload_captured: bool

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> CallRow:
        data = dict(zip(COLUMNS, row, strict=True))
        data["ts"] = _utc(data["ts"])
        data["tags"] = list(data["tags"] or [])
        data["payload_captured"] = bool(data["payload_captured"])
        return cls(**data)

    @property
    def cursor(self) -> Cursor:
        ms = calendar.timegm(self.ts.utctimetuple()) * 1000 + self.ts.microsecond // 1000
        return Cursor(ms, self.event_id)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


Fetch = Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]


def _newest(
    fetch: Fetch, sql: str, params: dict[str, Any], filters: CallFilters, want: int, window: timedelta
) -> tuple[list[tuple[Any, ...]], timedelta]:
    """Up to `want` calls before the cursor, newest first, reading windows backwards in time."""
    start, end = filters.range.start, filters.range.end
    after = filters.after
    after_ts = (
        datetime.fromtimestamp(after.ts_ms / 1000, UTC) if after is not None else end + timedelta(seconds=1)
    )
    bound = {
        **params,
        "after_ts": _naive(after_ts),
        "after_id": after.event_id if after is not None else MAX_UUID,
    }
    hi = min(end, after_ts + timedelta(milliseconds=1))
    out: list[tuple[Any, ...]] = []
    while hi > start and len(out) < want:
        lo = max(start, hi - window)
        out.extend(fetch(sql, {**bound, "lo": _naive(lo), "hi": _naive(hi), "limit": want - len(out)}))
        hi = lo
        if len(out) < want:
            window *= GROWTH
    return out, window


@dataclass(frozen=True)
class CallsPage:
    rows: list[CallRow]
    next_cursor: Cursor | None


def calls_page(*, project_id: int, filters: CallFilters, limit: int = PAGE_SIZE) -> CallsPage:
    scope = ProjectScope(project_id)
    sql, params = calls_sql(filters)

    def fetch(text: str, bound: dict[str, Any]) -> list[tuple[Any, ...]]:
        return scope.query(text, bound, feature="dashboard.calls", settings=FINAL_SETTINGS).rows

    raw, _ = _newest(fetch, sql, params, filters, limit + 1, FIRST_WINDOW)
    rows = [CallRow.from_row(r) for r in raw]
    more = len(rows) > limit
    rows = rows[:limit]
    return CallsPage(rows, rows[-1].cursor if more and rows else None)


# --- CSV export ------------------------------------------------------------------------------

EXPORT_HEADER = tuple("cost_usd" if name == "cost_nano_usd" else name for name in COLUMNS)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula is quoted (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def usd_text(nano: int | None) -> str:
    return "" if nano is None else format(Decimal(nano).scaleb(-9), "f")


def _csv_line(call: CallRow) -> list[Any]:
    return [
        call.ts.isoformat().replace("+00:00", "Z"),
        str(call.event_id),
        _cell(call.endpoint),
        _cell(call.environment),
        _cell(call.provider),
        _cell(call.model),
        call.status,
        _cell(call.error_type),
        call.input_tokens,
        call.output_tokens,
        call.cached_input_tokens,
        call.reasoning_tokens,
        call.latency_ms,
        "" if call.ttft_ms is None else call.ttft_ms,
        usd_text(call.cost_nano_usd),
        call.routing_arm,
        _cell(call.routing_target),
        _cell(call.user_id),
        _cell(call.conversation_id),
        _cell(";".join(call.tags)),
        int(call.payload_captured),
    ]


def export_csv_chunks(*, project_id: int, filters: CallFilters, chunk: int = EXPORT_CHUNK) -> Iterator[str]:
    """The filtered calls as CSV text, newest first, one chunk of at most `chunk` calls at a time.

    Each chunk is a keyset query streamed with ProjectScope.stream_rows and drained before its
    text is handed on: memory stays bounded by the chunk whatever the export's size, and the
    embedded engine (one lock per process) is never held while a slow client downloads.
    """
    scope = ProjectScope(project_id)
    sql, params = calls_sql(filters)

    def fetch(text: str, bound: dict[str, Any]) -> list[tuple[Any, ...]]:
        return list(scope.stream_rows(text, bound, feature="dashboard.export"))

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_HEADER)
    yield buffer.getvalue()
    window = FIRST_WINDOW
    current = filters.with_cursor(None)
    while True:
        raw, window = _newest(fetch, sql, params, current, chunk, window)
        if not raw:
            return
        buffer.seek(0)
        buffer.truncate()
        calls = [CallRow.from_row(r) for r in raw]
        writer.writerows(_csv_line(c) for c in calls)
        yield buffer.getvalue()
        if len(raw) < chunk:
            return
        current = filters.with_cursor(calls[-1].cursor)
        window = max(FIRST_WINDOW, window / GROWTH)


# --- one call --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Feedback:
    ts: datetime
    kind: str
    score: float
    comment: str


@dataclass(frozen=True)
class CallDetail:
    data: dict[str, Any]
    breakdown: list[tuple[str, int]]  # (part, nano-USD) as stored at ingest: ('Cached input', 170700)
    request: str  # pretty-printed JSON (already redacted at ingest), "" if not captured
    response: str
    feedback: list[Feedback]


def _pretty(text: str) -> str:
    if not text:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def call_get(*, project_id: int, event_id: uuid.UUID) -> CallDetail:
    """One call of the project, or NotFound (another project's call is not found either)."""
    scope = ProjectScope(project_id)
    rows = scope.query(
        load_sql(__file__, "call_detail"),
        {"event_id": event_id},
        feature="dashboard.call",
        settings=FINAL_SETTINGS,
    ).dicts()
    if not rows:
        raise NotFound("No call with this id in this project")
    data = rows[0]
    data["ts"] = _utc(data["ts"])
    data["received_at"] = _utc(data["received_at"])
    data["metadata"] = dict(data["metadata"] or {})
    try:
        parts = json.loads(data["cost_breakdown"]) if data["cost_breakdown"] else {}
    except ValueError:
        parts = {}
    breakdown = [
        (str(k).replace("_", " ").capitalize(), int(v)) for k, v in parts.items() if isinstance(v, int) and v
    ]
    feedback = [
        Feedback(_utc(ts), kind, float(score), comment)
        for ts, kind, score, comment in scope.query(
            load_sql(__file__, "call_feedback"), {"event_id": event_id}, feature="dashboard.call"
        ).rows
    ]
    return CallDetail(
        data=data,
        breakdown=breakdown,
        request=_pretty(data.pop("request") or ""),
        response=_pretty(data.pop("response") or ""),
        feedback=feedback,
    )
