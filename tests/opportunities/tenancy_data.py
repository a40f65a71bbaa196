"""Owner-side data for the opportunities URLs' tenant-isolation cases (tests/tenancy_cases.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.urls import reverse

from apps.opportunities.models import Opportunity, Status
from tests.tenancy import Tenant

SECRET_ENDPOINT = "secret-endpoint-of-acme"


def finding(t: Tenant) -> Opportunity:
    found = t.extra.get("opportunity")
    if found is None:
        at = datetime(2026, 11, 20, tzinfo=UTC)
        found = t.extra["opportunity"] = Opportunity.objects.create(
            project=t.project, endpoint=SECRET_ENDPOINT, kind="caching", subject="openai/gpt-4o", title="secret",
            monthly_nano=5_000_000_000, window_start=at, window_end=at, first_seen_at=at, last_seen_at=at,
        )  # fmt: skip
    return found


def url(name: str) -> Callable[[Tenant], str]:
    return lambda t: reverse(name, args=[t.project.pk])


def finding_url(t: Tenant, name: str = "opportunities:detail") -> str:
    return reverse(name, args=[t.project.pk, finding(t).pk])


def untouched(owner: Tenant, intruder: Tenant, response: Any) -> None:
    assert response.status_code == 404, response.content
    assert Opportunity.objects.get(pk=finding(owner).pk).status == Status.OPEN


def api_sees_only_its_own(owner: Tenant, intruder: Tenant, response: Any) -> None:
    finding(owner)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["project_id"] == intruder.project.pk and body["opportunities"] == []


def api_with_owner_project(t: Tenant) -> str:
    return "/v1/opportunities?project=" + str(t.project.pk)
