"""Unit economics: cost per user, per customer and per conversation, from rollups, never raw calls:
lists and spreads from the per-key week and day rollups (llm_spend_key_weeks, llm_spend_key_days),
daily actives from llm_spend_kind_days, a key's endpoints and days from the per-key, endpoint and
day rollup (llm_spend_key_endpoint_days) by primary key.
Ranges are whole UTC days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.http import QueryDict

from apps.core.errors import ApplicationError
from apps.spend.models import CustomerRevenue
from apps.warehouse.client import ProjectScope, allowed_identifier, load_sql

NANO = 1e9
KINDS = ("user", "customer", "conversation")
RANGES = {"7d": 7, "30d": 30, "90d": 90}
DEFAULT_RANGE = "30d"
TOP = 50


@dataclass(frozen=True)
class DayRange:
    key: str
    start: date  # first day
    end: date  # day after the last

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def previous_start(self) -> date:
        return self.start - timedelta(days=self.days)

    @property
    def weeks(self) -> tuple[date, date]:
        """The Mondays that bound the range's whole ISO weeks (equal, at the end, when it has none)."""
        first = self.start + timedelta(days=(7 - self.start.weekday()) % 7)
        last = self.end - timedelta(days=self.end.weekday())
        return (first, last) if first < last else (self.end, self.end)

    @property
    def label(self) -> str:
        return f"last {self.days} days"


def parse_day_range(params: QueryDict | dict[str, str], *, today: date) -> DayRange:
    key = (params.get("range") or DEFAULT_RANGE).strip()
    if key not in RANGES:
        raise ApplicationError(f"Unknown range {key[:20]!r}: choose {', '.join(RANGES)}", field="range")
    end = today + timedelta(days=1)
    return DayRange(key, end - timedelta(days=RANGES[key]), end)


@dataclass(frozen=True)
class Summary:
    keys: int
    cost_usd: float
    calls: int
    cost_p50: float
    cost_p90: float
    cost_p99: float
    calls_p50: float
    calls_p90: float
    multi_endpoint: int

    @property
    def cost_per_key(self) -> float:
        return self.cost_usd / self.keys if self.keys else 0.0

    @property
    def calls_per_key(self) -> float:
        return self.calls / self.keys if self.keys else 0.0


@dataclass
class KeyRow:
    key: str
    cost_usd: float
    calls: int
    errors: int
    tokens: int
    first_ts: datetime
    last_ts: datetime
    previous_usd: float = 0.0
    endpoints: list[tuple[str, float]] = field(default_factory=list)  # by cost, most first
    daily: list[float] = field(default_factory=list)  # cost per day of the range

    @property
    def cost_per_call(self) -> float:
        return self.cost_usd / self.calls if self.calls else 0.0

    @property
    def change(self) -> float | None:
        """Cost against the same span before the range (None: nothing then)."""
        return (self.cost_usd - self.previous_usd) / self.previous_usd if self.previous_usd else None

    @property
    def duration(self) -> timedelta:
        return self.last_ts - self.first_ts


def _kind(kind: str) -> str:
    return allowed_identifier(kind, KINDS)


def _summary(row: dict[str, Any]) -> Summary:
    cq, nq, any_keys = row["cost_quantiles"], row["calls_quantiles"], bool(row["keys"])
    return Summary(
        keys=int(row["keys"]),
        cost_usd=row["cost_nano"] / NANO,
        calls=int(row["total_calls"]),
        cost_p50=cq[0] / NANO if any_keys else 0.0,
        cost_p90=cq[1] / NANO if any_keys else 0.0,
        cost_p99=cq[2] / NANO if any_keys else 0.0,
        calls_p50=nq[0] if any_keys else 0.0,
        calls_p90=nq[1] if any_keys else 0.0,
        multi_endpoint=int(row["multi_endpoint"]),
    )


def key_totals(
    *, project_id: int, kind: str, rng: DayRange, limit: int = TOP
) -> tuple[Summary, list[KeyRow]]:
    """The range's summary and its top `limit` keys by cost (at most TOP; ties by key): one pass
    over the per-key week and day rollups, then the top keys' names by hash and their totals, endpoints,
    days and previous period's cost by primary key."""
    scope, params = ProjectScope(project_id), {"kind": _kind(kind), "start": rng.start, "end": rng.end}
    weeks = {"weeks_start": rng.weeks[0], "weeks_end": rng.weeks[1]}
    row = scope.query(
        load_sql(__file__, "econ_keys"), {**params, **weeks}, feature="spend.economics"
    ).dicts()[0]
    hashes = [key_hash for _neg_cost, key_hash in row["top"][: min(limit, TOP)]]
    rows: list[KeyRow] = []
    if hashes:
        names = scope.query(
            load_sql(__file__, "econ_key_names"), {**params, "hashes": hashes}, feature="spend.economics"
        )
        rows = _filled(project_id, kind, [key for _hash, key in names.rows], rng)
        rows.sort(key=lambda r: (-r.cost_usd, r.key))
    return _summary(row), rows


