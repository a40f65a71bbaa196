"""Spend tasks: thin, named, with a retry policy; each calls one service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from apps.spend.services.deliver import DeliveryFailed, channel_deliver
from apps.spend.services.tick import spend_tick
from apps.warehouse.client import WarehouseUnavailable


@shared_task(
    name="spend.tick",
    queue="default",
    acks_late=True,
    autoretry_for=(WarehouseUnavailable,),
    retry_backoff=True,
    max_retries=2,
)
def tick() -> int:
    from apps.core import background

    report = spend_tick(now=timezone.now())
    for channel_id in report.channels:
        background.dispatch(deliver_channel, channel_id)
    return report.budgets.opened + report.anomalies.opened


@shared_task(
    name="spend.deliver_channel",
    queue="default",
    acks_late=True,
    autoretry_for=(DeliveryFailed,),
    retry_backoff=15,
    retry_backoff_max=600,
    max_retries=4,
)
def deliver_channel(channel_id: int) -> int:
    return channel_deliver(channel_id=channel_id)
