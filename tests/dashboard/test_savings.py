"""Savings, replay options, the Pareto chart and policy history on the dashboard pages, from a real
recommendation (apps.policies) and routed calls sent through the ingest API."""

from __future__ import annotations

import re
from typing import Any

import plotly.graph_objects as go
import pytest
from django.urls import reverse
from django.utils import timezone

from apps.dashboard.filters import parse_range
from apps.dashboard.savings import endpoint_routing, savings_summary
from apps.policies.domain.savings import realised_savings
from apps.policies.services.approve import recommendation_approve
from apps.policies.services.recommend import recommendation_refresh
from tests.policies.factories import BASELINE, MINI, ingest, price_catalogue, routed_event, synthetic_evidence
from tests.tenancy import Tenant

pytestmark = pytest.mark.django_db
E = "support-reply"


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _recommend(tenant: Tenant, *, input_tokens: int) -> Any:
    """A $2.70/month recommendation for an endpoint whose one call cost `input_tokens` of gpt-4o."""
    price_catalogue()
    ingest(
        tenant.ingest_key,
        [
            routed_event(
                endpoint=E, version=0, arm="baseline", reason="", model=BASELINE, input_tokens=input_tokens
            )
        ],
    )
    return recommendation_refresh(
        project=tenant.project, evidence=synthetic_evidence(project_id=tenant.project.pk)
    )


@pytest.fixture
def recommended(tenant: Tenant) -> Any:
    return _recommend(tenant, input_tokens=2_000_000)  # $5 of gpt-4o input: more than it could save


def test_open_recommendations_are_the_potential_savings(tenant: Tenant, recommended: Any) -> None:
    rng = parse_range({"range": "7d"}, now=timezone.now())
    summary = savings_summary(project=tenant.project, rng=rng)
    assert summary.realised == [] and summary.potential_nano == 9_000 * 300_000
    body = text(tenant.web().get(reverse("dashboard:overview", args=[tenant.project.pk])))
    assert "No routing policy active yet: run a replay to find savings" in body
    potential = body[body.index('id="savings-potential"') :]
    assert "$2.70" in potential and "/ month" in potential
    assert reverse("policies:recommendation", args=[tenant.project.pk, recommended.pk]) in potential


def test_potential_savings_never_exceed_what_the_endpoint_cost(tenant: Tenant) -> None:
    rec = _recommend(tenant, input_tokens=1000)  # the endpoint cost $0.0045 in the last 30 days
    assert rec.monthly_savings_nano == 9_000 * 300_000  # what the evidence projects
    summary = savings_summary(project=tenant.project, rng=parse_range({"range": "7d"}, now=timezone.now()))
    spent = 1000 * 2_500 + 200 * 10_000  # nano-USD: gpt-4o at $2.50 / $10 per 1M tokens
    assert summary.potential_nano == spent and summary.potential_high_nano == spent
    body = text(tenant.web().get(reverse("dashboard:overview", args=[tenant.project.pk])))
    potential = body[body.index('id="savings-potential"') :]
    assert '<div class="value big">$0.0045<' in potential and "capped at its spend" in potential


def test_an_endpoint_with_a_recommendation_shows_its_frontier(tenant: Tenant, recommended: Any) -> None:
    rng = parse_range({"range": "7d"}, now=timezone.now())
    routing = endpoint_routing(project=tenant.project, rng=rng, endpoint=E)
    assert routing["policies"] is None and routing["replay"] is None  # evidence without a replay job
    figure = go.Figure(routing["pareto"].figure)
    assert {t.name for t in figure.data} >= {"options", "frontier", "recommended", "baseline"}
    (recommended_x,) = next(t for t in figure.data if t.name == "recommended").x
    assert recommended_x == pytest.approx(1_000 / 1e9)  # the cheap model: 1 000 nano-USD a call
    body = text(tenant.web().get(reverse("dashboard:endpoint", args=[tenant.project.pk, E])))
    assert 'id="fig-pareto"' in body and f"options of recommendation #{recommended.pk}" in body
    assert 'id="replay-results"' in body and "No replay yet for support-reply" in body


def test_realised_savings_after_approval(tenant: Tenant, recommended: Any) -> None:
    version = recommendation_approve(recommendation=recommended, actor=tenant.user).version
    events = [
        routed_event(endpoint=E, version=version, arm="candidate", reason="cascade", model=MINI)
        for _ in range(20)
    ]
    events += [
        routed_event(endpoint=E, version=version, arm="baseline", reason="rollout", model=BASELINE)
        for _ in range(5)
    ]
    ingest(tenant.ingest_key, events)
    now = timezone.now()
    rng = parse_range({"range": "24h"}, now=now)
    summary = savings_summary(project=tenant.project, rng=rng)
    expected = realised_savings(
        project_id=tenant.project.pk, organization_id=tenant.organization.pk, since=rng.start, until=rng.end
    )
    assert summary.saved_nano == sum(r.saved_nano for r in expected) > 0 and summary.routed_calls == 20
    assert summary.potential == []  # approved: no longer open
    overview = text(tenant.web().get(reverse("dashboard:overview", args=[tenant.project.pk]) + "?range=24h"))
    assert 'id="savings-realised"' in overview and "No routing policy active yet" not in overview
    page = text(tenant.web().get(reverse("dashboard:endpoint", args=[tenant.project.pk, E]) + "?range=24h"))
    assert "v1" in page and "current" in page and tenant.user.email in page and "handled 20 calls" in page
