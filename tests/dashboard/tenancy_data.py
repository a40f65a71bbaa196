"""Dashboard URLs of one tenant, for tests/tenancy_cases.py: another tenant must get a 404."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tests.dashboard.data import build_calls
from tests.ingest.events import post_batch
from tests.tenancy import Tenant


def owner_call(t: Tenant) -> str:
    """Store (once) a few of the owner's calls through ingest; the id of one of them."""
    if "dashboard_call" not in t.extra:
        from django.utils import timezone

        events = build_calls(timezone.now(), seed=t.project.pk)[:4]
        response = post_batch(t.api("ingest"), events)
        assert response.status_code == 200, response.content
        t.extra["dashboard_call"] = events[0]["event_id"]
    return str(t.extra["dashboard_call"])


def url(name: str, *args: Any) -> Any:
    def build(t: Tenant) -> str:
        owner_call(t)
        return reverse(f"dashboard:{name}", args=[t.project.pk, *args])

    return build


def call_url(t: Tenant) -> str:
    return reverse("dashboard:call", args=[t.project.pk, owner_call(t)])
