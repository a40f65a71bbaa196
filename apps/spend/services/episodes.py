"""Alert episodes: opened once, escalated at a higher budget threshold, resolved once.

Each notice (`opened`, `threshold:<percent>`, `resolved`) becomes one `AlertDelivery` per enabled
channel of the project, unique on (alert, channel, notice): however often a tick runs, retries or
races, a notice is sent at most once per channel. A partial unique index on open episodes makes
opening the same episode twice impossible.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from apps.accounts.models import Project
from apps.spend.models import Alert, AlertChannel, AlertDelivery, AlertStatus


def _notify(alert: Alert, event: str) -> int:
    channels = AlertChannel.objects.filter(project_id=alert.project_id, enabled=True)
    made = 0
    for channel in channels:
        _, created = AlertDelivery.objects.get_or_create(alert=alert, channel=channel, event=event)
        made += created
    return made


def alert_open(
    *,
    project: Project | int,
    kind: str,
    episode: str,
    title: str,
    now: datetime,
    scope_kind: str,
    scope_value: str,
    metric: str = "spend",
    threshold: int = 0,
    detail: dict[str, Any] | None = None,
    budget_id: int | None = None,
    monitor_id: int | None = None,
) -> Alert | None:
    """Open the episode, or None when it is already open (nothing is sent twice)."""
    project_id = project if isinstance(project, int) else project.pk
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                project_id=project_id,
                kind=kind,
                episode=episode[:400],
                title=title[:300],
                opened_at=now,
                scope_kind=scope_kind,
                scope_value=scope_value[:256],
                metric=metric,
                threshold=threshold,
                detail=detail or {},
                budget_id=budget_id,
                monitor_id=monitor_id,
            )
            _notify(alert, "opened")
    except IntegrityError:
        return None
    return alert


def alert_escalate(*, alert: Alert, threshold: int, title: str, detail: dict[str, Any]) -> None:
    """A budget episode reached a higher threshold: one more notice, same episode."""
    with transaction.atomic():
        alert.threshold = threshold
        alert.title = title[:300]
        alert.detail = {**alert.detail, **detail}
        alert.save(update_fields=["threshold", "title", "detail", "updated_at"])
        _notify(alert, f"threshold:{threshold}")


def alert_resolve(*, alert: Alert, now: datetime, reason: str, detail: dict[str, Any] | None = None) -> None:
    if alert.status == AlertStatus.RESOLVED:
        return
    with transaction.atomic():
        alert.status = AlertStatus.RESOLVED
        alert.resolved_at = now
        alert.resolution = reason[:300]
        if detail:
            alert.detail = {**alert.detail, **detail}
        alert.save(update_fields=["status", "resolved_at", "resolution", "detail", "updated_at"])
        _notify(alert, "resolved")
