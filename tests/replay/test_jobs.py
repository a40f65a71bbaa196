"""Replay jobs end to end: real ingest, embedded ClickHouse, PostgreSQL and local provider servers."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.core.errors import ApplicationError
from apps.replay.engine.results import RESULT_COLUMNS
from apps.replay.engine.runner import replay_job_run
from apps.replay.models import CandidateResult, ItemState, JobStatus, ReplayItem, ReplayJob
from apps.replay.services.jobs import replay_job_create, replay_job_preview
from apps.replay.services.planning import NANO, CandidateSpec, ReplaySpec
from apps.routing.bounds import screen_part
from apps.routing.estimate import Estimate
from apps.warehouse import client as warehouse
from apps.warehouse.client import ProjectScope
from tests.replay.factories import call, connect, ingest
from tests.replay.fakes import FakeProvider, tokens
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db

LABELS = ("refund", "exchange", "shipping", "other")
MINI = CandidateSpec("openai", "gpt-4o-mini")


def _traffic(tenant: Tenant, n: int = 24, endpoint: str = "support-triage") -> dict[str, str]:
    """n calls of an endpoint answered with short labels; returns prompt → the app's answer."""
    answers = {f"Ticket {i}: customer writes about order #{1000 + i}": LABELS[i % 4] for i in range(n)}
    now = datetime.now(UTC)
    events = [
        call(prompt, answer, endpoint=endpoint, ts=now - timedelta(hours=1 + i * 3), user_id=f"u{i % 5}")
        for i, (prompt, answer) in enumerate(answers.items())
    ]
    ingest(tenant, events)
    return answers


def _half_right(answers: dict[str, str]) -> Any:
    """A candidate that gets the label right for even tickets and says "other" else."""

    def respond(prompt: str, model: str, body: dict[str, Any]) -> str:
        number = int(prompt.split(":")[0].split()[-1])
        return answers[prompt] if number % 2 == 0 else "unsure"

    return respond


def _spec(**kw: Any) -> ReplaySpec:
    base: dict[str, Any] = {
        "endpoint": "support-triage",
        "candidates": (MINI,),
        "sample_size": 24,
        "spend_cap_nano": NANO,
    }
    base.update(kw)
    return ReplaySpec(**base)


def screen_part_of(sample_id: str, rows: list[dict[str, Any]]) -> bool:
    """Whether a sample (its own group: no conversation) is in the estimate's screening third."""
    keys = list(dict.fromkeys(f"sample:{r['sample_id']}" for r in rows))
    return bool(screen_part(keys)[keys.index(f"sample:{sample_id}")])


def _results(job: ReplayJob) -> list[dict[str, Any]]:
    sql = "SELECT * FROM replay_results FINAL WHERE project_id = {project_id:UInt64} AND job_id = {j:UInt64} ORDER BY seq"
    return ProjectScope(job.project_id).query(sql, {"j": job.pk}, feature="test").dicts()


