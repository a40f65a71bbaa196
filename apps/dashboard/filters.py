"""Query parameters of the dashboard pages, parsed and checked into dataclasses.

Every refusal is an ApplicationError whose message says what to change, so a bad link shows a
message on the page (never a 500). Times are kept in UTC; `tz` is only how they are shown and
where days start.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import QueryDict

from apps.core.errors import ApplicationError
from apps.replay.exclusions import EXPLORER_CLAUSES

PRESETS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
PRESET_LABELS = {"24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days", "custom": "Custom"}
DEFAULT_PRESET = "7d"
MAX_SPAN = timedelta(days=400)
# The minute rollup keeps 35 days (0002_rollups.sql): older ranges read the hour rollup.
MINUTE_ROLLUP_MAX_SPAN = timedelta(hours=48)
MINUTE_ROLLUP_KEEPS = timedelta(days=34)
TZ_COOKIE = "sy_tz"
STATUSES = ("ok", "error", "timeout", "filtered")
MAX_TEXT = 256  # longest user id / conversation id / tag the protocol allows


@dataclass(frozen=True)
class Grain:
    """A chart bucket size. `sql` is the allow-listed expression that buckets `bucket` in `tz`."""

    key: str
    seconds: int
    sql: str
    label: str


GRAINS: dict[str, Grain] = {
    "5m": Grain("5m", 300, "toStartOfInterval(bucket, INTERVAL 5 MINUTE, {tz:String})", "5 minutes"),
    "1h": Grain("1h", 3600, "toStartOfHour(bucket, {tz:String})", "hour"),
    "3h": Grain("3h", 10800, "toStartOfInterval(bucket, INTERVAL 3 HOUR, {tz:String})", "3 hours"),
    "1d": Grain("1d", 86400, "toStartOfDay(bucket, {tz:String})", "day"),
}


@dataclass(frozen=True)
class TimeRange:
    """[start, end) in UTC, the period before it of the same length, and how to read it."""

    preset: str
    start: datetime
    end: datetime
    tz: ZoneInfo
    now: datetime

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    @property
    def previous_start(self) -> datetime:
        return self.start - self.span

    @property
    def table(self) -> str:
        """The rollup to read: minutes for short recent ranges, hours otherwise."""
        if self.span <= MINUTE_ROLLUP_MAX_SPAN and self.previous_start >= self.now - MINUTE_ROLLUP_KEEPS:
            return "llm_calls_1m"
        return "llm_calls_1h"

    @property
    def grain(self) -> Grain:
        if self.span <= timedelta(hours=3):
            return GRAINS["5m"]
        if self.span <= timedelta(hours=48):
            return GRAINS["1h"]
        if self.span <= timedelta(days=10):
            return GRAINS["3h"]
        return GRAINS["1d"]

    @property
    def label(self) -> str:
        if self.preset != "custom":
            return PRESET_LABELS[self.preset]
        local_start, local_end = self.start.astimezone(self.tz), self.end.astimezone(self.tz)
        return f"{local_start:%Y-%m-%d %H:%M} – {local_end:%Y-%m-%d %H:%M}"

    def query(self) -> dict[str, str]:
        """The parameters that reproduce this range in a link."""
        out = {"range": self.preset, "tz": self.tz.key}
        if self.preset == "custom":
            out["from"] = self.start.astimezone(self.tz).strftime("%Y-%m-%dT%H:%M")
            out["to"] = self.end.astimezone(self.tz).strftime("%Y-%m-%dT%H:%M")
        return out

    def params(self) -> dict[str, Any]:
        """Bound SQL parameters shared by the rollup queries.

        The hour rollup's buckets start on the hour, so its ranges start on the hour too (a
        bucket counts whole); the previous period keeps the same length.
        """
        start = self.start
        if self.table == "llm_calls_1h":
            start = start.replace(minute=0, second=0, microsecond=0)
        return {
            "start": _naive(start),
            "end": _naive(self.end),
            "prev_start": _naive(start - (self.end - start)),
            "tz": self.tz.key,
        }


def _naive(value: datetime) -> datetime:
    """UTC wall time without tzinfo: how the client binds DateTime('UTC') parameters."""
    return value.astimezone(UTC).replace(tzinfo=None)


def parse_tz(value: str | None, default: str = "UTC") -> ZoneInfo:
    name = (value or "").strip() or default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name == default:
            return ZoneInfo("UTC")
        raise ApplicationError(
            f"Unknown time zone {name[:64]!r}: use an IANA name such as Europe/Paris or UTC", field="tz"
        ) from None


def _parse_local(value: str, tz: ZoneInfo, name: str, *, end_of_day: bool) -> datetime:
    text = value.strip()
    for fmt, is_date in (("%Y-%m-%d", True), ("%Y-%m-%dT%H:%M", False), ("%Y-%m-%d %H:%M", False)):
        try:
            parsed = datetime.strptime(text, fmt)  # noqa: DTZ007 - local time in `tz`, made aware below
        except ValueError:
            continue
        if is_date and end_of_day:
            parsed += timedelta(days=1)  # a date as the end means "through that day"
        return parsed.replace(tzinfo=tz).astimezone(UTC)
    raise ApplicationError(
        f"Could not read {name!r} ({text[:40]!r}): use a date like 2026-03-01 or 2026-03-01T14:30",
        field=name,
    )


def parse_range(params: QueryDict | dict[str, str], *, now: datetime, tz_default: str = "UTC") -> TimeRange:
    """`range` = 24h | 7d | 30d | custom (with `from` and `to`, in `tz`)."""
    tz = parse_tz(params.get("tz"), tz_default)
    now = now.astimezone(UTC)
    # Presets end at the next whole minute, so a page and its reload agree on the buckets.
    end_now = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    preset = (params.get("range") or "").strip() or (
        "custom" if params.get("from") or params.get("to") else DEFAULT_PRESET
    )
    if preset in PRESETS:
        return TimeRange(preset, end_now - PRESETS[preset], end_now, tz, now)
    if preset != "custom":
        raise ApplicationError(f"Unknown range {preset[:20]!r}: choose 24h, 7d, 30d or custom", field="range")
    raw_from, raw_to = (params.get("from") or "").strip(), (params.get("to") or "").strip()
    if not raw_from:
        raise ApplicationError("A custom range needs a 'from' date", field="from")
    start = _parse_local(raw_from, tz, "from", end_of_day=False)
    end = _parse_local(raw_to, tz, "to", end_of_day=True) if raw_to else end_now
    if start >= end_now:
        raise ApplicationError("The range starts in the future", field="from")
    if end <= start:
        raise ApplicationError("'from' must be before 'to': the range is reversed or empty", field="to")
    if end - start > MAX_SPAN:
        raise ApplicationError(f"A range can span at most {MAX_SPAN.days} days", field="from")
    return TimeRange("custom", start, min(end, end_now), tz, now)


# --- the call explorer ---------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Keyset position: the last call shown, by (ts, event_id) descending."""

    ts_ms: int
    event_id: uuid.UUID

    def encode(self) -> str:
        raw = f"{self.ts_ms}:{self.event_id.hex}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            ts_text, id_text = raw.split(":")
            return cls(int(ts_text), uuid.UUID(hex=id_text))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ApplicationError(
                "This page link is invalid or expired: start again from the first page", field="after"
            ) from None


