"""Keeping findings across runs, dismissing and marking done, the realised saving measured after a
change, queueing a replay of a successor, and the schedule's task."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from apps.accounts.models import Role
from apps.core.errors import ApplicationError
from apps.opportunities import services, tasks
from apps.opportunities.models import DetectionRun, Kind, Opportunity, RunStatus, Status
from apps.opportunities.replays import opportunity_queue_replay
from apps.replay.models import ReplayJob
from tests.opportunities.conftest import only
from tests.opportunities.plants import DAYS, Plant, kb_answer
from tests.tenancy import Tenant, add_member

pytestmark = pytest.mark.django_db
Planted = tuple[list[dict[str, Any]], dict[str, Plant]]
Ingest = Callable[[list[dict[str, Any]]], None]


def _one(tenant: Tenant) -> Opportunity:
    return Opportunity.objects.get(project=tenant.project)


def test_runs_update_findings_and_keep_what_people_decided(
    tenant: Tenant, ingest: Ingest, planted: Planted, now: datetime
) -> None:
    events, _ = planted
    ingest(only(events, "legacy-summary"))
    services.detect_project(project=tenant.project, now=now)
    first = _one(tenant)
    assert first.status == Status.OPEN and first.baseline["tokens"][0][:3] == ["openai", "gpt-4o", "standard"]
    services.detect_project(project=tenant.project, now=now - timedelta(days=1))  # a day less of calls
    again = _one(tenant)
    assert again.pk == first.pk and again.monthly_nano == pytest.approx(first.monthly_nano, rel=0.05)
    assert again.first_seen_at == first.first_seen_at and again.last_seen_at < first.last_seen_at
    services.detect_project(
        project=tenant.project, now=now + timedelta(days=DAYS + 1)
    )  # no calls in the window
    assert _one(tenant).status == Status.GONE
    services.detect_project(project=tenant.project, now=now)
    assert _one(tenant).status == Status.OPEN  # found again
    services.opportunity_dismiss(opportunity=_one(tenant), actor=tenant.user, reason="moving in January")
    services.detect_project(project=tenant.project, now=now)
    dismissed = _one(tenant)
    assert dismissed.status == Status.DISMISSED and dismissed.decision_note == "moving in January"
    done = services.opportunity_mark_done(opportunity=services.opportunity_reopen(opportunity=dismissed, actor=None),
                                          actor=tenant.user)  # fmt: skip
    with pytest.raises(ApplicationError, match="reopen it first"):
        services.opportunity_dismiss(opportunity=done, actor=tenant.user)
    assert DetectionRun.objects.filter(project=tenant.project, status=RunStatus.DONE).count() == 5


def test_a_viewer_reads_but_cannot_decide(
    tenant: Tenant, ingest: Ingest, planted: Planted, now: datetime
) -> None:
    events, _ = planted
    ingest(only(events, "legacy-summary"))
    services.detect_project(project=tenant.project, now=now)
    viewer = add_member(tenant, Role.VIEWER, "viewer")
    with pytest.raises(ApplicationError, match="member role or higher"):
        services.opportunity_mark_done(opportunity=_one(tenant), actor=viewer)
    assert _one(tenant).status == Status.OPEN


def test_done_keeps_its_estimate_and_measures_what_the_change_realised(
    tenant: Tenant, ingest: Ingest, now: datetime
) -> None:
    change = now - timedelta(days=3)
    before, plant = kb_answer(change - timedelta(days=DAYS))
    ingest(before)
    services.detect_project(project=tenant.project, now=change)
    finding = Opportunity.objects.get(project=tenant.project, kind=Kind.CACHING)
    assert finding.monthly_nano / 1e9 == pytest.approx(plant.monthly_usd, rel=0.1)
    services.opportunity_mark_done(opportunity=finding, actor=tenant.user, note="cache_control added")
    Opportunity.objects.filter(pk=finding.pk).update(done_at=change)
    # Since the change: the same calls, the 4,000-token system prompt now read from the cache.
    after, _ = kb_answer(change)
    cached = [e | {"event_id": e["event_id"][:-4] + "cafe", "cached_input_tokens": 4000,
                   "input_tokens": e["input_tokens"] - 4000} for e in after if e["ts"] < now.timestamp() * 1000]  # fmt: skip
    ingest(cached)
    services.detect_project(project=tenant.project, now=now)
    done = Opportunity.objects.get(pk=finding.pk)
    assert (
        done.status == Status.DONE and done.monthly_nano == finding.monthly_nano
    )  # the estimate it was done with
    # Each call now pays 4,000 tokens at $0.30 instead of $3 per 1M: $0.0108 less, 720 calls a day.
    expected = 4000 * 2.7e-6 * 720 * 365.25 / 12
    assert done.realised_nano / 1e9 == pytest.approx(expected, rel=0.03)
    assert done.realised_calls == len(cached) and "calls over 3 days since" in done.realised_note


def test_marked_done_today_is_still_measuring(
    tenant: Tenant, ingest: Ingest, planted: Planted, now: datetime
) -> None:
    events, _ = planted
    ingest(only(events, "legacy-summary"))
    services.detect_project(project=tenant.project, now=now)
    services.opportunity_mark_done(opportunity=_one(tenant), actor=tenant.user)
    services.detect_project(project=tenant.project, now=now)
    done = _one(tenant)
    assert done.realised_nano is None and done.realised_note.startswith("Measuring")


def test_a_superseded_model_queues_a_replay_of_its_successor(
    tenant: Tenant, ingest: Ingest, planted: Planted, now: datetime
) -> None:
    events, _ = planted
    ingest(only(events, "legacy-summary"))
    services.detect_project(project=tenant.project, now=now)
    finding = _one(tenant)
    job_id = opportunity_queue_replay(opportunity=finding, actor=tenant.user)
    job = ReplayJob.objects.get(pk=job_id)
    assert (job.endpoint, job.trigger, job.candidates[0]["model"]) == (
        "legacy-summary",
        "opportunity:model",
        "gpt-4.1",
    )
    assert job.candidates[0]["simulated"] is True  # no OpenAI key in this organisation: said, not hidden
    assert _one(tenant).replay_job_id == job_id


def test_the_schedule_runs_due_projects_once_and_never_two_runs_at_a_time(
    tenant: Tenant, now: datetime
) -> None:
    assert tenant.project.pk in services.detect_due(now=now)
    assert tasks.detect_project(tenant.project.pk) == 0  # no calls: a run that finds nothing
    assert tenant.project.pk not in services.detect_due()
    DetectionRun.objects.create(project=tenant.project, window_start=now, window_end=now)  # running
    with pytest.raises(services.AlreadyRunning):
        services.detect_project(project=tenant.project)
    assert tasks.detect_project(tenant.project.pk) == 0
