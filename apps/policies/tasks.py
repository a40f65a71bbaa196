"""Policy tasks: thin, named, with a retry policy; each loads by id and calls one service."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from apps.accounts.models import Project
from apps.core import background
from apps.policies.services.guard import guard_tick as run_guard
from apps.policies.services.notify import WebhookFailed, webhook_deliver
from apps.policies.services.publish import config_publish
from apps.policies.services.recommend import recommendation_refresh_endpoint, recommendations_refresh_project
from apps.warehouse.client import WarehouseUnavailable


def _project(project_id: int) -> Project | None:
    """The project a task was queued for; None when it was deleted since (the task then does nothing)."""
    return Project.objects.select_related("organization").filter(pk=project_id).first()


@shared_task(
    name="policies.guard_tick",
    queue="default",
    acks_late=True,
    autoretry_for=(WarehouseUnavailable,),
    retry_backoff=True,
    max_retries=3,
)
def guard_tick() -> int:
    return run_guard()


@shared_task(
    name="policies.recommend_project",
    queue="default",
    acks_late=True,
    autoretry_for=(WarehouseUnavailable,),
    retry_backoff=True,
    max_retries=3,
)
def recommend_project(project_id: int) -> int:
    project = _project(project_id)
    if project is None:
        return 0
    return len(recommendations_refresh_project(project=project))


@shared_task(
    name="policies.recommend_endpoint",
    queue="default",
    acks_late=True,
    autoretry_for=(WarehouseUnavailable,),
    retry_backoff=True,
    max_retries=3,
)
def recommend_endpoint(project_id: int, endpoint: str) -> int:
    """A finished replay hands off here (apps.replay.engine.runner): its endpoint's advice, at once."""
    project = _project(project_id)
    if project is None:
        return 0
    return 1 if recommendation_refresh_endpoint(project=project, endpoint=endpoint) is not None else 0


@shared_task(name="policies.recommend_all", queue="default", acks_late=True, max_retries=0)
def recommend_all() -> int:
    ids = list(Project.objects.values_list("pk", flat=True))
    for project_id in ids:
        background.dispatch(recommend_project, project_id)
    return len(ids)


@shared_task(
    name="policies.deliver_webhook",
    queue="default",
    acks_late=True,
    autoretry_for=(WebhookFailed,),
    retry_backoff=30,
    retry_backoff_max=900,
    max_retries=4,
)
def deliver_webhook(notification_id: int) -> str:
    return webhook_deliver(notification_id=notification_id).webhook_status


@shared_task(
    name="policies.publish_config",
    queue="default",
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=5,
)
def publish_config(project_id: int, reason: str) -> int:
    """Publish the project's config again (its capture settings changed, apps.ingest); its version."""
    if _project(project_id) is None:
        return 0
    return config_publish(project_id=project_id, reason=reason).config_version
