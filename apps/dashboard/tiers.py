"""Spend by service tier (standard, batch, flex, priority) for a dashboard scope, from the rollups.

The tier rollups hold the calls not served at the standard tier; the standard tier is the range's
totals (apps.dashboard.selectors.totals) less them, so calls stored before tiers existed count
as standard, which they were.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.dashboard.selectors import Period, Scope
from apps.warehouse.client import ProjectScope, allowed_identifier, load_sql

TIER_ROLLUPS = {"llm_calls_1m": "llm_calls_tier_1m", "llm_calls_1h": "llm_calls_tier_1h"}
TIERS = ("standard", "batch", "flex", "priority")


@dataclass(frozen=True)
class TierSpend:
    tier: str
    calls: int
    cost_nano_usd: int
    share: float | None  # of the range's spend


def tier_spend(scope: Scope, total: Period) -> list[TierSpend]:
    """Each tier with calls in the range, standard first; empty when every call was standard."""
    table = allowed_identifier(TIER_ROLLUPS[scope.range.table], tuple(TIER_ROLLUPS.values()))
    sql = load_sql(__file__, "tier_spend").replace("__TABLE__", table)
    rows = ProjectScope(scope.project_id).query(sql, scope.params(), feature="dashboard.tiers").rows
    other = {str(tier): (int(calls), int(cost)) for tier, calls, cost, _ in rows if int(calls) or int(cost)}
    if not other:
        return []
    per_tier = {
        "standard": (
            total.calls - sum(c for c, _ in other.values()),
            total.cost_nano_usd - sum(n for _, n in other.values()),
        ),
        **other,
    }
    spend = total.cost_nano_usd
    return [
        TierSpend(tier, calls, cost, cost / spend if spend else None)
        for tier in sorted(per_tier, key=lambda t: TIERS.index(t) if t in TIERS else len(TIERS))
        for calls, cost in [per_tier[tier]]
        if calls or cost
    ]
