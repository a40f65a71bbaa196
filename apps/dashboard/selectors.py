"""Reads for the dashboard pages: totals, series and tables from the rollups.

Every query here reads `llm_calls_1m` (ranges up to 48 h) or `llm_calls_1h`, chosen by the
range (filters.TimeRange.table). The per-call distributions, which need raw values, live in
apps.dashboard.distributions; the call explorer in apps.dashboard.calls.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from apps.dashboard.filters import GRAINS, TimeRange
from apps.warehouse.client import ProjectScope, allowed_identifier, load_sql

ROLLUPS = ("llm_calls_1m", "llm_calls_1h")
SERIES_COLUMNS = (
    "t",
    "current",
    "endpoint",
    "provider",
    "model",
    "calls",
    "errors",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "cost_nano_usd",
    "unpriced_calls",
    "routed_calls",
    "latency_ms_sum",
)
SUMS = SERIES_COLUMNS[5:]


def rollup_sql(name: str, rng: TimeRange) -> str:
    """A rollup query with its table and bucket expression taken from allow-lists."""
    table = allowed_identifier(rng.table, ROLLUPS)
    grain = GRAINS[rng.grain.key].sql
    return load_sql(__file__, name).replace("__TABLE__", table).replace("__GRAIN__", grain)


@dataclass(frozen=True)
class Scope:
    """What a page looks at: a project, a range, and optionally one endpoint or model."""

    project_id: int
    range: TimeRange
    endpoint: str = ""
    provider: str = ""
    model: str = ""

    def params(self) -> dict[str, Any]:
        return {
            **self.range.params(),
            "endpoint": self.endpoint,
            "provider": self.provider,
            "model": self.model,
        }


# --- dimensions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dimension:
    endpoint: str
    provider: str
    model: str
    calls: int
    last_seen: datetime


def dimensions(*, project_id: int) -> list[Dimension]:
    """Every (endpoint, provider, model) the project ever sent, from the hour rollup."""
    result = ProjectScope(project_id).query(load_sql(__file__, "dimensions"), feature="dashboard.dimensions")
    return [
        Dimension(e, p, m, int(c), datetime.fromtimestamp(int(seen), UTC))
        for e, p, m, c, seen in result.rows
        if int(c) > 0
    ]


def has_calls(*, project_id: int, endpoint: str = "", provider: str = "", model: str = "") -> bool:
    """Whether the project (or that endpoint, or that provider/model) ever sent a call."""
    result = ProjectScope(project_id).query(
        load_sql(__file__, "exists"),
        {"endpoint": endpoint, "provider": provider, "model": model},
        feature="dashboard.exists",
    )
    return bool(result.rows)


def endpoint_spend(*, project_id: int, since: datetime) -> dict[str, int]:
    """Nano-USD each endpoint of the project spent since a time (hour buckets from `since`'s hour)."""
    result = ProjectScope(project_id).query(
        load_sql(__file__, "endpoint_spend"),
        {"since": since.astimezone(UTC).replace(tzinfo=None)},
        feature="dashboard.endpoint_spend",
    )
    return {str(e): int(c or 0) for e, c in result.rows}


def endpoint_names(dims: list[Dimension]) -> list[str]:
    return sorted({d.endpoint for d in dims})


def model_names(dims: list[Dimension]) -> list[str]:
    return sorted({d.model for d in dims})


# --- totals ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    calls: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    cost_nano_usd: int = 0
    unpriced_calls: int = 0
    routed_calls: int = 0
    latency_ms_sum: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.calls if self.calls else None

    @property
    def avg_latency_ms(self) -> float | None:
        return self.latency_ms_sum / self.calls if self.calls else None

    @property
    def cost_per_call_nano(self) -> float | None:
        priced = self.calls - self.unpriced_calls
        return self.cost_nano_usd / priced if priced > 0 else None


@dataclass(frozen=True)
class Totals:
    current: Period
    previous: Period


def _quantiles(values: Any, calls: int) -> tuple[float | None, float | None, float | None]:
    if not calls or values is None or len(values) != 3:
        return None, None, None
    return float(values[0]), float(values[1]), float(values[2])


def _floor_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(value: datetime) -> datetime:
    floor = _floor_hour(value)
    return floor if floor == value else floor + timedelta(hours=1)


def hour_edges(params: dict[str, Any]) -> dict[str, datetime]:
    """Where totals_hybrid.sql switches between the hour and the minute rollup."""
    return {
        "hours_from": _ceil_hour(params["prev_start"]),
        "hours_to": _floor_hour(params["end"]),
        "split_from": _floor_hour(params["start"]),
        "split_to": _ceil_hour(params["start"]),
    }


def totals(scope: Scope) -> Totals:
    """The range's totals and the previous period's, with latency quantiles.

    Merging t-digest states dominates this query. A whole project's 24 h from the minute rollup
    would merge ~60 states per hour and series; totals_hybrid.sql takes whole hours from the
    hour rollup instead (same numbers, about half the work). With an endpoint or model filter
    the minute rollup alone is cheaper, so that case reads it directly.
    """
    params = scope.params()
    sql = rollup_sql("totals", scope.range)
    unfiltered = not (scope.endpoint or scope.provider or scope.model)
    if scope.range.table == "llm_calls_1m" and unfiltered:
        sql = load_sql(__file__, "totals_hybrid")
        params |= hour_edges(params)
    result = ProjectScope(scope.project_id).query(sql, params, feature="dashboard.totals")
    periods = {bool(row["current"]): _period(row) for row in result.dicts()}
    return Totals(current=periods.get(True, Period()), previous=periods.get(False, Period()))


def _period(row: dict[str, Any]) -> Period:
    p50, p95, p99 = _quantiles(row["latency_ms"], int(row["calls"]))
    return Period(**{name: int(row[name]) for name in SUMS}, p50_ms=p50, p95_ms=p95, p99_ms=p99)


def totals_and_latency(scope: Scope) -> tuple[Totals, pd.DataFrame]:
    """totals() and p50 / p95 / p99 latency per chart bucket of the range, in one query."""
    result = ProjectScope(scope.project_id).query(
        rollup_sql("totals_latency", scope.range),
        scope.params(),
        feature="dashboard.totals_latency",
        settings={"group_by_use_nulls": 1},
    )
    periods: dict[bool, Period] = {}
    buckets = []
    for row in result.dicts():
        if row["t"] is None:
            periods[bool(row["current"])] = _period(row)
        elif row["current"]:
            calls = int(row["calls"])
            buckets.append((int(row["t"]), calls, *_quantiles(row["latency_ms"], calls)))
    latency = pd.DataFrame(buckets, columns=["t", "calls", "p50", "p95", "p99"]).sort_values("t")
    return Totals(current=periods.get(True, Period()), previous=periods.get(False, Period())), latency


# --- series ----------------------------------------------------------------------------------


def series(scope: Scope) -> pd.DataFrame:
    """Sums per chart bucket (`t`, epoch seconds), period, endpoint, provider and model."""
    result = ProjectScope(scope.project_id).query(
        rollup_sql("series", scope.range), scope.params(), feature="dashboard.series"
    )
    frame = pd.DataFrame(result.rows, columns=list(SERIES_COLUMNS))
    frame["current"] = frame["current"].astype(bool)
    for name in SUMS:
        frame[name] = frame[name].astype("int64")
    frame["t"] = frame["t"].astype("int64")
    return frame


def current(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["current"]]


@dataclass(frozen=True)
class BreakdownRow:
    """One endpoint or model over the range, compared with the period before."""

    key: str
    provider: str
    calls: int
    errors: int
    cost_nano_usd: int
    previous_cost_nano_usd: int
    share: float  # of the range's spend, 0..1
    unpriced_calls: int
    input_tokens: int
    output_tokens: int
    avg_latency_ms: float | None
    spark: list[float]  # spend per bucket, oldest first

    @property
    def cost_per_call_nano(self) -> float | None:
        priced = self.calls - self.unpriced_calls
        return self.cost_nano_usd / priced if priced > 0 else None

    @property
    def trend(self) -> float | None:
        """Spend change against the period before, as a fraction (None: nothing before)."""
        if self.previous_cost_nano_usd <= 0:
            return None
        return (self.cost_nano_usd - self.previous_cost_nano_usd) / self.previous_cost_nano_usd

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.calls if self.calls else None


def breakdown(frame: pd.DataFrame, by: str, *, buckets: list[int] | None = None) -> list[BreakdownRow]:
    """Rows per `endpoint` or `model`, most expensive first (calls break ties)."""
    if frame.empty:
        return []
    keys = [by, "provider"] if by == "model" else [by]
    now = current(frame)
    before = frame[~frame["current"]].groupby(keys)["cost_nano_usd"].sum()
    sums = now.groupby(keys)[list(SUMS)].sum()
    total_cost = max(int(now["cost_nano_usd"].sum()), 0)
    spark_table = now.pivot_table(index="t", columns=keys, values="cost_nano_usd", aggfunc="sum")
    if buckets is not None:
        spark_table = spark_table.reindex(buckets)
    spark_table = spark_table.fillna(0).sort_index()
    rows = []
    for key, row in sums.iterrows():
        calls = int(row["calls"])
        name, provider = (key if isinstance(key, tuple) else (key, ""))[:2]
        rows.append(
            BreakdownRow(
                key=str(name),
                provider=str(provider),
                calls=calls,
                errors=int(row["errors"]),
                cost_nano_usd=int(row["cost_nano_usd"]),
                previous_cost_nano_usd=int(before.get(key, 0)),
                share=(int(row["cost_nano_usd"]) / total_cost) if total_cost else 0.0,
                unpriced_calls=int(row["unpriced_calls"]),
                input_tokens=int(row["input_tokens"]),
                output_tokens=int(row["output_tokens"]),
                avg_latency_ms=(int(row["latency_ms_sum"]) / calls) if calls else None,
                spark=[float(v) for v in spark_table[key].tolist()] if key in spark_table else [],
            )
        )
    rows.sort(key=lambda r: (-r.cost_nano_usd, -r.calls, r.key))
    return [r for r in rows if r.calls or r.cost_nano_usd]


def bucket_starts(rng: TimeRange) -> list[int]:
    """Every chart bucket of the range (epoch seconds), so gaps show as zero, not as a line."""
    grain = rng.grain.seconds
    t = _floor_local(rng.params()["start"].replace(tzinfo=UTC), rng.tz, grain)
    end = int(rng.end.timestamp())
    out = []
    while t < end:
        out.append(t)
        t = _next_local(t, rng.tz, grain)
    return out


def _floor_local(value: datetime, tz: ZoneInfo, grain: int) -> int:
    local = value.astimezone(tz)
    if grain >= 86400:
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        local = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
            seconds=seconds - seconds % grain
        )
        local = local.replace(tzinfo=None).replace(tzinfo=tz)
    return int(local.timestamp())