def top_keys(*, project_id: int, kind: str, rng: DayRange, limit: int = TOP) -> list[KeyRow]:
    return key_totals(project_id=project_id, kind=kind, rng=rng, limit=limit)[1]


def key_detail(*, project_id: int, kind: str, key: str, rng: DayRange) -> KeyRow | None:
    found = _filled(project_id, _kind(kind), [key], rng)
    return found[0] if found else None


def _filled(project_id: int, kind: str, keys: list[str], rng: DayRange) -> list[KeyRow]:
    """Keys with calls in the range, each with its totals, endpoints by cost, cost per day and the
    previous period's cost, from one query over the per-key, endpoint and day rollup."""
    if not keys:
        return []
    result = ProjectScope(project_id).query(
        load_sql(__file__, "econ_keys_detail"),
        {"kind": kind, "keys": keys, "start": rng.start, "since": rng.previous_start, "end": rng.end},
        feature="spend.economics",
    )
    days = [rng.start + timedelta(days=i) for i in range(rng.days)]
    rows: dict[str, KeyRow] = {}
    for key, cost, calls, errors, tokens, first, last, previous, by_endpoint, seen, by_day in result.rows:
        row = rows[key] = KeyRow(
            key, cost / NANO, int(calls), int(errors), int(tokens), _utc(first), _utc(last)
        )
        row.previous_usd = previous / NANO
        endpoint_cost = dict(zip(*by_endpoint, strict=True))
        row.endpoints = sorted(((e, endpoint_cost.get(e, 0) / NANO) for e in seen[0]), key=lambda kv: -kv[1])
        day_cost = dict(zip(*by_day, strict=True))
        row.daily = [day_cost.get(d, 0) / NANO for d in days]
    return [rows[k] for k in keys if k in rows]


@dataclass(frozen=True)
class Day:
    day: date
    cost_usd: float
    calls: int
    keys: int

    @property
    def cost_per_key(self) -> float:
        return self.cost_usd / self.keys if self.keys else 0.0


def daily(*, project_id: int, kind: str, rng: DayRange) -> list[Day]:
    result = ProjectScope(project_id).query(
        load_sql(__file__, "econ_daily"),
        {"kind": _kind(kind), "start": rng.start, "end": rng.end},
        feature="spend.economics",
    )
    return [Day(d, cost / NANO, int(calls), int(keys)) for d, cost, calls, keys in result.rows]


@dataclass(frozen=True)
class MonthMargin:
    month: date
    cost_usd: float
    revenue_usd: float | None

    @property
    def margin_usd(self) -> float | None:
        return None if self.revenue_usd is None else self.revenue_usd - self.cost_usd

    @property
    def margin_share(self) -> float | None:
        if not self.revenue_usd:
            return None
        return (self.revenue_usd - self.cost_usd) / self.revenue_usd


_MONTHLY_SQL = """
SELECT toStartOfMonth(day) AS month, toInt64(sum(sum_cost_nano_usd)) AS cost_nano
FROM llm_spend_key_endpoint_days
WHERE project_id = {project_id:UInt64} AND kind = 'customer' AND key = {key:String} AND day >= {since:Date}
GROUP BY month ORDER BY month
"""


def customer_margins(*, project_id: int, customer: str, today: date, months: int = 6) -> list[MonthMargin]:
    """The customer's LLM cost per calendar month against the revenue entered for it."""
    since = (today.replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)
    costs = {
        m: c / NANO
        for m, c in ProjectScope(project_id)
        .query(_MONTHLY_SQL, {"key": customer, "since": since}, feature="spend.economics")
        .rows
    }
    revenue: dict[date, Decimal] = dict(
        CustomerRevenue.objects.filter(
            project_id=project_id, customer=customer, month__gte=since
        ).values_list("month", "amount_usd")
    )
    months_seen = sorted(set(costs) | set(revenue))
    return [
        MonthMargin(m, costs.get(m, 0.0), float(revenue[m]) if m in revenue else None) for m in months_seen
    ]


def revenue_by_customer(*, project_id: int, month: date) -> dict[str, float]:
    return {
        c: float(a)
        for c, a in CustomerRevenue.objects.filter(
            project_id=project_id, month=month.replace(day=1)
        ).values_list("customer", "amount_usd")
    }


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
