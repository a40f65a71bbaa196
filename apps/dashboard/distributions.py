"""Per-call distributions of one endpoint: tokens and cost per call, failures by type.

These need per-call values, so they read raw calls (with FINAL: a recomputed call counts at its
latest cost), restricted by project, endpoint and time. To stay fast at any volume the scan is
bounded: the hour/minute rollup already says how many calls each bucket holds, so `since` moves
up to the most recent MAX_CALLS calls of the range and the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from apps.dashboard.filters import TimeRange
from apps.warehouse.client import ProjectScope, load_sql

MAX_CALLS = 50_000
TOKEN_EDGES: tuple[int, ...] = (
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000,
    100_000, 200_000, 500_000, 1_000_000,
)  # fmt: skip
# nano-USD: $0.0000001 … $10 per call.
COST_EDGES: tuple[int, ...] = tuple(
    m * 10**e for e in range(2, 11) for m in (1, 2, 5) if m * 10**e <= 10_000_000_000
)


@dataclass(frozen=True)
class Bin:
    low: int | None  # None: the open bin below the first edge, or "unknown" for cost
    high: int | None  # None: open above
    calls: int


@dataclass(frozen=True)
class FailureRow:
    status: str
    error_type: str
    calls: int


@dataclass(frozen=True)
class Distributions:
    since: datetime
    calls: int
    captured: int  # calls with a stored payload (what a replay can sample)
    sampled_recent: bool  # True when `since` was moved up to bound the scan
    input_tokens: list[Bin]
    output_tokens: list[Bin]
    cost: list[Bin]
    unpriced_calls: int
    failures: list[FailureRow]


def bounded_since(rng: TimeRange, calls_per_bucket: pd.Series, *, limit: int = MAX_CALLS) -> datetime:
    """The latest start such that [start, end) still holds about `limit` calls.

    `calls_per_bucket` (the rollup's counts, indexed by bucket start in epoch seconds) says where
    to cut; inside the bucket where the count is reached, calls are taken as evenly spread.
    """
    total = 0
    for t, calls in calls_per_bucket.sort_index(ascending=False).items():
        calls = int(calls)
        if calls and total + calls >= limit:
            bucket_start = datetime.fromtimestamp(int(t), UTC)
            bucket_end = min(bucket_start + timedelta(seconds=rng.grain.seconds), rng.end)
            share = (limit - total) / calls  # of this bucket's calls still needed, from its end
            return max(rng.start, bucket_end - (bucket_end - bucket_start) * share)
        total += calls
    return rng.start


def _bins(edges: tuple[int, ...], counts: dict[int, int]) -> list[Bin]:
    """Bin i holds values in [edges[i-1], edges[i]); trims empty bins at both ends."""
    bins = []
    for index in range(len(edges) + 1):
        low = edges[index - 1] if index > 0 else None
        high = edges[index] if index < len(edges) else None
        bins.append(Bin(low, high, counts.get(index, 0)))
    used = [i for i, b in enumerate(bins) if b.calls]
    return bins[used[0] : used[-1] + 1] if used else []


def distributions(
    *, project_id: int, rng: TimeRange, endpoint: str, calls_per_bucket: pd.Series
) -> Distributions:
    since = bounded_since(rng, calls_per_bucket)
    result = ProjectScope(project_id).query(
        load_sql(__file__, "distributions"),
        {
            "endpoint": endpoint,
            "since": since.astimezone(UTC).replace(tzinfo=None),
            "end": rng.end.astimezone(UTC).replace(tzinfo=None),
            "token_edges": list(TOKEN_EDGES),
            "cost_edges": list(COST_EDGES),
        },
        feature="dashboard.distributions",
        settings={"group_by_use_nulls": 1, "do_not_merge_across_partitions_select_final": 1},
    )
    inputs: dict[int, int] = {}
    outputs: dict[int, int] = {}
    costs: dict[int, int] = {}
    failures = []
    calls = captured = 0
    for row in result.dicts():
        n = int(row["calls"])
        if row["input_bin"] is not None:
            inputs[int(row["input_bin"])] = n
            calls += n
            captured += int(row["captured"])
        elif row["output_bin"] is not None:
            outputs[int(row["output_bin"])] = n
        elif row["cost_bin"] is not None:
            costs[int(row["cost_bin"])] = n
        elif row["status"] is not None and row["status"] != "ok":
            failures.append(FailureRow(row["status"], row["error_type"] or "", n))
    failures.sort(key=lambda f: (-f.calls, f.status, f.error_type))
    return Distributions(
        since=since,
        calls=calls,
        captured=captured,
        sampled_recent=since > rng.start,
        input_tokens=_bins(TOKEN_EDGES, inputs),
        output_tokens=_bins(TOKEN_EDGES, outputs),
        cost=_bins(COST_EDGES, {k: v for k, v in costs.items() if k >= 0}),
        unpriced_calls=costs.get(-1, 0),
        failures=failures,
    )