def test_a_replay_runs_scores_and_summarises(tenant: Tenant, catalogue: Any) -> None:
    answers = _traffic(tenant, n=40)
    with FakeProvider("openai", responder=_half_right(answers)) as fake:
        connect(tenant, "openai", "openai", fake.base_url)
        plan = replay_job_preview(project=tenant.project, actor=tenant.user, spec=_spec())
        assert (
            plan.evaluator == "exact" and "short labels" in plan.evaluator_reason
        )  # inferred from the answers
        assert plan.population.baseline_model == "gpt-4o" and len(plan.order) == 24
        assert 0 < plan.expected_nano <= plan.worst_total_nano
        job = replay_job_create(project=tenant.project, actor=tenant.user, spec=_spec())
        finished = replay_job_run(job_id=job.pk)
    assert finished is not None and finished.status == JobStatus.DONE and finished.stop_reason == ""
    assert finished.done_items == 24 and finished.total_items == 24 and finished.reserved_nano == 0
    assert len(fake.requests) == 24 and fake.requests[0]["headers"]["authorization"].startswith(
        "Bearer sk-test-openai"
    )
    rows = _results(finished)
    assert len(rows) == 24 and {r["quality"] for r in rows} == {0.0, 1.0}
    assert json.loads(rows[0]["verdicts"])[0]["evaluator"] == "exact"
    # Spend is what the candidate answers cost: prompt tokens at $0.15/M plus answer tokens at $0.60/M.
    assert (
        finished.spent_nano == sum(r["cost_nano"] for r in rows) == sum(r["charged_nano"] for r in rows) > 0
    )
    result = CandidateResult.objects.get(job=finished)
    assert (result.samples, result.errors, result.error_rate) == (24, 0, 0.0)
    assert result.quality_mean == pytest.approx(sum(r["quality"] for r in rows) / 24)
    # The row repeats the estimate's override option: measured on the confirming two thirds of the
    # samples (the part that does not pick options), the same figures every page shows.
    estimate = Estimate.from_json(finished.estimate)
    override = next(o for o in estimate.options if o.strategy == "override")
    confirming = [r for r in rows if not screen_part_of(str(r["sample_id"]), rows)]
    assert override.samples == len(confirming) == 16  # two thirds confirm
    assert result.retention == pytest.approx(sum(r["quality"] for r in confirming) / 16) == override.retention
    assert (result.retention_low, result.retention_high) == (override.retention_low, override.retention_high)
    assert result.retention_low < result.retention < result.retention_high
    assert result.baseline_cost_per_call_nano > result.cost_per_call_nano > 0
    assert result.monthly_savings_nano == override.monthly_savings_nano
    assert override.savings_per_call_nano * 40 == pytest.approx(
        result.monthly_savings_nano, abs=1
    )  # 40 calls in 30 days
    assert result.savings_low_nano <= result.monthly_savings_nano <= result.savings_high_nano


def test_candidates_on_every_wire_format_and_a_judge_in_both_orders(tenant: Tenant, catalogue: Any) -> None:
    answers = _traffic(tenant, n=6)

    def judge(prompt: str, model: str, body: dict[str, Any]) -> str:
        from apps.replay.evaluators.judge import split_judge_prompt

        _, a, _b = split_judge_prompt(prompt)
        return json.dumps({"winner": "A", "p_a": 0.9 if a in LABELS else 0.6, "rationale": "labels win"})

    with (
        FakeProvider("openai", responder=judge) as judge_fake,
        FakeProvider("anthropic", responder=lambda p, m, b: answers[p]) as claude,
        FakeProvider("gemini", responder=lambda p, m, b: "other") as gemini,
    ):
        connect(tenant, "openai", "openai", judge_fake.base_url)
        connect(tenant, "anthropic", "anthropic", claude.base_url)
        connect(tenant, "google", "gemini", gemini.base_url)
        spec = _spec(
            candidates=(
                CandidateSpec("anthropic", "claude-haiku-4-5"),
                CandidateSpec("google", "gemini-2.5-flash"),
            ),
            evaluator="judge",
            judge=CandidateSpec("openai", "gpt-4o"),
            sample_size=6,
        )
        job = replay_job_run(
            job_id=replay_job_create(project=tenant.project, actor=tenant.user, spec=spec).pk
        )
    assert job is not None and job.status == JobStatus.DONE and job.done_items == 12
    assert (
        len(claude.requests) == len(gemini.requests) == 6 and len(judge_fake.requests) == 24
    )  # 2 orders each
    rows = _results(job)
    claude_rows = [r for r in rows if r["candidate"] == "anthropic/claude-haiku-4-5"]
    # The judge says A (0.9 for a label shown first, 0.6 otherwise): both orders average the bias out.
    assert {round(r["quality"], 6) for r in claude_rows} == {round((0.9 + (1 - 0.9)) / 2, 6)}
    assert all(r["eval_cost_nano"] > 0 for r in rows)
    assert (
        job.spent_nano
        == sum(r["charged_nano"] for r in rows)
        == sum(r["cost_nano"] + r["eval_cost_nano"] for r in rows)
    )
    assert {r.key: r.retention for r in job.results.all()} == {
        "anthropic/claude-haiku-4-5": pytest.approx(1.0),
        "google/gemini-2.5-flash": pytest.approx(1.0),
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"candidates": (CandidateSpec("anthropic", "claude-9"),)}, "is not a priced model"),
        ({"candidates": (CandidateSpec("together", "llama-3.1-8b"),)}, "No API key for provider 'together'"),
        ({"candidates": (CandidateSpec("openai", "gpt-9"),)}, "is not a priced model"),
        ({"sample_size": 0}, "must be at least 1"),
        ({"spend_cap_nano": 10}, "raise the cap to at least"),
        ({"endpoint": "nobody-calls-this"}, "has no calls"),
        ({"evaluator": "vibes"}, "evaluator: one of"),
    ],
)
def test_bad_input_is_refused_before_the_job_starts(
    tenant: Tenant, catalogue: Any, change: dict[str, Any], message: str
) -> None:
    _traffic(tenant, n=4)
    connect(tenant, "openai", "openai", "http://127.0.0.1:9/v1")
    with pytest.raises(ApplicationError, match=message):
        replay_job_create(project=tenant.project, actor=tenant.user, spec=_spec(**change))
    assert not ReplayJob.objects.exists()


