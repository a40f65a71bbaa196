"""What every detector shares: the window, one read of the window's usage, prices, and the shape
of a finding.

`Scan` is built once per run. It reads, through the warehouse door, the (provider, model) pairs in
the window (from the hour rollup), then every call's tokens split by how they are billed, per
endpoint, model, tier and day of the window (`usage.sql`: one pass over the raw calls, FINAL so a
recomputed call counts once). Token rules come from the price book: where a call does not say
whether its input includes cached tokens (or its output reasoning), the rule of its model's
provider applies, as at ingest. Every query's time is added to `clickhouse_s`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from apps.opportunities.prices import Tokens, UnitPrices, unit_prices
from apps.opportunities.projection import DAYS_PER_MONTH, Monthly
from apps.opportunities.rules import Change
from apps.pricing.book import PriceBook
from apps.warehouse.client import ProjectScope, QueryResult, load_sql

DAY_S = 86_400
MIN_MONTHLY_NANO = 1_000_000_000  # a finding under $1 a month is not worth a person's time …
MIN_SHARE = 0.02  # … nor one under 2 % of what its endpoint costs


@dataclass(frozen=True)
class Key:
    endpoint: str
    provider: str
    model: str

    @property
    def model_key(self) -> str:
        return f"{self.provider}/{self.model}"


@dataclass(frozen=True)
class UsageRow:
    key: Key
    tier: str
    day: int
    tokens: Tokens
    cost_nano: int  # as stored (each call at its own price and tier)
    unpriced: int


@dataclass
class Finding:
    endpoint: str
    kind: str
    subject: str
    title: str
    monthly: Monthly
    acts_on: str
    evidence: dict[str, Any]
    change: Change
    examples: list[str] = field(default_factory=list)
    baseline: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EndpointSpend:
    """An endpoint's spend a month at the window's volume, and its input and output parts."""

    monthly_nano: int
    input_nano: int
    output_nano: int


class Scan:
    def __init__(self, *, project_id: int, book: PriceBook, since: datetime, until: datetime):
        self.project_id = project_id
        self.scope = ProjectScope(project_id)
        self.book = book
        self.since = since
        self.until = until
        self.days = (until - since) / timedelta(days=1)
        self.clickhouse_s = 0.0
        self.timings: dict[str, float] = {}  # seconds in ClickHouse per query
        self._prices: dict[tuple[str, str, str], UnitPrices | None] = {}
        pairs = self.query("pairs").rows
        self.rules = {(p, m): book.rule(p, m) for p, m in pairs}
        self.usage = [self._usage_row(r) for r in self.query("usage", self.rule_params()).dicts()]
        self.first_day: dict[str, int] = {}
        for row in self.usage:
            day = self.first_day.get(row.key.endpoint)
            self.first_day[row.key.endpoint] = row.day if day is None else min(day, row.day)

    # --- the warehouse door -----------------------------------------------------------------

    def query(self, name: str, params: dict[str, Any] | None = None, **settings: Any) -> QueryResult:
        sql = load_sql(__file__, name)
        bound = {"since": self.since, "until": self.until, "since_s": int(self.since.timestamp())}
        started = time.perf_counter()
        try:
            return self.scope.query(
                sql, bound | (params or {}), feature=f"opportunities.{name}", settings=settings or None
            )
        finally:
            spent = time.perf_counter() - started
            self.clickhouse_s += spent
            self.timings[name] = self.timings.get(name, 0.0) + spent

    def rule_params(self) -> dict[str, Any]:
        """The pairs whose provider's rule counts cached tokens inside input (and reasoning inside output)."""
        return {
            "incl_cached": [f"{p}/{m}" for (p, m), (cached, _) in self.rules.items() if cached],
            "incl_reasoning": [f"{p}/{m}" for (p, m), (_, reasoning) in self.rules.items() if reasoning],
        }

    @staticmethod
    def _usage_row(r: dict[str, Any]) -> UsageRow:
        return UsageRow(
            key=Key(r["endpoint"], r["provider"], r["model"]),
            tier=r["tier"],
            day=int(r["day"]),
            tokens=Tokens(
                calls=int(r["calls"]),
                uncached=int(r["uncached"]),
                cached=int(r["cached"]),
                write_5m=int(r["write_5m"]),
                write_1h=int(r["write_1h"]),
                output=int(r["output"]),
                reasoning=int(r["reasoning"]),
            ),
            cost_nano=int(r["cost_nano"]),
            unpriced=int(r["unpriced"]),
        )

    # --- prices and days --------------------------------------------------------------------

    def prices(self, provider: str, model: str, tier: str = "standard") -> UnitPrices | None:
        key = (provider, model, tier)
        if key not in self._prices:
            self._prices[key] = unit_prices(
                self.book, provider=provider, model=model, at=self.until, tier=tier
            )
        return self._prices[key]

    def day_count(self, endpoint: str) -> int:
        """Days of the window from the endpoint's first call to the end (whole days, at least 1)."""
        whole = max(1, round(self.days))
        return max(1, whole - self.first_day.get(endpoint, 0))

    def series(self, endpoint: str, by_day: dict[int, float]) -> list[float]:
        """A value per day of the endpoint's days in the window, zeros where nothing happened."""
        first = self.first_day.get(endpoint, 0)
        return [by_day.get(first + i, 0.0) for i in range(self.day_count(endpoint))]

    def endpoints(self) -> list[str]:
        return sorted(self.first_day)

    def rows_of(self, endpoint: str) -> list[UsageRow]:
        return [r for r in self.usage if r.key.endpoint == endpoint]

    def spend(self, endpoint: str) -> EndpointSpend:
        """The endpoint's spend a month (as stored) and its input / output parts (at today's prices)."""
        rows = self.rows_of(endpoint)
        stored = sum(r.cost_nano for r in rows)
        inputs = outputs = 0.0
        for r in rows:
            prices = self.prices(r.key.provider, r.key.model, r.tier)
            if prices is not None:
                inputs += prices.input_cost(r.tokens)
                outputs += prices.output_cost(r.tokens)
        scale = DAYS_PER_MONTH / self.day_count(endpoint)
        return EndpointSpend(round(stored * scale), round(inputs * scale), round(outputs * scale))

    def tokens_by_model(self, endpoint: str, tiers: Iterable[str] | None = None) -> dict[Key, Tokens]:
        out: dict[Key, Tokens] = defaultdict(Tokens)
        for r in self.rows_of(endpoint):
            if tiers is None or r.tier in tiers:
                out[r.key] = out[r.key] + r.tokens
        return dict(out)


def map_params(**maps: dict[str, Any]) -> dict[str, Any]:
    """Maps as two arrays each (`name_k`, `name_v`), for mapFromArrays in SQL."""
    out: dict[str, Any] = {}
    for name, mapping in maps.items():
        out[f"{name}_k"], out[f"{name}_v"] = list(mapping), list(mapping.values())
    return out


T = TypeVar("T")


def per_endpoint(
    scan: Scan, by_model: dict[Key, T], make: Callable[[Scan, str, list[tuple[Key, T]]], Finding | None]
) -> list[Finding]:
    """One finding per endpoint from what was gathered per endpoint and model (None: nothing found)."""
    grouped: dict[str, list[tuple[Key, T]]] = defaultdict(list)
    for key, value in by_model.items():
        grouped[key.endpoint].append((key, value))
    return [f for endpoint, items in grouped.items() if (f := make(scan, endpoint, items)) is not None]


def worth_it(monthly: Monthly, spend: EndpointSpend) -> bool:
    return monthly.nano >= MIN_MONTHLY_NANO and monthly.nano >= MIN_SHARE * spend.monthly_nano
