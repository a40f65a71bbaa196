"""A project's spend settings (the customer key), cached briefly for the ingest hot path."""

from __future__ import annotations

import threading
import time

from apps.accounts.models import Project
from apps.spend.models import SpendSettings

_TTL_S = 10.0
_cache: dict[int, tuple[float, str]] = {}
_lock = threading.Lock()


def spend_settings_get(*, project: Project) -> SpendSettings:
    found = SpendSettings.objects.filter(project=project).first()
    return found if found is not None else SpendSettings(project=project)


def customer_key_of(*, project_id: int) -> str:
    now = time.monotonic()
    with _lock:
        hit = _cache.get(project_id)
    if hit is not None and now - hit[0] < _TTL_S:
        return hit[1]
    value = (
        SpendSettings.objects.filter(project_id=project_id).values_list("customer_key", flat=True).first()
        or "customer_id"
    )
    with _lock:
        _cache[project_id] = (now, value)
    return value


def customer_key_forget(project_id: int) -> None:
    with _lock:
        _cache.pop(project_id, None)
