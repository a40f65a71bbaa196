"""Faults: a Celery worker killed (SIGKILL) in the middle of a replay job.

Two real worker processes on production settings, PostgreSQL, a private Redis broker, the test
run's embedded ClickHouse (handed to the worker while it runs) and a local OpenAI-compatible
provider. The first worker is killed while requests are in flight; the beat's resume task, run on a
second worker, continues the job. Nothing may be sent twice, stored twice or charged twice.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from apps.billing.models import ReplaySpend
from apps.core import background
from apps.replay.models import ItemState, JobStatus, ReplayJob
from apps.replay.services.jobs import replay_job_create
from apps.warehouse import client as warehouse
from apps.warehouse.client import ProjectScope
from tests.celery_worker import client_app, redis_server, worker_process
from tests.reliability.conftest import Tally
from tests.replay.factories import connect, replay_catalogue, triage_spec, triage_traffic
from tests.replay.fakes import FakeProvider, prompt_of
from tests.tenancy import Tenant
from tests.waiting import wait_for

SAMPLES = 30
LEASE_S = 4


def _job(job_id: int) -> ReplayJob:
    return ReplayJob.objects.get(pk=job_id)


def _worker_env(broker: str) -> dict[str, str]:
    """Production settings pointed at this test run's stores; a short lease so the test is quick."""
    db = connection.settings_dict
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "reliability-worker-" + "k" * 40,
        "PROVIDER_KEYS_ENCRYPTION_KEY": settings.PROVIDER_KEYS_ENCRYPTION_KEY,
        "PROVIDER_ALLOW_PRIVATE_URLS": "true",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CLICKHOUSE_URL": settings.CLICKHOUSE_URL,
        "CLICKHOUSE_DATABASE": settings.CLICKHOUSE_DATABASE,
        "REDIS_URL": broker.rsplit("/", 1)[0] + "/2",
        "REPLAY_LEASE_S": str(LEASE_S),
    }


@pytest.mark.reliability("faults")
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_replay_is_resumed_without_double_sending_or_spending(
    tenant: Tenant, tmp_path: Path, tally: Tally, monkeypatch: pytest.MonkeyPatch
) -> None:
    replay_catalogue()
    answers = triage_traffic(tenant, SAMPLES)
    with (
        redis_server(tmp_path) as redis,
        client_app(redis.url()) as client,
        FakeProvider("openai", responder=lambda p, m, b: answers[p], delay=0.3) as fake,
    ):
        connect(tenant, "openai", "openai", fake.base_url, max_concurrency=2)
        # The web process enqueues on commit; here the test's own client carries it to the broker.
        monkeypatch.setattr(
            background,
            "dispatch",
            lambda task, *args, **kwargs: client.send_task(
                task.name, args=args, kwargs=kwargs, queue="replay"
            ),
        )
        job = replay_job_create(project=tenant.project, actor=None, spec=triage_spec(SAMPLES))
        warehouse.close_clients()  # the embedded store is the worker's while it runs
        env = _worker_env(redis.url())

        with worker_process(redis.url(), queues="replay", env=env, log=tmp_path / "worker-1.log") as first:
            wait_for("the first worker to settle some items", lambda: _job(job.pk).done_items >= 6, 90)
            first.kill()
            first.wait(timeout=10)
        killed = _job(job.pk)
        sent_by_first = len(fake.requests)
        inflight_at_kill = killed.items.filter(state=ItemState.INFLIGHT).count()
        assert killed.status == JobStatus.RUNNING and killed.done_items < SAMPLES

        with worker_process(redis.url(), queues="replay", env=env, log=tmp_path / "worker-2.log"):
            wait_for(
                "the dead worker's lease to run out",
                lambda: time.time() - _job(job.pk).heartbeat_at.timestamp() > LEASE_S + 0.5,  # type: ignore[union-attr]
                90,
            )
            resumed = client.send_task("replay.resume_stalled", queue="replay")  # what the beat sends
            wait_for("the resumed job to finish", lambda: _job(job.pk).status == JobStatus.DONE, 120)
            assert resumed.get(timeout=30) == 1

    job.refresh_from_db()
    items = list(job.items.all())
    states = Counter(i.state for i in items)
    prompts = Counter(prompt_of("openai", r["body"]) for r in fake.requests)
    rows: list[Any] = (
        ProjectScope(tenant.project.pk)
        .query(
            "SELECT sample_id, candidate, charged_nano FROM replay_results "
            "WHERE project_id = {project_id:UInt64} AND job_id = {job_id:UInt64}",
            {"job_id": job.pk},
            feature="test",
        )
        .rows
    )
    stored = Counter((str(sample), candidate) for sample, candidate, _ in rows)
    recorded = ReplaySpend.objects.get(organization=tenant.organization, job_key=f"replay-job-{job.pk}")

    tally.attempts += SAMPLES
    tally.lost += SAMPLES - (states[ItemState.DONE] + states[ItemState.ERROR] + states[ItemState.INTERRUPTED])
    tally.duplicated += sum(n - 1 for n in prompts.values()) + sum(n - 1 for n in stored.values())
    tally.notes.append(
        f"replay worker killed after {sent_by_first} provider requests with {inflight_at_kill} items in flight; "
        f"resumed on attempt {job.attempts}: {states[ItemState.DONE]} answered, "
        f"{states[ItemState.INTERRUPTED]} charged at worst case, {len(fake.requests)} requests for "
        f"{SAMPLES} samples, {len(rows)} result rows, spend {job.spent_nano:,} nano-USD "
        f"(billing records {recorded.spent_nano_usd:,})"
    )

    # The job finished on its second attempt, every item accounted for.
    assert job.status == JobStatus.DONE and job.attempts == 2, (job.status, job.attempts, job.error)
    assert states[ItemState.PENDING] == states[ItemState.INFLIGHT] == states[ItemState.SKIPPED] == 0, states
    assert states[ItemState.INTERRUPTED] <= inflight_at_kill
    # Nothing was sent twice: each sample reached the provider once, before or after the kill.
    assert max(prompts.values()) == 1 and len(prompts) == len(fake.requests) > sent_by_first
    # An item in flight at the kill may or may not have reached the provider (it is reserved before
    # its request leaves): either way it is not sent again, and it is charged at its worst case.
    answered_or_failed = states[ItemState.DONE] + states[ItemState.ERROR]
    assert answered_or_failed <= len(fake.requests) <= answered_or_failed + states[ItemState.INTERRUPTED]
    # Nothing was stored twice, and what is stored matches what the ledger charged.
    answered = {(str(i.event_id), i.candidate): i.charged_nano for i in items if i.state == ItemState.DONE}
    assert max(stored.values()) == 1 and set(stored) == set(answered)
    assert {(str(s), c): charged for s, c, charged in rows} == answered
    # Spend is counted once: the job's total is its items' charges, and billing holds that same total.
    assert job.reserved_nano == 0 and job.spent_nano == sum(i.charged_nano for i in items) > 0
    assert recorded.spent_nano_usd == job.spent_nano
    assert job.results.get().samples == states[ItemState.DONE]
