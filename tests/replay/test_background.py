"""Replay jobs on the in-process worker (as `make demo` runs them): queue, cancel mid-run, and the
beat task that resumes a job whose worker died."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.core import background
from apps.replay.models import ItemState, JobStatus, ReplayItem, ReplayJob
from apps.replay.services.jobs import replay_job_cancel, replay_job_create
from apps.replay.tasks import resume_stalled
from tests.replay.factories import connect, triage_spec, triage_traffic
from tests.replay.fakes import FakeProvider
from tests.tenancy import Tenant
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_queued_replay_runs_on_the_worker_after_commit(tenant: Tenant, catalogue: Any) -> None:
    answers = triage_traffic(tenant, 5)
    with FakeProvider("openai", responder=lambda p, m, b: answers[p]) as fake:
        connect(tenant, "openai", "openai", fake.base_url)
        job = replay_job_create(project=tenant.project, actor=tenant.user, spec=triage_spec(5))
        assert background.drain(60)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.done_items == 5 and len(fake.requests) == 5
    assert job.results.get().retention == 1.0


def test_cancel_stops_a_running_replay_after_its_requests_in_flight(tenant: Tenant, catalogue: Any) -> None:
    answers = triage_traffic(tenant, 12)
    with FakeProvider("openai", responder=lambda p, m, b: answers[p], delay=0.2) as fake:
        connect(tenant, "openai", "openai", fake.base_url, max_concurrency=1)
        job = replay_job_create(project=tenant.project, actor=None, spec=triage_spec(12))
        wait_for("two settled items", lambda: ReplayJob.objects.get(pk=job.pk).done_items >= 2)
        replay_job_cancel(job=ReplayJob.objects.get(pk=job.pk), actor=None)
        assert background.drain(60)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.stop_reason == "cancelled"
    assert 2 <= job.done_items < 12 and job.skipped_items == 12 - job.done_items - job.error_items
    assert len(fake.requests) == job.done_items + job.error_items
    assert job.spent_nano == sum(job.items.values_list("charged_nano", flat=True)) and job.reserved_nano == 0
    assert job.results.get().samples == job.done_items


def test_the_beat_resumes_a_job_whose_worker_died(tenant: Tenant, catalogue: Any) -> None:
    answers = triage_traffic(tenant, 4)
    with FakeProvider("openai", responder=lambda p, m, b: answers[p]) as fake:
        connect(tenant, "openai", "openai", fake.base_url)
        spec = triage_spec(4)
        from apps.replay.services.jobs import replay_job_create_from_plan
        from apps.replay.services.planning import replay_plan

        job = replay_job_create_from_plan(
            plan=replay_plan(project=tenant.project, spec=spec), project=tenant.project, actor=None
        )
        assert background.drain(60)  # it ran once; now pretend its worker died mid-flight on one item
        item = job.items.order_by("seq").first()
        assert item is not None
        ReplayItem.objects.filter(pk=item.pk).update(state=ItemState.PENDING, charged_nano=0)
        ReplayJob.objects.filter(pk=job.pk).update(
            status=JobStatus.RUNNING, heartbeat_at=datetime.now(UTC) - timedelta(hours=1), finished_at=None
        )
        sent = len(fake.requests)
        assert resume_stalled() == 1
        assert background.drain(60)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.attempts == 2 and len(fake.requests) == sent + 1
