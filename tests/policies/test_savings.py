"""Realised savings from live telemetry sent through the real ingest API, next to the projection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.policies.domain.savings import realised_savings, realised_savings_for_endpoint
from apps.policies.selectors import open_recommendation_savings, policy_history
from apps.policies.services.approve import recommendation_approve
from apps.policies.services.recommend import recommendation_refresh
from tests.policies.factories import BASELINE, MINI, ingest, routed_event, synthetic_evidence
from tests.tenancy import Tenant

E = "support-reply"
# list prices (USD per 1M tokens): gpt-4o 2.50 / 10, gpt-4o-mini 0.15 / 0.60
MINI_CALL = 1000 * 150 + 200 * 600  # nano-USD for 1000 input and 200 output tokens: 270 000
BASE_PRICE_OF_MINI_CALL = 1000 * 2_500 + 200 * 10_000  # the same tokens at gpt-4o's price: 4 500 000
ESCALATION = 1000 * 2_500 + 300 * 10_000  # gpt-4o answering with 300 tokens: 5 500 000


def test_realised_savings_of_a_cascade_against_the_baseline_price(
    tenant: Tenant, catalogue: dict[str, Any]
) -> None:
    rec = recommendation_refresh(
        project=tenant.project, evidence=synthetic_evidence(project_id=tenant.project.pk)
    )
    assert (
        open_recommendation_savings(project_id=tenant.project.pk)[0].monthly_savings_nano == 9_000 * 300_000
    )
    version = recommendation_approve(recommendation=rec, actor=tenant.user)
    assert open_recommendation_savings(project_id=tenant.project.pk) == []
    v = version.version
    events = [
        routed_event(endpoint=E, version=v, arm="candidate", reason="cascade", model=MINI) for _ in range(35)
    ]
    events += [
        routed_event(
            endpoint=E, version=v, arm="fallback", reason="cascade:refusal", model=BASELINE, output_tokens=300
        )
        for _ in range(5)
    ]
    events += [
        routed_event(endpoint=E, version=v, arm="baseline", reason="rollout", model=BASELINE)
        for _ in range(10)
    ]
    events += [routed_event(endpoint="other", version=0, arm="baseline", reason="", model=BASELINE)]
    ingest(tenant.ingest_key, events)

    since = datetime.now(UTC) - timedelta(days=1)
    found = realised_savings_for_endpoint(
        project_id=tenant.project.pk, organization_id=tenant.organization.pk, endpoint=E, since=since
    )
    assert found is not None
    assert (found.calls_in_policy, found.calls_outside) == (35, 10)
    assert found.actual_cost_nano == 35 * MINI_CALL + 5 * ESCALATION
    # 30 answers kept from the cheap model, priced at gpt-4o; the 5 escalations are gpt-4o's own answers
    assert found.baseline_cost_nano == 30 * BASE_PRICE_OF_MINI_CALL + 5 * ESCALATION
    assert found.saved_nano == found.baseline_cost_nano - found.actual_cost_nano
    assert found.candidate_share == pytest.approx(30 / 35) and found.escalation_rate == pytest.approx(5 / 35)
    # the recommendation projected 9 000 nano-USD per call: for 35 calls, 315 000
    assert found.projected_nano == 315_000 and found.projected_retention == 1.0
    assert found.error_rate_policy == 0.0 and found.unpriced_events == 0 and found.notes == []
    assert [s.endpoint for s in realised_savings(
        project_id=tenant.project.pk, organization_id=tenant.organization.pk, since=since)] == [E]  # fmt: skip
    (item,) = policy_history(project_id=tenant.project.pk, endpoint=E)
    assert (item.version, item.action, item.by, item.current, item.target) == (
        1,
        "approve",
        tenant.user.email,
        True,
        MINI,
    )
