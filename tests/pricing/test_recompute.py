"""A past-dated price change recomputes stored costs in the real llm_calls table, and the rollups
become exact through the revision scheme (warehouse/migrations/0002_rollups.sql)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from apps.core import background
from apps.pricing import recompute
from apps.pricing.cost import Usage, cost_breakdown_json
from apps.pricing.models import LlmModel, Provider, RecomputeJob, RecomputeStatus
from apps.pricing.recompute import recompute_job_run, recompute_plan
from apps.pricing.selectors import price_book_invalidate, price_book_load, unpriced_models
from apps.pricing.services import custom_model_create, discount_set, price_create
from apps.warehouse import client as warehouse
from apps.warehouse.client import ProjectScope
from tests.pricing.factories import CALL_COLUMNS
from tests.tenancy import Tenant, make_tenant

pytestmark = pytest.mark.django_db

COLUMNS = [
    *CALL_COLUMNS,
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cost_nano_usd",
    "price_id",
    "cost_breakdown",
    "latency_ms",
]
NOW = datetime.now(UTC).replace(microsecond=0)
WEEK_AGO = NOW - timedelta(days=7)


@pytest.fixture(autouse=True)
def _no_settle(settings: Any) -> None:
    settings.PRICING_RECOMPUTE_SETTLE_S = 0


def _catalogue_price(model: LlmModel, since: Any, **prices: str) -> Any:
    """A catalogue price row in USD per 1M tokens."""
    return price_create(
        model=model, organization=None, actor=None, effective_from=since, prices=prices, per_exp=6
    )


def _cut(model: LlmModel, since: Any = WEEK_AGO) -> Any:
    """OpenAI cuts gpt-4o to $2/M input, $1/M cached, $8/M output."""
    return _catalogue_price(model, since, input="2", cached_input="1", output="8")


@pytest.fixture
def gpt4o() -> LlmModel:
    provider = Provider.objects.create(slug="openai", name="OpenAI")
    model = LlmModel.objects.create(provider=provider, name="gpt-4o")
    # $2.50/M input, $1.25/M cached, $10/M output since long ago
    _catalogue_price(model, "2024-01-01", input="2.50", cached_input="1.25", output="10")
    price_book_invalidate()
    return model


def _insert(project_id: int, calls: list[dict[str, Any]], org_id: int | None) -> None:
    """Store calls as ingest would: costed with the organisation's current book."""
    book = price_book_load(organization_id=org_id)
    rows = []
    for call in calls:
        usage = Usage(
            input_tokens=call["input"],
            output_tokens=call["output"],
            cached_input_tokens=call.get("cached", 0),
        )
        result = book.cost(provider=call["provider"], model=call["model"], ts=call["ts"], usage=usage)
        rows.append(
            [
                project_id,
                "production",
                call.get("endpoint", "support"),
                call["ts"],
                call.get("event_id", uuid.uuid4()),
                call["provider"],
                call["model"],
                "ok",
                [],
                {},
                [],
                call["input"],
                call["output"],
                call.get("cached", 0),
                result.nano_usd if result else None,
                result.price_id if result else 0,
                cost_breakdown_json(result) if result else "",
                120,
            ]
        )
    warehouse.system_insert("llm_calls", rows, COLUMNS, feature="test")


def _calls(project_id: int) -> dict[str, tuple[Any, ...]]:
    result = ProjectScope(project_id).query(
        "SELECT toString(event_id), revision, cost_nano_usd, prev_cost_nano_usd, price_id, cost_breakdown "
        "FROM llm_calls FINAL WHERE project_id = {project_id:UInt64}",
        feature="test",
    )
    return {row[0]: row[1:] for row in result.rows}


def _rollup(project_id: int) -> dict[str, tuple[int, int, int]]:
    result = ProjectScope(project_id).query(
        "SELECT model, sum(calls), sum(sum_cost_nano_usd), sum(unpriced_calls) FROM llm_calls_1h "
        "WHERE project_id = {project_id:UInt64} GROUP BY model",
        feature="test",
    )
    return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in result.rows}


def _five_calls() -> list[dict[str, Any]]:
    # 1000 input (200 cached) + 100 output, spread over the last few days
    return [
        {
            "provider": "openai",
            "model": "gpt-4o",
            "ts": NOW - timedelta(days=3, hours=i),
            "input": 1000,
            "cached": 200,
            "output": 100,
            "event_id": uuid.UUID(int=i + 1),
        }
        for i in range(5)
    ]


