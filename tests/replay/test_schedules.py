"""Replays that run again on their own: price changes, new models, drift, and the monthly budget."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.pricing.models import LlmModel, Provider
from apps.pricing.selectors import price_book_invalidate
from apps.pricing.services import price_create
from apps.replay.engine.runner import replay_job_run
from apps.replay.models import PERSON_CHOICE, JobStatus, ReplayJob, ReplaySchedule
from apps.replay.services.jobs import replay_job_create
from apps.replay.services.planning import NANO, CandidateSpec, ReplaySpec
from apps.replay.services.schedules import replay_schedules_check, schedule_update
from tests.replay.factories import call, connect, ingest
from tests.replay.fakes import FakeProvider
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db


def _replayed(tenant: Tenant, *, simulated: bool = True) -> ReplayJob:
    now = datetime.now(UTC)
    ingest(
        tenant,
        [call(f"Label {i}", "refund", endpoint="triage", ts=now - timedelta(hours=i + 1)) for i in range(6)],
    )
    spec = ReplaySpec(
        endpoint="triage",
        candidates=(CandidateSpec("openai", "gpt-4o-mini", simulated=simulated),),
        sample_size=6,
        spend_cap_nano=NANO,
    )
    job = replay_job_run(job_id=replay_job_create(project=tenant.project, actor=None, spec=spec).pk)
    assert job is not None and job.status == JobStatus.DONE
    return job


def _note(tenant: Tenant) -> str:
    return ReplaySchedule.objects.get(project=tenant.project).last_note


def _enable(tenant: Tenant, **fields: Any) -> None:
    values = {"enabled": True, "monthly_budget_nano": 10 * NANO, "job_spend_cap_nano": NANO, **fields}
    schedule_update(project=tenant.project, actor=None, **values)


def test_a_price_change_replays_the_endpoint_again_once(tenant: Tenant, catalogue: Any) -> None:
    _replayed(tenant)
    _enable(tenant, on_new_model=False)
    assert replay_schedules_check() == []  # nothing changed since
    price_create(model=catalogue[("openai", "gpt-4o-mini")], organization=None, actor=None,
                 effective_from=datetime.now(UTC) + timedelta(days=1), prices={"input": "0.10", "output": "0.40"}, per_exp=6)  # fmt: skip
    price_book_invalidate()
    started = replay_schedules_check()
    assert [j.trigger for j in started] == ["schedule:price_change"]
    assert started[0].candidates == [{"provider": "openai", "model": "gpt-4o-mini", "simulated": True}]
    assert f"replay #{started[0].pk} started" in _note(tenant)
    assert replay_schedules_check() == []  # the replay it started is still waiting


def test_a_cheaper_new_model_joins_the_candidates(tenant: Tenant, catalogue: Any) -> None:
    _replayed(tenant)
    _enable(tenant)
    provider = Provider.objects.get(slug="together")
    model = LlmModel.objects.create(provider=provider, name="tiny-1b")
    price_create(
        model=model,
        organization=None,
        actor=None,
        effective_from="2024-01-01",
        prices={"input": "0.01", "output": "0.01"},
        per_exp=6,
    )
    price_book_invalidate()
    started = replay_schedules_check()
    assert [j.trigger for j in started] == ["schedule:new_model"]
    keys = [f"{c['provider']}/{c['model']}" for c in started[0].candidates]
    assert keys == ["openai/gpt-4o-mini", "together/tiny-1b"] and all(
        c["simulated"] for c in started[0].candidates
    )


def test_traffic_drift_triggers_a_replay(tenant: Tenant, catalogue: Any) -> None:
    job = _replayed(tenant)
    _enable(tenant, on_new_model=False, on_price_change=False, drift_threshold=0.25)
    assert replay_schedules_check() == []
    ReplayJob.objects.filter(pk=job.pk).update(fingerprint={**job.fingerprint, "mean_input_tokens_7d": 500})
    started = replay_schedules_check()
    assert [j.trigger for j in started] == ["schedule:drift"]
    assert "mean prompt length moved" in _note(tenant)


def test_scheduled_replays_stay_within_the_monthly_budget(tenant: Tenant, catalogue: Any) -> None:
    with FakeProvider("openai", responder=lambda p, m, b: "refund") as fake:
        connect(tenant, "openai", "openai", fake.base_url)
        job = _replayed(tenant, simulated=False)
    ReplayJob.objects.filter(pk=job.pk).update(
        trigger="schedule:drift", fingerprint={**job.fingerprint, "mean_input_tokens_7d": 9999}
    )
    spent = ReplayJob.objects.get(pk=job.pk).spent_nano
    assert spent > 0
    _enable(
        tenant, on_new_model=False, on_price_change=False, monthly_budget_nano=spent, job_spend_cap_nano=spent
    )
    assert replay_schedules_check() == []
    assert "budget is used up" in _note(tenant)


def test_a_scheduled_replay_keeps_the_evaluator_a_person_chose_and_infers_it_again_otherwise(
    tenant: Tenant, catalogue: Any
) -> None:
    inferred = _replayed(tenant)
    assert inferred.evaluator == "exact" and inferred.evaluator_reason != PERSON_CHOICE
    spec = ReplaySpec(endpoint="triage", candidates=(CandidateSpec("openai", "gpt-4o-mini", simulated=True),),
                      evaluator="similarity", evaluator_config={"metric": "lexical"}, sample_size=6, spend_cap_nano=NANO)  # fmt: skip
    ingest(
        tenant, [call("Label other", "refund", endpoint="other", ts=datetime.now(UTC) - timedelta(hours=1))]
    )
    chosen = replay_job_run(
        job_id=replay_job_create(project=tenant.project, actor=None, spec=replace(spec, endpoint="other")).pk
    )
    assert chosen is not None and chosen.evaluator_reason == PERSON_CHOICE
    _enable(tenant, on_new_model=False, on_price_change=False)
    for job in (inferred, chosen):
        ReplayJob.objects.filter(pk=job.pk).update(
            fingerprint={**job.fingerprint, "mean_input_tokens_7d": 9999}
        )
    started = {j.endpoint: j for j in replay_schedules_check()}
    # The traffic chose "exact": the next replay looks at the traffic again and says why.
    assert started["triage"].evaluator == "exact" and "short labels" in started["triage"].evaluator_reason
    # A person chose lexical similarity for "other": it sticks.
    assert (started["other"].evaluator, started["other"].evaluator_config) == (
        "similarity",
        {"metric": "lexical"},
    )
    assert started["other"].evaluator_reason == PERSON_CHOICE


def test_a_default_judge_simulated_for_want_of_a_key_is_real_once_a_key_is_added(
    tenant: Tenant, catalogue: Any
) -> None:
    now = datetime.now(UTC)
    ingest(tenant, [call(f"How do I reset my password, case {i}?", f"Open settings, then reset (case {i}).",
                         endpoint="help", ts=now - timedelta(hours=i + 1)) for i in range(6)])  # fmt: skip
    spec = ReplaySpec(endpoint="help", candidates=(CandidateSpec("openai", "gpt-4o-mini", simulated=True),),
                      sample_size=6, spend_cap_nano=NANO)  # fmt: skip
    job = replay_job_run(job_id=replay_job_create(project=tenant.project, actor=None, spec=spec).pk)
    assert job is not None and job.evaluator == "judge" and job.simulated_parts == ["candidates", "judge"]
    assert job.judge == {"provider": "openai", "model": "gpt-4o", "simulated": True, "default": True}
    _enable(tenant, on_new_model=False, on_price_change=False)
    ReplayJob.objects.filter(pk=job.pk).update(fingerprint={**job.fingerprint, "mean_input_tokens_7d": 9999})
    with FakeProvider("openai") as fake:
        connect(tenant, "openai", "openai", fake.base_url)  # the judge's provider has a key now
        (started,) = replay_schedules_check()
    assert started.judge == {"provider": "openai", "model": "gpt-4o", "simulated": False, "default": True}
    assert started.simulated_parts == ["candidates"]
