"""Core tasks. Every task has an explicit name, queue and retry policy."""

from __future__ import annotations

import socket

from celery import shared_task


@shared_task(name="core.ping", queue="default", acks_late=True, max_retries=0)
def ping(value: str = "pong") -> dict[str, str]:
    """Proves the worker path works end to end: returns the value and where it ran."""
    return {"value": value, "host": socket.gethostname()}