def test_a_past_dated_price_change_recomputes_calls_and_rollups(tenant: Tenant, gpt4o: LlmModel) -> None:
    project = tenant.project.pk
    _insert(project, _five_calls(), tenant.organization.pk)
    # 800 x $2.50/M + 200 x $1.25/M + 100 x $10/M = 2,000,000 + 250,000 + 1,000,000 nano per call
    assert _rollup(project) == {"gpt-4o": (5, 5 * 3_250_000, 0)}

    # OpenAI cut the price a week ago: $2/M input, $1/M cached, $8/M output.
    new = _cut(gpt4o)
    jobs = recompute_plan(organization_id=None, since=WEEK_AGO, model_ids=[gpt4o.pk], reason="price cut")
    assert [job.project_id for job in jobs] == [project]
    done = recompute_job_run(job_id=jobs[0].pk)
    assert done is not None and done.status == RecomputeStatus.DONE
    assert (done.total, done.processed, done.changed) == (5, 5, 5)

    # 800 x $2/M + 200 x $1/M + 100 x $8/M = 1,600,000 + 200,000 + 800,000 = 2,600,000 nano
    calls = _calls(project)
    assert {c[:4] for c in calls.values()} == {(1, 2_600_000, 3_250_000, new.pk)}
    breakdown = json.loads(next(iter(calls.values()))[4])
    assert (breakdown["input"], breakdown["cached_input"], breakdown["output"]) == (
        1_600_000,
        200_000,
        800_000,
    )
    # Calls are still counted once; the cost total is exactly the new costs.
    assert _rollup(project) == {"gpt-4o": (5, 5 * 2_600_000, 0)}


def test_jobs_are_bounded_resumable_and_a_repeated_batch_changes_nothing(
    tenant: Tenant, gpt4o: LlmModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recompute, "BATCH_SIZE", 2)
    project = tenant.project.pk
    _insert(project, _five_calls(), tenant.organization.pk)
    _cut(gpt4o)
    job = recompute_plan(organization_id=None, since=WEEK_AGO, model_ids=[gpt4o.pk], reason="cut")[0]

    first = recompute_job_run(job_id=job.pk, max_batches=1)  # one batch, then back on the queue
    assert first is not None and first.status == RecomputeStatus.PENDING
    assert (first.processed, first.total, first.percent) == (2, 5, 40)
    assert sorted(c[0] for c in _calls(project).values()) == [0, 0, 0, 1, 1]

    # The worker died after writing a batch but before saving its cursor: the batch runs again.
    RecomputeJob.objects.filter(pk=job.pk).update(cursor_ts=None, cursor_event_id="", processed=0)
    finished = recompute_job_run(job_id=job.pk, max_batches=None)
    assert finished is not None and finished.status == RecomputeStatus.DONE
    assert sorted(c[0] for c in _calls(project).values()) == [1, 1, 1, 1, 1]
    assert _rollup(project) == {"gpt-4o": (5, 5 * 2_600_000, 0)}
    assert recompute_job_run(job_id=job.pk) is None  # done is done


def test_calls_before_the_change_keep_their_cost(tenant: Tenant, gpt4o: LlmModel) -> None:
    project = tenant.project.pk
    calls = _five_calls()
    _insert(project, calls, tenant.organization.pk)
    since = NOW - timedelta(days=3, hours=2)  # the three newest calls
    _cut(gpt4o, since)
    job = recompute_plan(organization_id=None, since=since, model_ids=[gpt4o.pk], reason="cut")[0]
    recompute_job_run(job_id=job.pk)
    costs = {c[1] for key, c in _calls(project).items() if uuid.UUID(key).int in (1, 2, 3)}
    older = {c[1] for key, c in _calls(project).items() if uuid.UUID(key).int in (4, 5)}
    assert costs == {2_600_000} and older == {3_250_000}
    assert _rollup(project) == {"gpt-4o": (5, 3 * 2_600_000 + 2 * 3_250_000, 0)}


def test_an_organisation_price_touches_only_that_organisation(
    tenant: Tenant, other_tenant: Tenant, gpt4o: LlmModel
) -> None:
    _insert(tenant.project.pk, _five_calls(), tenant.organization.pk)
    _insert(other_tenant.project.pk, _five_calls(), other_tenant.organization.pk)
    price_create(
        model=gpt4o,
        organization=tenant.organization,
        actor=tenant.user,
        effective_from=WEEK_AGO,
        prices={"input": "1", "output": "4"},  # negotiated; no cached price: cached at input
        per_exp=6,
    )
    jobs = recompute_plan(
        organization_id=tenant.organization.pk, since=WEEK_AGO, model_ids=[gpt4o.pk], reason="contract"
    )
    assert [job.project_id for job in jobs] == [tenant.project.pk]
    recompute_job_run(job_id=jobs[0].pk)
    # 1000 x $1/M + 100 x $4/M = 1,400,000 nano
    assert _rollup(tenant.project.pk) == {"gpt-4o": (5, 5 * 1_400_000, 0)}
    assert _rollup(other_tenant.project.pk) == {"gpt-4o": (5, 5 * 3_250_000, 0)}