def _next_local(t: int, tz: ZoneInfo, grain: int) -> int:
    if grain < 86400:
        return t + grain
    local = datetime.fromtimestamp(t, tz) + timedelta(days=1, hours=3)  # past any DST shift
    return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())


# --- the month-end forecast --------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    month_label: str
    month_to_date_nano: int
    projected_nano: int  # month to date + the days left, each at its weekday's recent average
    run_rate_nano: int  # the same at the last seven days' average
    last_month_nano: int
    last_month_partial_from: date | None  # first day with calls, when last month is not complete
    days_elapsed: int
    days_in_month: int
    daily: list[tuple[datetime, int]]  # this month's days so far, local midnight → spend
    history_days: int  # full days the projection learnt from (0: no history yet)


def month_forecast(*, project_id: int, tz: ZoneInfo, now: datetime) -> Forecast:
    """Where this month's spend is heading, from this month so far and the four weeks before.

    Each day left in the month is projected at the average spend of the same weekday over the
    last 28 full days (weekly seasonality); the day in progress counts at the larger of what it
    has spent and its projection.
    """
    local_now = now.astimezone(tz)
    month_start = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    today = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    last_month_start = (month_start - timedelta(days=1)).replace(day=1)
    history_start = min(today - timedelta(days=28), last_month_start)
    result = ProjectScope(project_id).query(
        load_sql(__file__, "daily_cost"),
        {
            "tz": tz.key,
            "since": history_start.astimezone(UTC).replace(tzinfo=None),
            "end": (now.astimezone(UTC) + timedelta(hours=1)).replace(tzinfo=None),
        },
        feature="dashboard.forecast",
    )
    by_day = {datetime.fromtimestamp(int(day), tz).date(): int(cost) for day, _calls, cost in result.rows}
    days_in_month = calendar.monthrange(local_now.year, local_now.month)[1]
    mtd = sum(v for d, v in by_day.items() if d >= month_start.date())
    last_month = sum(v for d, v in by_day.items() if last_month_start.date() <= d < month_start.date())
    history = [today.date() - timedelta(days=i) for i in range(1, 29)]
    first_seen = min(by_day) if by_day else today.date()
    learnt = [d for d in history if d >= first_seen]
    recent = [by_day.get(d, 0) for d in learnt[:7]]
    daily_avg = sum(recent) / len(recent) if recent else float(by_day.get(today.date(), 0))
    weekday_avg: dict[int, float] = {}
    for weekday in range(7):
        values = [by_day.get(d, 0) for d in learnt if d.weekday() == weekday]
        # A weekday not seen yet (a project younger than a week) counts at the recent average.
        weekday_avg[weekday] = sum(values) / len(values) if values else daily_avg
    remaining = [
        today.date() + timedelta(days=i) for i in range(days_in_month - local_now.day + 1)
    ]  # today and the days after it
    projected = mtd - by_day.get(today.date(), 0)
    run_rate = projected
    for day in remaining:
        spent = by_day.get(day, 0)
        if learnt:
            projected += max(spent, round(weekday_avg[day.weekday()]))
            run_rate += max(spent, round(daily_avg))
        else:  # no history yet: today only, nothing invented for the days after
            projected += spent
            run_rate += spent
    daily = [
        (datetime.combine(d, datetime.min.time(), tz), v)
        for d, v in sorted(by_day.items())
        if d >= month_start.date()
    ]
    return Forecast(
        month_label=local_now.strftime("%B %Y"),
        month_to_date_nano=mtd,
        projected_nano=int(projected),
        run_rate_nano=int(run_rate),
        last_month_nano=last_month,
        last_month_partial_from=first_seen
        if last_month_start.date() < first_seen < month_start.date()
        else None,
        days_elapsed=local_now.day,
        days_in_month=days_in_month,
        daily=daily,
        history_days=len(learnt),
    )
