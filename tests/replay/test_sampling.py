"""Sampling: what can be replayed (and what is left out, counted), stratification, sizes."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.core.errors import ApplicationError
from apps.replay import sampling, stats
from apps.replay.services.planning import CandidateSpec, ReplaySpec, replay_plan
from tests.replay.factories import call, feedback, ingest
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db
SIM = (CandidateSpec("openai", "gpt-4o-mini", simulated=True),)


def test_calls_that_cannot_be_replayed_are_left_out_and_counted(tenant: Tenant, catalogue: Any) -> None:
    now = datetime.now(UTC)
    events = [
        call(f"Classify ticket {i}", "refund", endpoint="triage", ts=now - timedelta(hours=i + 1))
        for i in range(10)
    ]
    bare = call("no payload", "refund", endpoint="triage")
    bare.pop("request"), bare.pop("response")
    events += [bare, dict(bare, event_id="5f2a8a7e-0000-4000-8000-000000000001")]
    # The answer repeated hidden data, or the question is about a card number: left out.
    events += [
        call(f"Change my email to j{i}@example.com", f"Now j{i}@example.com", endpoint="triage")
        for i in range(2)
    ]
    events += [call("Is 4111 1111 1111 1111 a valid card?", "Yes", endpoint="triage")]
    # An address in the question alone does not change what is asked: replayed.
    events += [call("Reply to max@example.com: is my parcel lost?", "refund", endpoint="triage")]
    events += [
        call(f"failed {i}", "", endpoint="triage", status="error", error_type="timeout") for i in range(2)
    ]
    events += [call(f"mini {i}", "refund", endpoint="triage", model="gpt-4o-mini") for i in range(3)]
    events += [call("routed", "refund", endpoint="triage", routing={"policy_version": 1, "arm": "candidate", "target": "openai/gpt-4o-mini", "reason": "override"})]  # fmt: skip
    events += [call("an image", "a cat", endpoint="triage", request_extra={"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/cat.png"}}]}]})]  # fmt: skip
    ingest(tenant, events)
    plan = replay_plan(
        project=tenant.project, spec=ReplaySpec(endpoint="triage", candidates=SIM, sample_size=50)
    )
    assert plan.population.baseline_model == "gpt-4o" and plan.population.eligible == 12
    assert plan.excluded == {
        "no_payload": 2,
        "redacted": 3,
        "baseline_error": 2,
        "other_model": 3,
        "unsupported": 1,
    }
    assert len(plan.order) == 11 and plan.monthly_calls == len(events) - 3  # not the 3 calls to mini


def test_nothing_replayable_is_refused_with_the_reason(tenant: Tenant, catalogue: Any) -> None:
    bare = call("no payload", "refund", endpoint="quiet")
    bare.pop("request"), bare.pop("response")
    ingest(tenant, [bare])
    with pytest.raises(ApplicationError, match="turn on payload capture"):
        replay_plan(project=tenant.project, spec=ReplaySpec(endpoint="quiet", candidates=SIM))


def _spread(tenant: Tenant, n: int = 200) -> list[dict[str, Any]]:
    """n calls over 28 days; user u0 makes half of them; prompts of four lengths."""
    now = datetime.now(UTC)
    events = []
    for i in range(n):
        user = "u0" if i % 2 == 0 else f"u{1 + i % 9}"
        prompt = f"Question {i}: " + "detail " * (5 * (1 + (i // 2) % 4) ** 2)
        events.append(
            call(
                prompt,
                "refund",
                endpoint="spread",
                ts=now - timedelta(hours=1 + i * 28 * 24 / n),
                user_id=user,
            )
        )
    ingest(tenant, events)
    return events


def test_the_sample_is_stratified_over_time_and_length_and_spread_over_users(
    tenant: Tenant, catalogue: Any
) -> None:
    events = _spread(tenant)
    by_id = {e["event_id"]: e for e in events}
    pop = sampling.population(project_id=tenant.project.pk, endpoint="spread")
    counts = sampling.strata_counts(pop, project_id=tenant.project.pk, endpoint="spread")
    assert sum(counts) == 200 and sum(1 for c in counts if c) >= 12
    drawn = sampling.draw(pop=pop, project_id=tenant.project.pk, endpoint="spread", n=40, seed=7)
    assert len(drawn) == 40 == len({d.event_id for d in drawn})
    per_stratum = Counter(d.stratum for d in drawn)
    assert dict(per_stratum) == {s: a for s, a in enumerate(sampling.allocate(counts, 40)) if a}
    users: dict[int, list[str]] = defaultdict(list)
    for d in drawn:
        users[d.stratum].append(by_id[str(d.event_id)]["user_id"])
    for chosen in users.values():  # within a stratum, nobody twice while others wait
        assert len(set(chosen)) == len(chosen)
    assert Counter(by_id[str(d.event_id)]["user_id"] for d in drawn)["u0"] <= 16  # u0 is half the traffic
    again = sampling.draw(pop=pop, project_id=tenant.project.pk, endpoint="spread", n=40, seed=7)
    assert [d.event_id for d in again] == [d.event_id for d in drawn]  # reproducible for a seed


def test_the_sample_size_comes_from_the_confidence_asked_for(tenant: Tenant, catalogue: Any) -> None:
    _spread(tenant)
    for confidence, margin in ((0.95, 0.1), (0.99, 0.1), (0.95, 0.05)):
        spec = ReplaySpec(
            endpoint="spread", candidates=SIM, evaluator="exact", confidence=confidence, margin=margin
        )
        plan = replay_plan(project=tenant.project, spec=spec)
        assert len(plan.order) == stats.sample_size(confidence=confidence, margin=margin, population=200)
    judged = replay_plan(
        project=tenant.project,
        spec=ReplaySpec(endpoint="spread", candidates=SIM, evaluator="judge", margin=0.1),
    )
    assert len(judged.order) == stats.sample_size(confidence=0.95, margin=0.1, population=200, variance=1.0)


def test_allocation_is_proportional_and_exact() -> None:
    assert sampling.allocate([50, 30, 20, 0], 10) == [5, 3, 2, 0]
    assert sum(sampling.allocate([7, 13, 1, 9], 11)) == 11
    assert sampling.allocate([3, 1], 100) == [3, 1]


def test_the_feedback_evaluator_samples_calls_with_feedback_only(tenant: Tenant, catalogue: Any) -> None:
    now = datetime.now(UTC)
    events = [
        call(f"Where is order {i}?", "It ships tomorrow.", endpoint="orders", ts=now - timedelta(hours=i + 1))
        for i in range(6)
    ]
    ingest(tenant, events)
    feedback(tenant, [{"event_id": events[0]["event_id"], "kind": "thumbs", "score": 1},
                      {"event_id": events[1]["event_id"], "kind": "thumbs", "score": -1, "comment": "wrong date"}])  # fmt: skip
    plan = replay_plan(
        project=tenant.project, spec=ReplaySpec(endpoint="orders", candidates=SIM, evaluator="feedback")
    )
    assert sorted(str(e) for e in plan.order) == sorted([events[0]["event_id"], events[1]["event_id"]])
    assert plan.excluded["no_feedback"] == 4
    liked = (
        plan.samples[plan.order[0]]
        if str(plan.order[0]) == events[0]["event_id"]
        else plan.samples[plan.order[1]]
    )
    assert liked.feedback == 1.0


def test_monthly_volume_counts_the_calls_a_policy_would_route(tenant: Tenant, catalogue: Any) -> None:
    """An endpoint that also calls another model: savings are projected on the baseline model's
    calls (routed ones included), not on every call of the endpoint — which priced the other
    model's calls at the baseline's cost and could claim more than was spent."""
    now = datetime.now(UTC)
    events = [call(f"q{i}", "a", endpoint="mixed", ts=now - timedelta(hours=i + 1)) for i in range(30)]
    events += [
        call(f"r{i}", "a", endpoint="mixed", model="gpt-4o-mini", ts=now - timedelta(hours=i + 1))
        for i in range(20)
    ]
    routing = {"policy_version": 1, "arm": "candidate", "target": "openai/gpt-4o-mini", "reason": "override"}
    events += [call(f"s{i}", "a", endpoint="mixed", routing=routing) for i in range(5)]
    assert ingest(tenant, events) == 55
    volume = sampling.monthly_calls(
        project_id=tenant.project.pk, endpoint="mixed", provider="openai", model="gpt-4o"
    )
    assert volume == 30 + 5