def test_rate_limits_are_retried_after_the_providers_delay(tenant: Tenant, catalogue: Any) -> None:
    answers = _traffic(tenant, n=6)
    with FakeProvider("openai", responder=lambda p, m, b: answers[p]) as fake:
        connect(tenant, "openai", "openai", fake.base_url, max_concurrency=1)
        fake.script.extend(["429:0", "429:0", "500"])
        job = replay_job_run(
            job_id=replay_job_create(project=tenant.project, actor=None, spec=_spec(sample_size=6)).pk
        )
    assert job is not None and job.status == JobStatus.DONE and job.done_items == 6
    assert len(fake.requests) == 9
    assert sum(r["attempts"] for r in _results(job)) == 9  # every retry is recorded on its sample
    assert CandidateResult.objects.get(job=job).retention == 1.0


def test_a_timed_out_request_is_retried_and_its_worst_case_stays_spent(
    tenant: Tenant, catalogue: Any
) -> None:
    answers = _traffic(tenant, n=2)
    with FakeProvider("openai", responder=lambda p, m, b: answers[p]) as fake:
        connect(tenant, "openai", "openai", fake.base_url, max_concurrency=1, timeout_s=1)
        fake.script.append("timeout")
        job = replay_job_run(
            job_id=replay_job_create(project=tenant.project, actor=None, spec=_spec(sample_size=2)).pk
        )
    assert (
        job is not None and job.status == JobStatus.DONE and job.done_items == 2 and len(fake.requests) == 3
    )
    rows = _results(job)
    items = {str(i.event_id): i for i in job.items.all()}
    retried = next(r for r in rows if r["attempts"] == 2)
    worst = items[str(retried["sample_id"])].worst_nano
    assert retried["charged_nano"] == worst + retried["cost_nano"]  # the lost attempt may have been billed
    assert job.spent_nano == sum(r["charged_nano"] for r in rows)


def test_a_provider_that_keeps_failing_fails_the_job_and_keeps_partial_results(
    tenant: Tenant, catalogue: Any
) -> None:
    answers = _traffic(tenant, n=12)
    with FakeProvider("openai", responder=lambda p, m, b: answers[p]) as fake:
        connect(tenant, "openai", "openai", fake.base_url, max_concurrency=1)
        fake.script.extend(["ok"] * 3 + ["500"] * 100)
        job = replay_job_run(
            job_id=replay_job_create(project=tenant.project, actor=None, spec=_spec(sample_size=12)).pk
        )
    assert job is not None and job.status == JobStatus.FAILED
    assert (
        job.error.startswith("failed: openai keeps failing (5 requests in a row)") and "HTTP 500" in job.error
    )
    assert (
        job.done_items == 3
        and job.error_items >= 5
        and job.done_items + job.error_items + job.skipped_items == 12
    )
    result = CandidateResult.objects.get(job=job)
    assert result.samples == 3 and result.errors == job.error_items and result.retention == 1.0


def test_an_auth_error_fails_the_job_at_once_with_what_to_fix(tenant: Tenant, catalogue: Any) -> None:
    _traffic(tenant, n=4)
    with FakeProvider("openai") as fake:
        connect(tenant, "openai", "openai", fake.base_url, max_concurrency=1)
        fake.script.append("401")
        job = replay_job_run(
            job_id=replay_job_create(project=tenant.project, actor=None, spec=_spec(sample_size=4)).pk
        )
    assert (
        job is not None
        and job.status == JobStatus.FAILED
        and "HTTP 401" in job.error
        and len(fake.requests) == 1
    )