def test_a_discount_recomputes_the_providers_calls(tenant: Tenant, gpt4o: LlmModel) -> None:
    project = tenant.project.pk
    _insert(project, _five_calls(), tenant.organization.pk)
    discount_set(
        organization=tenant.organization,
        actor=tenant.user,
        provider="openai",
        percent="20",
        effective_from=WEEK_AGO,
    )
    jobs = recompute_plan(
        organization_id=tenant.organization.pk, since=WEEK_AGO, provider_slugs=["openai"], reason="discount"
    )
    recompute_job_run(job_id=jobs[0].pk)
    assert _rollup(project) == {"gpt-4o": (5, 5 * 2_600_000, 0)}  # 3,250,000 less 20%


def test_unknown_model_is_stored_unpriced_then_filled_in_once_priced(tenant: Tenant) -> None:
    project = tenant.project.pk
    calls = [
        {
            "provider": "vllm",
            "model": "acme-llama-ft",
            "ts": NOW - timedelta(days=1, minutes=i),
            "input": 500,
            "output": 50,
        }
        for i in range(3)
    ]
    _insert(project, calls, tenant.organization.pk)
    assert _rollup(project) == {"acme-llama-ft": (3, 0, 3)}
    [missing] = unpriced_models(organization=tenant.organization)
    assert (missing.provider, missing.model, missing.calls, missing.now_priced) == (
        "vllm",
        "acme-llama-ft",
        3,
        False,
    )
    assert {c[1] for c in _calls(project).values()} == {None}  # NULL, never $0

    model = custom_model_create(
        organization=tenant.organization, actor=tenant.user, provider="vllm", name="acme-llama-ft"
    )
    price_create(
        model=model,
        organization=tenant.organization,
        actor=tenant.user,
        effective_from=missing.first_seen,
        prices={"input": "0.40", "output": "1.20"},
        per_exp=6,
    )
    price_book_invalidate()
    assert unpriced_models(organization=tenant.organization)[0].now_priced is True
    jobs = recompute_plan(
        organization_id=tenant.organization.pk,
        since=missing.first_seen,
        model_ids=[model.pk],
        reason="priced",
    )
    recompute_job_run(job_id=jobs[0].pk)
    # 500 x $0.40/M + 50 x $1.20/M = 200,000 + 60,000 nano
    assert {c[1] for c in _calls(project).values()} == {260_000}
    assert _rollup(project) == {"acme-llama-ft": (3, 3 * 260_000, 0)}
    assert unpriced_models(organization=tenant.organization) == []


def test_jobs_of_one_project_run_one_at_a_time(tenant: Tenant, gpt4o: LlmModel) -> None:
    _insert(tenant.project.pk, _five_calls(), tenant.organization.pk)
    a = RecomputeJob.objects.create(
        organization=tenant.organization,
        project=tenant.project,
        reason="a",
        since=WEEK_AGO,
        pairs=[["openai", "gpt-4o"]],
    )
    b = RecomputeJob.objects.create(
        organization=tenant.organization,
        project=tenant.project,
        reason="b",
        since=WEEK_AGO,
        pairs=[["openai", "gpt-4o"]],
    )
    RecomputeJob.objects.filter(pk=a.pk).update(
        status=RecomputeStatus.RUNNING, heartbeat_at=datetime.now(UTC)
    )
    assert recompute_job_run(job_id=b.pk) is None  # a is alive: b waits for it
    RecomputeJob.objects.filter(pk=a.pk).update(heartbeat_at=datetime.now(UTC) - timedelta(hours=1))
    assert recompute_job_run(job_id=b.pk) is not None  # a's worker died: b may run


@pytest.mark.django_db(transaction=True)
def test_a_price_change_recomputes_in_the_background_end_to_end() -> None:
    owner = make_tenant("bgco")
    provider = Provider.objects.create(slug="openai", name="OpenAI")
    model = LlmModel.objects.create(provider=provider, name="gpt-4o")
    _catalogue_price(model, "2024-01-01", input="10", output="10")
    background.drain(30)
    price_book_invalidate()
    _insert(owner.project.pk, _five_calls(), owner.organization.pk)  # 1100 tokens x $10/M = 11,000,000
    assert _rollup(owner.project.pk) == {"gpt-4o": (5, 5 * 11_000_000, 0)}
    with transaction.atomic():
        _catalogue_price(model, WEEK_AGO, input="5", output="5")
    assert background.drain(60)
    job = RecomputeJob.objects.get(project=owner.project)
    assert job.status == RecomputeStatus.DONE and job.changed == 5
    assert _rollup(owner.project.pk) == {"gpt-4o": (5, 5 * 5_500_000, 0)}
    assert Decimal(job.percent) == 100
