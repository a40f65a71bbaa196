"""Owner-side data for the routing URLs' tenant-isolation cases (tests/tenancy_cases.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.urls import reverse

from apps.policies.models import KillSwitch, Recommendation
from tests.tenancy import Tenant

SECRET_ENDPOINT = "secret-endpoint-of-acme"


def recommendation(t: Tenant) -> Recommendation:
    found = t.extra.get("recommendation")
    if found is None:
        found = t.extra["recommendation"] = Recommendation.objects.create(
            project=t.project,
            endpoint=SECRET_ENDPOINT,
            strategy="override",
            target="openai/gpt-4o-mini",
            summary="secret summary",
            evidence_job_id=1,
            evidence_finished_at=datetime(2026, 11, 20, tzinfo=UTC),
            evaluator="exact",
            samples=50,
            baseline_provider="openai",
            baseline_model="gpt-4o",
            quality_bar=0.95,
            fingerprint="x",
            proposal={"key": "override:openai/gpt-4o-mini", "strategy": "override", "provider": "openai",
                      "model": "gpt-4o-mini", "checks": []},
        )  # fmt: skip
    return found


def kill(t: Tenant) -> KillSwitch:
    found = t.extra.get("kill")
    if found is None:
        found = t.extra["kill"] = KillSwitch.objects.create(
            organization=t.organization,
            kind="model",
            value="secretprovider/secret-model",
            reason="secret reason",
        )
    return found


def url(name: str, *args: Callable[[Tenant], Any]) -> Callable[[Tenant], str]:
    return lambda t: reverse(name, args=[t.project.pk, *(a(t) for a in args)])


def recommendation_url(t: Tenant, name: str = "policies:recommendation") -> str:
    return reverse(name, args=[t.project.pk, recommendation(t).pk])


def kill_switch_untouched(owner: Tenant, intruder: Tenant, response: Any) -> None:
    """Adding to the kill switch acts on the caller's own organisation: the owner's is as it was."""
    found = kill(owner)
    assert response.status_code in (200, 302, 400), response.status_code
    assert list(KillSwitch.objects.filter(organization=owner.organization)) == [found]


def hides_owner_kills(owner: Tenant, intruder: Tenant, response: Any) -> None:
    kill(owner)
    assert response.status_code == 200
    assert b"secret-model" not in response.content and b"secret reason" not in response.content


def kill_switch_page_hides_owner(owner: Tenant, intruder: Tenant, response: Any) -> None:
    hides_owner_kills(owner, intruder, response)


def config_is_the_intruders_own(owner: Tenant, intruder: Tenant, response: Any) -> None:
    recommendation(owner)
    assert response.status_code == 200, response.content
    doc = json.loads(response.content)
    assert doc["project"] == intruder.project.slug and doc["policies"] == []
    assert SECRET_ENDPOINT.encode() not in response.content