def test_the_spend_cap_is_never_exceeded_even_with_requests_in_flight(tenant: Tenant, catalogue: Any) -> None:
    now = datetime.now(UTC)
    events = [
        call(f"Summarise ticket {i}", "refund", endpoint="support-triage", ts=now - timedelta(hours=i + 1), request_extra={"max_tokens": 50})
        for i in range(24)
    ]  # fmt: skip
    ingest(tenant, events)
    # Every answer uses the whole max_tokens (200 bytes = 50 tokens), so real spend nears the worst case.
    with FakeProvider(
        "openai", responder=lambda p, m, b: "long answer " * 16 + "12345678", delay=0.05
    ) as fake:
        connect(tenant, "openai", "openai", fake.base_url, max_concurrency=8)
        plan = replay_job_preview(project=tenant.project, actor=None, spec=_spec())
        cap = plan.max_single_worst_nano * 5  # room for five worst cases, while eight could be in flight
        job = replay_job_run(
            job_id=replay_job_create(project=tenant.project, actor=None, spec=_spec(spend_cap_nano=cap)).pk
        )
    assert job is not None and job.status == JobStatus.DONE and job.stop_reason == "spend_cap"
    rows = _results(job)
    billed = sum(r["cost_nano"] for r in rows)
    assert 5 <= len(fake.requests) == len(rows) < 24 and job.skipped_items == 24 - len(rows)
    assert billed == job.spent_nano <= cap
    assert job.reserved_nano == 0


def _claim_as_dead_worker(job: ReplayJob) -> None:
    ReplayJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, attempts=1, heartbeat_at=datetime.now(UTC) - timedelta(hours=1)
    )


def test_a_job_resumes_after_its_worker_died_without_sending_or_counting_twice(
    tenant: Tenant, catalogue: Any
) -> None:
    answers = _traffic(tenant, n=10)
    with FakeProvider("openai", responder=lambda p, m, b: answers[p]) as fake:
        connect(tenant, "openai", "openai", fake.base_url)
        job = replay_job_create(project=tenant.project, actor=None, spec=_spec(sample_size=10))
        items = list(job.items.order_by("seq"))
        # The dead worker had reserved three requests; two results reached ClickHouse, one did not.
        _claim_as_dead_worker(job)
        for item in items[:3]:
            ReplayItem.objects.filter(pk=item.pk).update(
                state=ItemState.INFLIGHT, reserved_nano=item.worst_nano
            )
        ReplayJob.objects.filter(pk=job.pk).update(reserved_nano=sum(i.worst_nano for i in items[:3]))
        stored = []
        for item in items[:2]:
            row = dict.fromkeys(RESULT_COLUMNS, 0) | {
                "project_id": job.project_id, "job_id": job.pk, "sample_id": item.event_id,
                "candidate": item.candidate, "endpoint": job.endpoint, "seq": item.seq,
                "call_ts": datetime.now(UTC), "prompt_text": "p", "baseline_output": "b", "output": "refund",
                "ok": 1, "error": "", "failed_checks": [], "cost_nano": 1000, "charged_nano": 1000,
                "evaluator": "exact", "quality": 1.0, "verdicts": "[]",
            }  # fmt: skip
            stored.append(row)
        warehouse.system_insert(
            "replay_results", [[r[c] for c in RESULT_COLUMNS] for r in stored], RESULT_COLUMNS, feature="test"
        )
        resumed = replay_job_run(job_id=job.pk)
    assert resumed is not None and resumed.status == JobStatus.DONE and resumed.attempts == 2
    sent = {(r["body"]["messages"][-1]["content"]) for r in fake.requests}
    assert len(fake.requests) == 7 and len(sent) == 7  # only the seven never sent, each once
    states = {i.pk: i for i in resumed.items.all()}
    assert [states[i.pk].state for i in items[:3]] == [ItemState.DONE, ItemState.DONE, ItemState.INTERRUPTED]
    assert states[items[2].pk].charged_nano == items[2].worst_nano  # maybe billed: counted at worst
    assert resumed.interrupted_items == 1 and resumed.done_items == 9 and resumed.reserved_nano == 0
    assert resumed.spent_nano == sum(i.charged_nano for i in states.values())
    assert resumed.spent_nano == 2000 + items[2].worst_nano + sum(
        r["cost_nano"] for r in _results(resumed)[2:] if r["seq"] != items[2].seq
    )


