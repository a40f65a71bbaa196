"""Opportunity tasks: thin, named, with a retry policy; each calls one service."""

from __future__ import annotations

from celery import shared_task

from apps.accounts.models import Project
from apps.core import background
from apps.opportunities import services
from apps.warehouse.client import WarehouseUnavailable


@shared_task(name="opportunities.detect_due", queue="default", acks_late=True)
def detect_due() -> int:
    """Every project whose detectors last ran more than services.EVERY ago gets a run."""
    due = services.detect_due()
    for project_id in due:
        background.dispatch(detect_project, project_id)
    return len(due)


@shared_task(
    name="opportunities.detect_project",
    queue="default",
    acks_late=True,
    autoretry_for=(WarehouseUnavailable,),
    retry_backoff=60,
    max_retries=3,
)
def detect_project(project_id: int, trigger: str = "schedule") -> int:
    project = Project.objects.filter(pk=project_id).select_related("organization").first()
    if project is None:
        return 0
    try:
        return services.detect_project(project=project, trigger=trigger).found
    except services.AlreadyRunning:
        return 0