@dataclass(frozen=True)
class CallFilters:
    range: TimeRange
    endpoint: str = ""
    model: str = ""
    status: str = ""
    tag: str = ""
    user_id: str = ""
    conversation_id: str = ""
    min_cost_nano: int | None = None
    max_cost_nano: int | None = None
    replay_exclusion: str = ""  # a reason of apps.replay.exclusions, with the baseline it is relative to
    baseline: str = ""  # "provider/model"
    after: Cursor | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def query(self, *, with_cursor: bool = False) -> dict[str, str]:
        """The parameters that reproduce these filters in a link (export, next page)."""
        out = self.range.query()
        for name, value in (
            ("endpoint", self.endpoint),
            ("model", self.model),
            ("status", self.status),
            ("tag", self.tag),
            ("user", self.user_id),
            ("conversation", self.conversation_id),
            ("replay_exclusion", self.replay_exclusion),
            ("baseline", self.baseline),
        ):
            if value:
                out[name] = value
        out.update(self.extra)
        if with_cursor and self.after is not None:
            out["after"] = self.after.encode()
        return out

    def with_cursor(self, cursor: Cursor | None) -> CallFilters:
        return replace(self, after=cursor)


def _text(params: QueryDict | dict[str, str], name: str) -> str:
    value = (params.get(name) or "").strip()
    if len(value) > MAX_TEXT:
        raise ApplicationError(f"{name!r} is longer than {MAX_TEXT} characters", field=name)
    return value


