"""Replay data owned by one tenant, for tests/tenancy_cases.py: what another tenant must not reach."""

from __future__ import annotations

import uuid
from typing import Any

from django.urls import reverse

from apps.replay.models import JobStatus, ReplayJob
from apps.replay.services.connections import connection_save
from tests.tenancy import Tenant


def secrets(t: Tenant) -> dict[str, Any]:
    """Make (once) the owner's provider key and a replay job."""
    if "replay" in t.extra:
        return t.extra["replay"]  # type: ignore[no-any-return]
    slug = t.organization.slug
    connection = connection_save(
        organization=t.organization,
        actor=None,
        provider="openai",
        api="openai",
        base_url=f"https://{slug}-secret.example/v1",
        api_key=f"sk-{slug}-secret-key-WXYZ",
    )
    job = ReplayJob.objects.create(
        organization=t.organization,
        project=t.project,
        endpoint=f"{slug}-secret-endpoint",
        status=JobStatus.RUNNING,
        baseline_provider="openai",
        baseline_model="gpt-4o",
        candidates=[{"provider": "openai", "model": "gpt-4o-mini", "simulated": True}],
        evaluator="exact",
        spend_cap_nano=10**9,
    )
    t.extra["replay"] = {"connection": connection, "job": job}
    return t.extra["replay"]  # type: ignore[no-any-return]


def project_url(name: str) -> Any:
    def build(t: Tenant) -> str:
        secrets(t)
        return reverse(f"replay:{name}", args=[t.project.pk])

    return build


def job_url(name: str) -> Any:
    def build(t: Tenant) -> str:
        return reverse(f"replay:{name}", args=[t.project.pk, secrets(t)["job"].pk])

    return build


def sample_url(t: Tenant) -> str:
    return reverse("replay:sample", args=[t.project.pk, secrets(t)["job"].pk, uuid.uuid4()])


def keys_url(t: Tenant) -> str:
    secrets(t)
    return reverse("replay:keys")


def keys_page_hides_owner(owner: Tenant, intruder: Tenant, response: Any) -> None:
    assert response.status_code == 200, response.status_code
    body = response.content.decode()
    slug = owner.organization.slug
    assert f"{slug}-secret.example" not in body and "WXYZ" not in body and f"sk-{slug}" not in body


def start_form(t: Tenant) -> dict[str, Any]:
    return {
        "endpoint": f"{t.organization.slug}-secret-endpoint",
        "candidates": ["sim:openai/gpt-4o-mini"],
        "evaluator": "exact",
        "confidence": "0.95",
        "margin": "0.05",
        "spend_cap_usd": "1",
        "action": "start",
    }