def test_a_live_worker_keeps_its_job_and_a_taken_over_one_is_fenced_out(
    tenant: Tenant, catalogue: Any
) -> None:
    from apps.replay.engine.budget import Fenced
    from apps.replay.engine.ledger import Ledger

    _traffic(tenant, n=2)
    connect(tenant, "openai", "openai", "http://127.0.0.1:9/v1")
    job = replay_job_create(project=tenant.project, actor=None, spec=_spec(sample_size=2))
    ReplayJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, attempts=1, heartbeat_at=datetime.now(UTC)
    )
    assert replay_job_run(job_id=job.pk) is None  # alive elsewhere: not touched
    old = Ledger(ReplayJob.objects.get(pk=job.pk))
    ReplayJob.objects.filter(pk=job.pk).update(attempts=2)  # another worker took it over
    item = job.items.first()
    assert item is not None
    with pytest.raises(Fenced):
        old.reserve([(item.pk, 5, 5)])
    assert old.heartbeat() == {"fenced": True}
    assert ReplayItem.objects.get(pk=item.pk).state == ItemState.PENDING


def test_simulated_candidates_and_judge_cost_nothing_and_say_so(tenant: Tenant, catalogue: Any) -> None:
    now = datetime.now(UTC)
    prose = [
        call(f"How do I reset my password, case {i}?", f"Open settings, choose security, then reset (case {i}).", endpoint="help", ts=now - timedelta(hours=i + 1))
        for i in range(8)
    ]  # fmt: skip
    ingest(tenant, prose)
    spec = ReplaySpec(
        endpoint="help",
        candidates=(
            CandidateSpec("openai", "gpt-4o-mini", simulated=True),
            CandidateSpec("google", "gemini-2.5-flash", simulated=True),
        ),
        sample_size=8,
        spend_cap_nano=0,
    )
    plan = replay_job_preview(project=tenant.project, actor=None, spec=spec)
    assert plan.evaluator == "judge" and plan.judge == CandidateSpec("openai", "gpt-4o", simulated=True)
    assert plan.expected_nano == 0 and plan.simulated
    job = replay_job_run(job_id=replay_job_create(project=tenant.project, actor=None, spec=spec).pk)
    assert job is not None and job.status == JobStatus.DONE and job.simulated and job.spent_nano == 0
    rows = _results(job)
    assert len(rows) == 16 and all(r["simulated"] == 1 and r["charged_nano"] == 0 for r in rows)
    assert all(r["cost_nano"] > 0 for r in rows)  # priced as the real models would be
    assert all("simulated judge" in json.loads(r["verdicts"])[0]["rationale"] for r in rows)
    results = {r.key: r for r in job.results.all()}
    assert all(r.simulated and 0 < r.retention <= 1.0 for r in results.values())


def test_a_replayed_call_is_scored_against_what_the_app_got_by_event_id(
    tenant: Tenant, catalogue: Any
) -> None:
    """Sample ids are the calls' event ids (the evidence contract's sample_id)."""
    answers = _traffic(tenant, n=3)
    with FakeProvider("openai", responder=lambda p, m, b: answers[p]) as fake:
        connect(tenant, "openai", "openai", fake.base_url)
        job = replay_job_run(
            job_id=replay_job_create(project=tenant.project, actor=None, spec=_spec(sample_size=3)).pk
        )
    assert job is not None
    for row in _results(job):
        assert isinstance(row["sample_id"], uuid.UUID) and row["output"] == row["baseline_output"]
        assert row["quality"] == 1.0 and row["output_tokens"] == tokens(row["output"])
    assert {str(r["sample_id"]) for r in _results(job)} == {str(i.event_id) for i in job.items.all()}
