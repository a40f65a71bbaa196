"""Budget spend and progress, read from the rollups (never raw calls).

`budget_spend` is what the minute tick reads: per project one query over the hour rollup (project,
endpoint and model budgets, every period at once), one per kind for named users and customers
(a primary-key range each), and one per budget on *each* user or customer (only the keys past its
first threshold come back). Periods are UTC days, weeks from Monday and calendar months.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from apps.accounts.models import Project
from apps.spend.models import EACH, Action, Budget, BudgetState, ScopeKind
from apps.spend.periods import forecast_runout, period_bounds
from apps.warehouse.client import ProjectScope, load_sql

NANO = 1_000_000_000
EACH_LIMIT = 1000  # keys per budget on each user / customer that a tick follows (most spent first)
_PERIOD_COLUMN = {"day": "day_nano", "week": "week_nano", "month": "month_nano"}


def _starts(now: datetime) -> dict[str, datetime]:
    return {period: period_bounds(period, now)[0] for period in _PERIOD_COLUMN}


def _params(now: datetime, *, dates: bool) -> dict[str, object]:
    starts = _starts(now)
    return {p: (s.date() if dates else s.replace(tzinfo=None)) for p, s in starts.items()}


def first_threshold(budget: Budget) -> int:
    return min(budget.thresholds) if budget.thresholds else 100


def budget_spend(*, project_id: int, budgets: Iterable[Budget], now: datetime) -> dict[int, dict[str, int]]:
    """Budget id → {scope key → nano-USD spent in the budget's current period}.

    A budget on a named scope always has its key (0 when nothing was spent); a budget on each
    user / customer / endpoint / model has the keys that spent anything (users and customers:
    only those at or past its first threshold).
    """
    budgets = list(budgets)
    scope = ProjectScope(project_id)
    out: dict[int, dict[str, int]] = {b.pk: {} for b in budgets}
    if any(b.scope_kind in (ScopeKind.PROJECT, ScopeKind.ENDPOINT, ScopeKind.MODEL) for b in budgets):
        rows = scope.query(
            load_sql(__file__, "budget_dims"), _params(now, dates=False), feature="spend.budgets"
        ).dicts()
        for b in budgets:
            if b.scope_kind not in (ScopeKind.PROJECT, ScopeKind.ENDPOINT, ScopeKind.MODEL):
                continue
            column = _PERIOD_COLUMN[b.period]
            found = out[b.pk]
            if b.scope_kind == ScopeKind.PROJECT:
                found[""] = sum(r[column] for r in rows)
                continue
            field = "endpoint" if b.scope_kind == ScopeKind.ENDPOINT else "model"
            if b.scope_value == EACH:
                for r in rows:
                    if r[column]:
                        found[r[field]] = found.get(r[field], 0) + r[column]
            else:
                found[b.scope_value] = sum(r[column] for r in rows if r[field] == b.scope_value)
    for kind in (ScopeKind.USER, ScopeKind.CUSTOMER):
        named = [b for b in budgets if b.scope_kind == kind and b.scope_value != EACH]
        if named:
            keys = sorted({b.scope_value for b in named})
            rows = scope.query(
                load_sql(__file__, "budget_keys"),
                {**_params(now, dates=True), "kind": str(kind), "keys": keys},
                feature="spend.budgets",
            ).dicts()
            by_key = {r["key"]: r for r in rows}
            for b in named:
                row = by_key.get(b.scope_value)
                out[b.pk][b.scope_value] = row[_PERIOD_COLUMN[b.period]] if row else 0
        for b in (b for b in budgets if b.scope_kind == kind and b.scope_value == EACH):
            start = period_bounds(b.period, now)[0]
            floor = b.limit_nano * first_threshold(b) // 100
            rows = scope.query(
                load_sql(__file__, "budget_each"),
                {"kind": str(kind), "start": start.date(), "floor": floor, "limit": EACH_LIMIT},
                feature="spend.budgets",
            ).rows
            out[b.pk] = {str(key): int(spent) for key, spent in rows}
    return out


@dataclass(frozen=True)
class Progress:
    """One budget's scope in its current period, for pages and the API."""

    budget: Budget
    key: str
    spent_usd: float
    limit_usd: float
    period_start: datetime
    period_end: datetime
    runs_out_at: datetime | None  # at this period's pace; None = not before it resets
    exhausted: bool  # at or past the limit
    action_in_force: bool  # a hard action is being delivered to the SDK

    @property
    def percent(self) -> float:
        return 100.0 * self.spent_usd / self.limit_usd if self.limit_usd else 0.0

    @property
    def bar_percent(self) -> float:
        return min(100.0, self.percent)

    @property
    def level(self) -> str:
        return (
            "over"
            if self.percent >= 100
            else "warn"
            if self.percent >= first_threshold(self.budget)
            else "ok"
        )

    @property
    def label(self) -> str:
        return self.budget.scope_value if self.budget.scope_value != EACH else self.key


def budget_progress(
    *, project: Project, now: datetime, budgets: list[Budget] | None = None
) -> list[Progress]:
    """Each budget's progress (a budget on each user or customer: its keys past the first
    threshold, most spent first, or one empty row when none is)."""
    if budgets is None:
        budgets = list(Budget.objects.filter(project=project).order_by("name", "pk"))
    if not budgets:
        return []
    spend = budget_spend(project_id=project.pk, budgets=[b for b in budgets if b.enabled], now=now)
    in_force = {
        (s.budget_id, s.scope_value)
        for s in BudgetState.objects.filter(budget__in=budgets, exhausted=True)
        if s.period_start == period_bounds(s.budget.period, now)[0]
    }
    out: list[Progress] = []
    for b in budgets:
        start, end = period_bounds(b.period, now)
        limit = float(b.limit_usd)
        keys = sorted(spend.get(b.pk, {}).items(), key=lambda kv: -kv[1]) or [
            ("" if b.scope_value == EACH else b.scope_value, 0)
        ]
        for key, nano in keys:
            spent = nano / NANO
            out.append(
                Progress(
                    budget=b,
                    key=key,
                    spent_usd=spent,
                    limit_usd=limit,
                    period_start=start,
                    period_end=end,
                    runs_out_at=forecast_runout(spent=spent, limit=limit, start=start, end=end, now=now),
                    exhausted=spent >= limit,
                    action_in_force=(b.pk, key) in in_force and b.action != Action.NONE,
                )
            )
    return out


def budget_get(*, project: Project, budget_id: int) -> Budget:
    from apps.core.errors import NotFound

    found = Budget.objects.filter(project=project, pk=budget_id).first()
    if found is None:
        raise NotFound("No such budget in this project")
    return found


def exhausted_entries(*, project_id: int, now: datetime) -> list[dict[str, object]]:
    """The budget state the SDK must act on (`budgets.exhausted` in GET /v1/config): every
    scope of an enabled budget with a hard action that is at or past its limit this period."""
    states = (
        BudgetState.objects.filter(
            budget__project_id=project_id,
            budget__enabled=True,
            exhausted=True,
            budget__action__in=["block", "downgrade"],
        )
        .select_related("budget")
        .order_by("budget_id", "scope_value")
    )
    out: list[dict[str, object]] = []
    per_budget: dict[int, int] = defaultdict(int)
    for state in states:
        b = state.budget
        start, end = period_bounds(b.period, now)
        if state.period_start != start or per_budget[b.pk] >= EACH_LIMIT:
            continue
        per_budget[b.pk] += 1
        entry: dict[str, object] = {
            "budget_id": b.pk,
            "name": b.name,
            "scope": {"kind": b.scope_kind, "value": state.scope_value},
            "period": b.period,
            "limit_usd": float(b.limit_usd),
            "resets_at": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "action": b.action,
        }
        if b.action == Action.DOWNGRADE:
            entry["downgrade_to"] = {"provider": b.downgrade_provider, "model": b.downgrade_model}
        out.append(entry)
    return out
