"""Stored costs against a fresh computation: which calls of a project differ, and by how much.

A read-only check (`manage.py cost_check`): every call in a time range (its latest revision) is
costed again with the price book as it is now — the same usage record and cost function ingest and
the recompute use — and compared with the cost stored for it. A difference means a price changed
without its recompute finishing, or a stored cost is wrong.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apps.pricing.selectors import price_book_load
from apps.pricing.usage import from_call
from apps.warehouse.client import ProjectScope, load_sql

PAGE = 5000
NIL = uuid.UUID(int=0)


@dataclass(frozen=True)
class CostDifference:
    ts: datetime
    event_id: str
    provider: str
    model: str
    service_tier: str
    stored_nano_usd: int | None
    fresh_nano_usd: int | None
    stored_price_id: int
    fresh_price_id: int

    @property
    def delta_nano_usd(self) -> int:
        return (self.fresh_nano_usd or 0) - (self.stored_nano_usd or 0)


@dataclass
class CostCheck:
    project_id: int
    since: datetime
    until: datetime
    calls: int = 0
    differences: list[CostDifference] = field(default_factory=list)
    more: int = 0  # differences beyond the listed ones

    @property
    def differing(self) -> int:
        return len(self.differences) + self.more


def cost_check(
    *, project_id: int, organization_id: int, since: datetime, until: datetime, limit: int = 100
) -> CostCheck:
    """Every call of the project in [since, until) costed again and compared with its stored cost."""
    book = price_book_load(organization_id=organization_id)
    sql = load_sql(__file__, "cost_check")
    scope = ProjectScope(project_id)
    report = CostCheck(project_id, since, until)
    cursor_ts, cursor_id = since - timedelta(milliseconds=1), NIL
    while True:
        params = {
            "since": since,
            "until": until,
            "cursor_ts": cursor_ts,
            "cursor_id": cursor_id,
            "limit": PAGE,
        }
        rows = scope.query(sql, params, feature="pricing.cost_check").dicts()
        for row in rows:
            ts = row["ts"] if row["ts"].tzinfo else row["ts"].replace(tzinfo=UTC)
            fresh = book.cost(provider=row["provider"], model=row["model"], ts=ts, usage=from_call(row))
            cost = fresh.nano_usd if fresh is not None else None
            price_id = fresh.price_id if fresh is not None else 0
            if cost != row["cost_nano_usd"] or price_id != row["price_id"]:
                if len(report.differences) < limit:
                    report.differences.append(
                        CostDifference(
                            ts,
                            str(row["event_id"]),
                            row["provider"],
                            row["model"],
                            row["service_tier"],
                            row["cost_nano_usd"],
                            cost,
                            row["price_id"],
                            price_id,
                        )
                    )
                else:
                    report.more += 1
        report.calls += len(rows)
        if len(rows) < PAGE:
            return report
        last = rows[-1]
        cursor_ts = last["ts"] if last["ts"].tzinfo else last["ts"].replace(tzinfo=UTC)
        cursor_id = last["event_id"]
