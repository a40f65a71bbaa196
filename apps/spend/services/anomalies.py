"""The anomaly half of the tick: each monitor judges every hour once it is complete.

An hour is judged GRACE after it ends (late calls land first), at most the last CATCH_UP hours
after downtime. One anomalous hour opens the scope's episode (one notice); two normal hours in
a row resolve it (one notice). The alert keeps the baseline, the deviation and a link to the calls
that drove it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.urls import reverse

from apps.spend.models import EACH, Alert, AlertKind, AlertStatus, AnomalyMonitor, Metric, ScopeKind
from apps.spend.seasonal import HOUR, Point, Verdict, episode_step, judge
from apps.spend.selectors.anomalies import monitor_series
from apps.spend.services.episodes import alert_open, alert_resolve

GRACE = timedelta(minutes=2)
CATCH_UP = 3


@dataclass
class AnomalyTickReport:
    monitors: int = 0
    judged: int = 0
    opened: int = 0
    resolved: int = 0


def last_complete_hour(now: datetime) -> datetime:
    return (now - GRACE).replace(minute=0, second=0, microsecond=0) - HOUR


def calls_link(project_id: int, scope_kind: str, key: str, hour: datetime) -> str:
    """The call explorer for the scope's calls in that hour, most expensive first."""
    query = {
        "range": "custom",
        "tz": "UTC",
        "from": hour.strftime("%Y-%m-%dT%H:%M"),
        "to": (hour + HOUR).strftime("%Y-%m-%dT%H:%M"),
    }
    if scope_kind in (ScopeKind.ENDPOINT, ScopeKind.MODEL):
        query[scope_kind] = key
    if scope_kind == ScopeKind.CUSTOMER:
        return reverse("spend:customer", args=[project_id, key])
    return reverse("dashboard:calls", args=[project_id]) + "?" + urlencode(query)


def _describe(metric: str, v: Verdict) -> tuple[str, str, str]:
    """(observed, baseline, upper) as text."""
    if metric == Metric.SPEND:
        fmt = "${:,.2f}"
    elif metric == Metric.ERROR_RATE:
        fmt = "{:.1%}"
    else:
        fmt = "{:,.0f}"
    return fmt.format(v.observed or 0), fmt.format(v.expected), fmt.format(v.upper)


def _title(monitor: AnomalyMonitor, key: str, v: Verdict) -> str:
    scope = "the project" if monitor.scope_kind == ScopeKind.PROJECT else f"{monitor.scope_kind} {key}"
    observed, baseline, _ = _describe(monitor.metric, v)
    label = Metric(monitor.metric).label.lower()
    return f"Anomaly: {label} of {scope} was {observed} in the hour from {v.hour:%a %H:00} UTC (usually {baseline})"


def monitors_evaluate(
    *, now: datetime, project_ids: list[int] | None = None, since: datetime | None = None
) -> AnomalyTickReport:
    """Judge each enabled monitor's new complete hours (`since`: every hour from then on, once —
    the demo's back-fill)."""
    report = AnomalyTickReport()
    latest = last_complete_hour(now)
    monitors = AnomalyMonitor.objects.filter(enabled=True)
    if project_ids is not None:
        monitors = monitors.filter(project_id__in=project_ids)
    for monitor in monitors:
        report.monitors += 1
        if since is not None:
            first = since.replace(minute=0, second=0, microsecond=0)
        elif monitor.last_hour is None:
            first = latest
        else:
            first = max(monitor.last_hour + HOUR, latest - (CATCH_UP - 1) * HOUR)
        if first > latest:
            continue
        series = monitor_series(
            project_id=monitor.project_id,
            scope_kind=monitor.scope_kind,
            scope_value=monitor.scope_value,
            until=latest,
        )
        open_alerts = {
            a.scope_value: a for a in Alert.objects.filter(monitor=monitor, status=AlertStatus.OPEN)
        }
        keys = set(series) | set(open_alerts)
        if monitor.scope_value not in ("", EACH):
            keys.add(monitor.scope_value)
        if monitor.scope_kind == ScopeKind.PROJECT:
            keys.add("")
        hour = first
        while hour <= latest:
            for key in keys:
                _judge_key(report, monitor, key, series.get(key, {}), hour, open_alerts)
            hour += HOUR
        monitor.last_hour = latest
        monitor.save(update_fields=["last_hour", "updated_at"])
    return report


def _judge_key(
    report: AnomalyTickReport,
    monitor: AnomalyMonitor,
    key: str,
    points: dict[datetime, Point],
    hour: datetime,
    open_alerts: dict[str, Alert],
) -> None:
    history_start = min(points) if points else hour
    verdict = judge(
        points,
        hour,
        monitor.metric,
        history_start=history_start,
        sensitivity=monitor.sensitivity,
        min_abs=float(monitor.min_usd) if monitor.metric == Metric.SPEND else None,
    )
    report.judged += 1
    alert = open_alerts.get(key)
    action, calm = episode_step(
        is_open=alert is not None, calm_hours=alert.calm_hours if alert else 0, anomalous=verdict.anomalous
    )
    observed, baseline, upper = _describe(monitor.metric, verdict)
    detail = {
        "hour": hour.isoformat(),
        "observed": verdict.observed,
        "baseline": verdict.expected,
        "upper": verdict.upper,
        "deviation": round(verdict.score, 1),
        "ratio": round(verdict.ratio, 2) if verdict.ratio is not None else None,
        "basis": verdict.basis,
        "text": f"{observed} against a baseline of {baseline} (alert above {upper}; {verdict.basis})",
        "calls_url": calls_link(monitor.project_id, monitor.scope_kind, key, hour),
    }
    if action == "open":
        made = alert_open(
            project=monitor.project_id,
            kind=AlertKind.ANOMALY,
            episode=f"anomaly:{monitor.pk}:{key}",
            title=_title(monitor, key, verdict),
            now=hour + HOUR,  # known once the hour is complete
            scope_kind=monitor.scope_kind,
            scope_value=key,
            metric=monitor.metric,
            detail=detail,
            monitor_id=monitor.pk,
        )
        if made is not None:
            open_alerts[key] = made
            report.opened += 1
    elif action == "resolve" and alert is not None:
        alert_resolve(
            alert=alert, now=hour + HOUR, reason=f"Back within its baseline for two hours (last: {observed})"
        )
        open_alerts.pop(key, None)
        report.resolved += 1
    elif alert is not None and calm != alert.calm_hours:
        alert.calm_hours = calm
        alert.save(update_fields=["calm_hours", "updated_at"])
