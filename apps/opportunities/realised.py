"""The saving a done finding realised, measured from the calls stored since it was marked done.

Each finding keeps, from the run that found it, its scope's tokens (the endpoint's, or one model's
for prompt caching) by model and tier, and names the part of the bill its change acts on: input
cost, output cost, or all of it. Realised = (that part's cost per call before − since) × calls a
month since, both priced with today's prices for the models and tiers the calls used: a price
change is not a saving, a move to the batch tier or to a successor model is, and so is a cache
that now serves reads at the cached price. Calls a routing policy sent to its candidate count for
routing, never here (the scan leaves them out). Measured from the first whole day after the mark,
over at most 30 days; under a day of calls it says it is still measuring.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from apps.opportunities.detectors.base import Scan, UsageRow
from apps.opportunities.models import Opportunity, Status
from apps.opportunities.prices import Tokens, UnitPrices
from apps.opportunities.projection import DAYS_PER_MONTH
from apps.pricing.book import PriceBook

MAX_LOOKBACK = timedelta(days=30)
METRICS = {
    "input_cost_per_call": UnitPrices.input_cost,
    "output_cost_per_call": UnitPrices.output_cost,
    "cost_per_call": UnitPrices.cost,
}


def baseline(scan: Scan, *, endpoint: str, metric: str, model: str = "") -> dict[str, Any]:
    """What a finding's realised saving will be measured against: its scope's tokens by model and tier."""
    return {"metric": metric, "model": model, "tokens": _tokens(scan.rows_of(endpoint), model)}


def _tokens(rows: list[UsageRow], model: str) -> list[list[Any]]:
    sums: dict[tuple[str, str, str], Tokens] = defaultdict(Tokens)
    for r in rows:
        if not model or r.key.model_key == model:
            sums[(r.key.provider, r.key.model, r.tier)] += r.tokens
    return [[p, m, tier, *t.astuple()] for (p, m, tier), t in sorted(sums.items())]


def _per_call(scan: Scan, metric: str, tokens: list[list[Any]]) -> tuple[float, int] | None:
    """The metric's cost per call over these token rows at today's prices (None: none priced)."""
    measure = METRICS[metric]
    cost, calls = 0.0, 0
    for provider, model, tier, *counts in tokens:
        prices = scan.prices(provider, model, tier)
        t = Tokens(*counts)
        if prices is not None:
            cost += measure(prices, t)
            calls += t.calls
    return (cost / calls, calls) if calls else None


def measure_realised(*, project_id: int, book: PriceBook, now: datetime) -> int:
    """Measure every done finding of the project; returns how many got a figure."""
    done = list(Opportunity.objects.filter(project_id=project_id, status=Status.DONE, done_at__isnull=False))
    if not done:
        return 0
    start = max(min(o.done_at for o in done if o.done_at), now - MAX_LOOKBACK)
    scan = Scan(project_id=project_id, book=book, since=start, until=now)
    measured = 0
    for o in done:
        assert o.done_at is not None
        first_day = max(0, math.ceil((o.done_at - start) / timedelta(days=1)))
        days = (now - start) / timedelta(days=1) - first_day
        rows = [r for r in scan.rows_of(o.endpoint) if r.day >= first_day]
        before = _per_call(scan, o.baseline.get("metric", "cost_per_call"), o.baseline.get("tokens", []))
        after = _per_call(
            scan, o.baseline.get("metric", "cost_per_call"), _tokens(rows, o.baseline.get("model", ""))
        )
        o.realised_measured_at = now
        if days < 1 or before is None or after is None:
            o.realised_nano = None
            o.realised_note = (
                "Measuring: the realised saving needs a whole day of calls after it was marked done."
            )
        else:
            per_month = after[1] / days * DAYS_PER_MONTH
            o.realised_nano = round((before[0] - after[0]) * per_month)
            o.realised_calls = after[1]
            o.realised_note = (
                f"{after[1]:,} calls over {days:.0f} day{'s' if days >= 2 else ''} since: "
                f"{before[0] / 1e9:.6f} → {after[0] / 1e9:.6f} USD a call on the part it changes, at today's prices."
            )
            measured += 1
        o.save(
            update_fields=[
                "realised_nano",
                "realised_calls",
                "realised_measured_at",
                "realised_note",
                "updated_at",
            ]
        )
    return measured
