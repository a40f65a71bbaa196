"""Alert history: newest first, filtered by status and kind, in pages keyed on the alert id."""

from __future__ import annotations

from dataclasses import dataclass

from apps.accounts.models import Project
from apps.core.errors import ApplicationError, NotFound
from apps.spend.models import Alert, AlertChannel, AlertKind, AlertStatus, AnomalyMonitor

PAGE = 50


@dataclass(frozen=True)
class AlertPage:
    alerts: list[Alert]
    next_before: int | None  # pass as `before` for the next (older) page


def alerts_page(
    *, project: Project, status: str = "", kind: str = "", before: int | None = None, limit: int = PAGE
) -> AlertPage:
    if status and status not in AlertStatus.values:
        raise ApplicationError(f"status is one of {', '.join(AlertStatus.values)}", field="status")
    if kind and kind not in AlertKind.values:
        raise ApplicationError(f"kind is one of {', '.join(AlertKind.values)}", field="kind")
    if not 1 <= limit <= 500:
        raise ApplicationError("limit is 1–500", field="limit")
    rows = Alert.objects.filter(project=project).select_related("budget", "monitor")
    if status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(kind=kind)
    if before is not None:
        rows = rows.filter(pk__lt=before)
    found = list(rows.order_by("-pk")[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return AlertPage(found, found[-1].pk if more and found else None)


def alert_get(*, project: Project, alert_id: int) -> Alert:
    found = Alert.objects.filter(project=project, pk=alert_id).select_related("budget", "monitor").first()
    if found is None:
        raise NotFound("No such alert in this project")
    return found


def open_alert_count(*, project: Project) -> int:
    return Alert.objects.filter(project=project, status=AlertStatus.OPEN).count()


def monitors_for(*, project: Project) -> list[AnomalyMonitor]:
    return list(
        AnomalyMonitor.objects.filter(project=project).order_by("scope_kind", "scope_value", "metric")
    )


def channels_for(*, project: Project) -> list[AlertChannel]:
    return list(AlertChannel.objects.filter(project=project).order_by("pk"))
