"""Plan limits: the organisation-wide event limit at ingest, retention, seats on invitations,
the replay budget, and usage warnings at 80 % and 100 %."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Invitation, Role
from apps.accounts.services import invitation_create, project_create
from apps.billing.models import Plan, UsageNotice
from apps.billing.plans import USD
from apps.billing.selectors import replay_budget_remaining
from apps.billing.services.quotas import replay_spend_record, usage_notices_check
from apps.billing.services.subscriptions import plan_apply
from apps.core.errors import ApplicationError
from apps.ingest.models import IngestSettings
from apps.ingest.selectors import ingest_config_forget
from tests.ingest.events import event, post_batch, stored_call
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db


def _free(tenant: Tenant, **values: object) -> None:
    Plan.objects.filter(key="free").update(**values)
    plan_apply(organization_id=tenant.organization.pk)


def test_the_plan_limit_counts_every_project_of_the_organisation(
    tenant: Tenant, plans: dict[str, Plan]
) -> None:
    _free(tenant, event_limit=5)
    second = project_create(organization=tenant.organization, name="Second", actor=None)
    from apps.accounts.services import api_key_create

    _, key = api_key_create(project=second, kind="ingest", actor=None)
    from django.test import Client

    other = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert post_batch(tenant.api("ingest"), [event() for _ in range(3)]).status_code == 200
    assert post_batch(other, [event(), event()]).status_code == 200
    refused = post_batch(other, [event()])
    assert refused.status_code == 429
    message = refused.json()["error"]["message"]
    assert message.startswith(
        "Monthly quota of 5 events on the Free plan reached (5 used across the organisation"
    )
    assert "SDKs keep them and retry" in message


def test_a_lower_project_quota_still_applies_and_names_the_project(
    tenant: Tenant, plans: dict[str, Plan]
) -> None:
    IngestSettings.objects.update_or_create(project=tenant.project, defaults={"monthly_event_quota": 2})
    ingest_config_forget(tenant.project.pk)
    assert post_batch(tenant.api("ingest"), [event(), event()]).status_code == 200
    refused = post_batch(tenant.api("ingest"), [event()])
    assert refused.status_code == 429
    assert "Monthly quota of 2 events for project acme project" in refused.json()["error"]["message"]


def test_retention_comes_from_the_plan(tenant: Tenant, plans: dict[str, Plan]) -> None:
    _free(tenant, retention_days=14)
    stored = event()
    assert post_batch(tenant.api("ingest"), [stored]).status_code == 200
    assert stored_call(tenant.project.pk, stored["event_id"])["retention_days"] == 14
    assert project_create(organization=tenant.organization, name="Later", actor=None).retention_days == 14


def test_seats_limit_invitations(tenant: Tenant, plans: dict[str, Plan]) -> None:
    _free(tenant, seats=3)  # the owner plus two
    invitation_create(
        organization=tenant.organization, email="a@x.example", role=Role.MEMBER, actor=tenant.user
    )
    invitation_create(
        organization=tenant.organization, email="b@x.example", role=Role.MEMBER, actor=tenant.user
    )
    with pytest.raises(ApplicationError) as refused:
        invitation_create(
            organization=tenant.organization, email="c@x.example", role=Role.MEMBER, actor=tenant.user
        )
    assert refused.value.code == "seat_limit" and refused.value.status == 402
    assert "The Free plan includes 3 seats" in refused.value.message
    Invitation.objects.filter(email="b@x.example").update(expires_at=timezone.now() - timedelta(days=1))
    invitation_create(
        organization=tenant.organization, email="c@x.example", role=Role.MEMBER, actor=tenant.user
    )
    page = tenant.web().post(
        reverse("accounts:member-invite"), {"email": "d@x.example", "role": "member"}, follow=True
    )
    assert "includes 3 seats" in page.content.decode()


def test_replay_budget_remaining_and_spend(
    tenant: Tenant, other_tenant: Tenant, plans: dict[str, Plan]
) -> None:
    org = tenant.organization.pk
    assert replay_budget_remaining(organization_id=org) == 5 * USD  # Free
    assert replay_spend_record(organization_id=org, job_key="replay-1", spent_nano_usd=2 * USD) == 2 * USD
    assert replay_spend_record(organization_id=org, job_key="replay-1", spent_nano_usd=1 * USD) == 2 * USD
    replay_spend_record(organization_id=org, job_key="replay-2", spent_nano_usd=int(2.5 * USD))
    assert replay_budget_remaining(organization_id=org) == int(0.5 * USD)
    replay_spend_record(organization_id=org, job_key="replay-2", spent_nano_usd=9 * USD)
    assert replay_budget_remaining(organization_id=org) == 0
    assert replay_budget_remaining(organization_id=other_tenant.organization.pk) == 5 * USD


def test_warnings_at_80_and_100_percent_once_each(tenant: Tenant, plans: dict[str, Plan]) -> None:
    _free(tenant, included_events=10, event_limit=0)
    post_batch(tenant.api("ingest"), [event() for _ in range(8)])
    assert usage_notices_check() == 1
    assert usage_notices_check() == 0  # once per threshold per month
    assert [m.subject for m in mail.outbox] == ["[Switchyard] 80 % of this month's events used"]
    page = tenant.web().get(reverse("billing:overview")).content.decode()
    assert "80 % of this month's included events used (8 of 10 on the Free plan)" in page

    post_batch(tenant.api("ingest"), [event() for _ in range(3)])  # no hard limit: accepted
    replay_spend_record(organization_id=tenant.organization.pk, job_key="j", spent_nano_usd=5 * USD)
    assert usage_notices_check() == 3  # events 100 %, replay 80 % and 100 %
    assert usage_notices_check() == 0
    assert set(UsageNotice.objects.values_list("metric", "threshold")) == {
        ("events", 80),
        ("events", 100),
        ("replay", 80),
        ("replay", 100),
    }
    assert len(mail.outbox) == 4 and mail.outbox[-1].to == [tenant.user.email]
