"""The budget half of the minute tick: spend per scope, thresholds crossed, hard actions.

Per budget, scope key and period a `BudgetState` remembers the highest threshold reached and
whether the limit is reached. Rows are written only when that changes, so a tick over 10,000
quiet budgets reads and writes little. A rise opens the period's episode (or escalates it); a
fall back under the first threshold (the limit was raised, a recompute lowered costs) resolves
it; a new period, a disabled or deleted budget resolve it too. When the set of exhausted scopes
with a hard action changes, the project's config is published again, so the SDK acts on it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from apps.spend.models import (
    EACH,
    Action,
    Alert,
    AlertKind,
    AlertStatus,
    Budget,
    BudgetState,
    ScopeKind,
)
from apps.spend.periods import forecast_runout, period_bounds
from apps.spend.selectors.budgets import NANO, budget_spend
from apps.spend.services.episodes import alert_escalate, alert_open, alert_resolve


@dataclass
class BudgetTickReport:
    budgets: int = 0
    scopes: int = 0
    opened: int = 0
    escalated: int = 0
    resolved: int = 0
    republish: set[int] = field(default_factory=set)  # projects whose enforced budgets changed


def reached_threshold(budget: Budget, spent_nano: int) -> int:
    limit = budget.limit_nano
    return max((t for t in budget.thresholds if spent_nano * 100 >= t * limit), default=0)


def episode_of(budget: Budget, key: str, start: datetime) -> str:
    return f"budget:{budget.pk}:{start:%Y%m%d}:{key}"


def scope_label(budget: Budget, key: str) -> str:
    kind = ScopeKind(budget.scope_kind).label.lower()
    if budget.scope_kind == ScopeKind.PROJECT:
        return "the project"
    return f"{kind} {key}" if key else f"each {kind}"


def _title(budget: Budget, key: str, percent: int, spent: float) -> str:
    return (
        f"Budget {budget.name}: {scope_label(budget, key)} reached {percent} % "
        f"(${spent:,.2f} of ${budget.limit_usd:,.2f} this {budget.period})"
    )


def budgets_evaluate(*, now: datetime, project_ids: list[int] | None = None) -> BudgetTickReport:
    report = BudgetTickReport()
    budgets = Budget.objects.filter(enabled=True).select_related("project")
    if project_ids is not None:
        budgets = budgets.filter(project_id__in=project_ids)
    by_project: dict[int, list[Budget]] = defaultdict(list)
    for b in budgets:
        by_project[b.project_id].append(b)
    report.budgets = sum(len(v) for v in by_project.values())
    starts = {p: period_bounds(p, now)[0] for p in ("day", "week", "month")}
    states = {
        (s.budget_id, s.scope_value, s.period_start): s
        for s in BudgetState.objects.filter(
            budget__in=[b for bs in by_project.values() for b in bs], period_start__in=list(starts.values())
        )
    }
    open_alerts = {
        a.episode: a
        for a in Alert.objects.filter(
            kind=AlertKind.BUDGET, status=AlertStatus.OPEN, project_id__in=list(by_project)
        )
    }
    for project_id, project_budgets in by_project.items():
        spend = budget_spend(project_id=project_id, budgets=project_budgets, now=now)
        for b in project_budgets:
            start, end = period_bounds(b.period, now)
            seen = dict(spend.get(b.pk, {}))
            # keys that crossed earlier this period but no longer come back (a budget on each user
            # or customer returns only keys past its first threshold) are now under it
            for (budget_id, key, period_start), state in states.items():
                if budget_id == b.pk and period_start == start and key not in seen and state.threshold:
                    seen[key] = 0
            for key, spent in seen.items():
                report.scopes += 1
                _step(report, b, key, spent, start, end, now, states, open_alerts)
    _sweep(report, now, open_alerts, starts, project_ids)
    return report


def _step(
    report: BudgetTickReport,
    b: Budget,
    key: str,
    spent: int,
    start: datetime,
    end: datetime,
    now: datetime,
    states: dict[tuple[int, str, datetime], BudgetState],
    open_alerts: dict[str, Alert],
) -> None:
    reached = reached_threshold(b, spent)
    exhausted = spent >= b.limit_nano
    state = states.get((b.pk, key, start))
    before = (state.threshold, state.exhausted) if state is not None else (0, False)
    if (reached, exhausted) == before:
        return
    if state is None:
        state = BudgetState(budget=b, scope_value=key, period_start=start)
        states[(b.pk, key, start)] = state
    state.spent_nano, state.threshold, state.exhausted, state.updated_at = spent, reached, exhausted, now
    state.save()
    if b.action != Action.NONE and exhausted != before[1]:
        report.republish.add(b.project_id)
    spent_usd = spent / NANO
    episode = episode_of(b, key, start)
    runs_out = forecast_runout(spent=spent_usd, limit=float(b.limit_usd), start=start, end=end, now=now)
    detail = {
        "budget_id": b.pk,
        "spent_usd": round(spent_usd, 4),
        "limit_usd": float(b.limit_usd),
        "percent": round(100 * spent / max(b.limit_nano, 1), 1),
        "period": b.period,
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "runs_out_at": runs_out.strftime("%Y-%m-%d %H:%M UTC") if runs_out else None,
        "action": b.action if exhausted else "none",
    }
    alert = open_alerts.get(episode)
    if reached > before[0]:
        title = _title(b, key, reached, spent_usd)
        if alert is None:
            made = alert_open(
                project=b.project_id,
                kind=AlertKind.BUDGET,
                episode=episode,
                title=title,
                now=now,
                scope_kind=b.scope_kind,
                scope_value=key if b.scope_value == EACH else b.scope_value,
                threshold=reached,
                detail=detail,
                budget_id=b.pk,
            )
            if made is not None:
                open_alerts[episode] = made
                report.opened += 1
        else:
            alert_escalate(alert=alert, threshold=reached, title=title, detail=detail)
            report.escalated += 1
    elif reached == 0 and alert is not None:
        alert_resolve(alert=alert, now=now, reason="Spend is back under the first threshold", detail=detail)
        open_alerts.pop(episode, None)
        report.resolved += 1


def _sweep(
    report: BudgetTickReport,
    now: datetime,
    open_alerts: dict[str, Alert],
    starts: dict[str, datetime],
    project_ids: list[int] | None,
) -> None:
    """Resolve episodes whose period ended, or whose budget was disabled or deleted."""
    enabled = dict(Budget.objects.filter(enabled=True).values_list("pk", "period"))
    for episode, alert in list(open_alerts.items()):
        period = enabled.get(alert.budget_id or 0)
        if period is None:
            reason = "The budget was disabled or deleted"
        elif not episode.startswith(f"budget:{alert.budget_id}:{starts[period]:%Y%m%d}:"):
            reason = "A new period started: the budget's spend starts again"
        else:
            continue
        alert_resolve(alert=alert, now=now, reason=reason)
        open_alerts.pop(episode)
        report.resolved += 1
        if alert.detail.get("action", "none") != "none":
            report.republish.add(alert.project_id)