def _usd_to_nano(params: QueryDict | dict[str, str], name: str) -> int | None:
    text = (params.get(name) or "").strip().lstrip("$")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ApplicationError(
            f"{name!r} must be an amount in USD, like 0.01 (got {text[:20]!r})", field=name
        ) from None
    if not value.is_finite() or value < 0 or value > 1_000_000:
        raise ApplicationError(f"{name!r} must be between 0 and 1,000,000 USD", field=name)
    return int((value * 1_000_000_000).to_integral_value())


def _replay_exclusion(params: QueryDict | dict[str, str], endpoint: str) -> tuple[str, str]:
    """`replay_exclusion` (why a replay left calls out) and the `baseline` it is relative to."""
    reason = _text(params, "replay_exclusion")
    if not reason:
        return "", ""
    if reason not in EXPLORER_CLAUSES:
        raise ApplicationError(
            f"Unknown replay exclusion {reason[:40]!r}: use one of {', '.join(EXPLORER_CLAUSES)}",
            field="replay_exclusion",
        )
    baseline = _text(params, "baseline")
    if not endpoint or baseline.count("/") < 1 or baseline.startswith("/") or baseline.endswith("/"):
        raise ApplicationError(
            "A replay exclusion needs the endpoint and its baseline model (baseline=provider/model)",
            field="baseline",
        )
    return reason, baseline


def parse_call_filters(
    params: QueryDict | dict[str, str],
    *,
    now: datetime,
    tz_default: str = "UTC",
    endpoints: list[str],
    models: list[str],
) -> CallFilters:
    """Explorer filters. `endpoints` / `models` are the project's, so a typo gets a clear message."""
    rng = parse_range(params, now=now, tz_default=tz_default)
    endpoint = _text(params, "endpoint")
    if endpoint and endpoint not in endpoints:
        raise ApplicationError(
            f"This project has no calls from an endpoint named {endpoint[:128]!r}", field="endpoint"
        )
    model = _text(params, "model")
    if model and model not in models:
        raise ApplicationError(f"This project has no calls to a model named {model[:128]!r}", field="model")
    status = _text(params, "status")
    if status and status not in STATUSES:
        raise ApplicationError(f"Status must be one of {', '.join(STATUSES)}", field="status")
    min_cost = _usd_to_nano(params, "min_cost")
    max_cost = _usd_to_nano(params, "max_cost")
    extra = {name: (params.get(name) or "").strip() for name in ("min_cost", "max_cost") if params.get(name)}
    if min_cost is not None and max_cost is not None and min_cost > max_cost:
        raise ApplicationError("The cost range is reversed: 'min cost' is above 'max cost'", field="max_cost")
    exclusion, baseline = _replay_exclusion(params, endpoint)
    after_text = (params.get("after") or "").strip()
    return CallFilters(
        range=rng,
        endpoint=endpoint,
        model=model,
        status=status,
        tag=_text(params, "tag"),
        user_id=_text(params, "user"),
        conversation_id=_text(params, "conversation"),
        min_cost_nano=min_cost,
        max_cost_nano=max_cost,
        replay_exclusion=exclusion,
        baseline=baseline,
        after=Cursor.decode(after_text) if after_text else None,
        extra=extra,
    )
