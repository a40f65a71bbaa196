"""Replay pages: provider keys (encrypted, never shown back), start with a preview, progress,
results and the per-sample viewer, cancel and resume, and the schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.replay import crypto
from apps.replay.engine.runner import replay_job_run
from apps.replay.models import JobStatus, ProviderConnection, ReplayJob, ReplaySchedule
from tests.replay.factories import call, ingest
from tests.tenancy import Tenant, add_member

pytestmark = pytest.mark.django_db


def _help_traffic(tenant: Tenant, n: int = 6) -> None:
    now = datetime.now(UTC)
    ingest(
        tenant,
        [
            call(f"How do I export invoices, case {i}?", f"Go to Billing, then Export, then pick case {i}.", endpoint="help", ts=now - timedelta(hours=i + 1))
            for i in range(n)
        ],
    )  # fmt: skip


def _start_form(**extra: Any) -> dict[str, Any]:
    form = {
        "endpoint": "help",
        "candidates": ["sim:openai/gpt-4o-mini"],
        "evaluator": "auto",
        "similarity_metric": "lexical",
        "confidence": "0.95",
        "margin": "0.05",
        "sample_size": "",
        "spend_cap_usd": "1",
    }
    form.update(extra)
    return form


def test_provider_keys_are_encrypted_at_rest_and_never_shown_back(tenant: Tenant) -> None:
    client = tenant.web()
    url = reverse("replay:keys")
    secret = "sk-live-abcdefghijklmnop-7Q2Z"
    form = {"provider": "together", "api": "openai", "base_url": "https://api.together.xyz/v1", "api_key": secret,
            "max_concurrency": 4, "requests_per_minute": 120, "timeout_s": 30}  # fmt: skip
    response = client.post(url, form, follow=True)
    assert response.status_code == 200 and "will not be shown again" in response.content.decode()
    connection = ProviderConnection.objects.get(organization=tenant.organization, provider="together")
    assert secret not in connection.key_ciphertext and crypto.unseal(connection.key_ciphertext) == secret
    assert connection.key_hint == "…7Q2Z"
    page = client.get(url).content.decode()
    assert "…7Q2Z" in page and secret not in page and "abcdefghijklmnop" not in page
    assert 'type="password"' in page and secret not in client.get(url).content.decode()
    # Saving again without a key keeps the stored one.
    client.post(url, {**form, "api_key": "", "max_concurrency": 9})
    connection.refresh_from_db()
    assert crypto.unseal(connection.key_ciphertext) == secret and connection.max_concurrency == 9


def test_keys_are_sealed_with_a_derived_key_that_can_rotate(settings: Any) -> None:
    settings.PROVIDER_KEYS_ENCRYPTION_KEY = "first-secret"
    sealed = crypto.seal("sk-abc")
    settings.PROVIDER_KEYS_ENCRYPTION_KEY = "second-secret,first-secret"
    assert crypto.unseal(sealed) == "sk-abc"  # old keys still open
    settings.PROVIDER_KEYS_ENCRYPTION_KEY = "someone-else"
    with pytest.raises(Exception, match="cannot be decrypted"):
        crypto.unseal(sealed)


def test_only_admins_change_provider_keys(tenant: Tenant) -> None:
    member = add_member(tenant, Role.MEMBER, "mia")
    from django.test import Client

    client = Client()
    client.force_login(member)
    response = client.post(reverse("replay:keys"), {"provider": "openai", "api": "openai", "api_key": "sk-x",
                                                   "max_concurrency": 1, "requests_per_minute": 1, "timeout_s": 5})  # fmt: skip
    assert response.status_code == 403 and not ProviderConnection.objects.exists()


def test_start_a_replay_with_a_cost_preview_then_watch_it_and_read_its_samples(
    tenant: Tenant, catalogue: Any
) -> None:
    _help_traffic(tenant)
    client = tenant.web()
    new = reverse("replay:new", args=[tenant.project.pk])
    page = client.get(new).content.decode()
    assert "help (6 calls in 30 days)" in page and "openai/gpt-4o-mini (simulated)" in page
    preview = client.post(new, {**_start_form(), "action": "preview"}).content.decode()
    assert "Before it starts" in preview and "openai/gpt-4o" in preview and "judge" in preview
    assert "Start the replay" in preview and not ReplayJob.objects.exists()
    response = client.post(new, {**_start_form(), "action": "start"})
    job = ReplayJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "replay:job", args=[tenant.project.pk, job.pk]
    )
    running = client.get(response["Location"]).content.decode()
    assert "Progress" in running and "simulated" in running
    replay_job_run(job_id=job.pk)  # what the worker does
    progress = client.get(reverse("replay:progress", args=[tenant.project.pk, job.pk])).json()
    assert (
        progress["finished"]
        and progress["settled"] == progress["total"] == 6
        and progress["status"] == "done"
    )
    done = client.get(reverse("replay:job", args=[tenant.project.pk, job.pk])).content.decode()
    assert "Quality retention" in done and "openai/gpt-4o-mini" in done and "Monthly savings" in done
    job.refresh_from_db()
    sample_id = job.items.first().event_id  # type: ignore[union-attr]
    viewer = client.get(
        reverse("replay:sample", args=[tenant.project.pk, job.pk, sample_id])
    ).content.decode()
    assert (
        "What the app got" in viewer and "How do I export invoices" in viewer and "simulated judge" in viewer
    )
    listing = client.get(reverse("replay:jobs", args=[tenant.project.pk])).content.decode()
    assert f">{job.pk}</a>" in listing and "finished" in listing


def test_a_refused_replay_says_what_to_change_next_to_the_field(tenant: Tenant, catalogue: Any) -> None:
    _help_traffic(tenant)
    page = tenant.web().post(
        reverse("replay:new", args=[tenant.project.pk]),
        {**_start_form(sample_size="0"), "action": "start"},
    )
    body = page.content.decode()
    assert page.status_code == 200 and "must be at least 1" in body and not ReplayJob.objects.exists()


def test_cancel_a_waiting_replay_and_resume_a_failed_one(tenant: Tenant, catalogue: Any) -> None:
    _help_traffic(tenant, n=2)
    client = tenant.web()
    client.post(reverse("replay:new", args=[tenant.project.pk]), {**_start_form(), "action": "start"})
    job = ReplayJob.objects.get()
    response = client.post(reverse("replay:cancel", args=[tenant.project.pk, job.pk]), follow=True)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and "Cancelled." in response.content.decode()
    assert job.skipped_items == job.total_items
    ReplayJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="failed: test")
    job.items.update(state="pending")
    client.post(reverse("replay:resume", args=[tenant.project.pk, job.pk]))
    assert ReplayJob.objects.get(pk=job.pk).status == JobStatus.PENDING
    assert replay_job_run(job_id=job.pk) is not None
    assert ReplayJob.objects.get(pk=job.pk).status == JobStatus.DONE


def test_the_schedule_page_saves_triggers_and_budget(tenant: Tenant) -> None:
    url = reverse("replay:schedule", args=[tenant.project.pk])
    response = tenant.web().post(
        url,
        {"enabled": "on", "on_price_change": "on", "drift_threshold": "0.3", "monthly_budget_usd": "20", "job_spend_cap_usd": "2.5"},
    )  # fmt: skip
    assert response.status_code == 302
    schedule = ReplaySchedule.objects.get(project=tenant.project)
    assert schedule.enabled and schedule.on_price_change and not schedule.on_drift
    assert schedule.monthly_budget_nano == 20 * 10**9 and schedule.job_spend_cap_nano == 2_500_000_000


def test_the_endpoint_card_shows_the_newest_replay_for_other_pages(tenant: Tenant, catalogue: Any) -> None:
    from django.template.loader import render_to_string

    from apps.replay.selectors import latest_replay

    _help_traffic(tenant, n=3)
    empty = render_to_string(
        "replay/_endpoint_card.html", {"replay": None, "project": tenant.project, "endpoint": "help"}
    )
    assert "No replay yet for help" in empty and "Replay this endpoint" in empty
    tenant.web().post(reverse("replay:new", args=[tenant.project.pk]), {**_start_form(), "action": "start"})
    replay_job_run(job_id=ReplayJob.objects.get().pk)
    card = render_to_string(
        "replay/_endpoint_card.html",
        {
            "replay": latest_replay(project_id=tenant.project.pk, endpoint="help"),
            "project": tenant.project,
            "endpoint": "help",
        },
    )
    assert "openai/gpt-4o-mini" in card and "simulated" in card and "Quality retention" in card


def test_the_next_replay_of_an_endpoint_starts_from_the_evaluator_chosen_for_it(
    tenant: Tenant, catalogue: Any
) -> None:
    _help_traffic(tenant)
    client = tenant.web()
    new = reverse("replay:new", args=[tenant.project.pk])
    assert 'value="auto" selected' in client.get(f"{new}?endpoint=help").content.decode()
    client.post(new, {**_start_form(evaluator="similarity"), "action": "start"})
    job = ReplayJob.objects.get()
    page = client.get(f"{new}?endpoint=help").content.decode()
    assert 'value="similarity" selected' in page and f"replay #{job.pk}" in page
    # Choosing "from the traffic" again is a choice too: the next one starts from it.
    client.post(new, {**_start_form(evaluator="auto"), "action": "start"})
    assert 'value="auto" selected' in client.get(f"{new}?endpoint=help").content.decode()
