from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Role
from apps.ingest.models import CaptureMode, IngestSettings
from tests.tenancy import Tenant, add_member

pytestmark = pytest.mark.django_db

FORM = {
    "capture_mode": "sampled",
    "capture_sample_rate": "0.25",
    "redact_payloads": "on",
    "rate_limit_events_per_s": "500",
    "monthly_event_quota": "1000000",
}


def test_admin_changes_capture_policy(tenant: Tenant) -> None:
    url = reverse("ingest-settings", args=[tenant.project.pk])
    assert b"Store payloads" in tenant.web().get(url).content
    response = tenant.web().post(url, FORM, follow=True)
    assert b"Ingest settings saved" in response.content
    row = IngestSettings.objects.get(project=tenant.project)
    assert (row.capture_mode, row.capture_sample_rate, row.monthly_event_quota) == (
        CaptureMode.SAMPLED,
        0.25,
        1_000_000,
    )


def test_bad_values_show_a_message(tenant: Tenant) -> None:
    url = reverse("ingest-settings", args=[tenant.project.pk])
    response = tenant.web().post(url, {**FORM, "capture_sample_rate": "7"})
    assert response.status_code == 200 and b"less than or equal to 1" in response.content
    assert not IngestSettings.objects.filter(project=tenant.project).exists()


def test_member_cannot_change_settings(tenant: Tenant) -> None:
    member = add_member(tenant, Role.MEMBER, "m")
    client = Client()
    client.force_login(member)
    url = reverse("ingest-settings", args=[tenant.project.pk])
    assert b"Only admins and owners" in client.get(url).content
    response = client.post(url, FORM, follow=True)
    assert b"needs the admin role" in response.content
    assert not IngestSettings.objects.filter(project=tenant.project).exists()
