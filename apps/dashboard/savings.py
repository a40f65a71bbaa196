"""What routing saved in a range and what open recommendations could save, for the overview, and
an endpoint's newest replay, cost–quality frontier and policy history, for its page. All of it
comes from apps.policies' and apps.replay's selectors; nothing here estimates anything itself.

Potential savings are real money only: a recommendation made from simulated evidence (candidates
or judge on the `sim` provider) is listed apart, labelled, and never summed with them; and no
endpoint's potential is counted above what it cost over the last 30 days (the volume its
recommendation's monthly figures are for), so the total can never exceed the endpoints' spend.
Open opportunities beyond routing (apps.opportunities) are added on what routing's potential leaves
of each endpoint's spend, so no dollar is counted twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from apps.accounts.models import Project
from apps.core.charts import Chart
from apps.dashboard.filters import TimeRange
from apps.dashboard.selectors import endpoint_spend
from apps.opportunities.combine import Total as OpportunityTotal
from apps.opportunities.selectors import has_run, opportunity_totals
from apps.policies.charts import pareto
from apps.policies.domain.savings import RealisedSavings, realised_savings, realised_savings_for_endpoint
from apps.policies.selectors import (
    Frontier,
    OpenRecommendationSavings,
    frontier,
    open_recommendation_savings,
    policy_history,
)
from apps.replay.selectors import latest_replay

SPEND_WINDOW = timedelta(days=30)  # the volume a recommendation's monthly savings are projected at


@dataclass(frozen=True)
class PotentialSavings:
    """An open recommendation's monthly savings, capped at what its endpoint cost over 30 days."""

    recommendation_id: int
    endpoint: str
    strategy: str
    target: str
    retention: float
    url: str
    simulated_parts: tuple[str, ...]  # empty: real evidence
    estimated_nano: int  # the recommendation's own figure, before the cap
    endpoint_spend_nano: int
    monthly_savings_nano: int
    monthly_savings_low_nano: int
    monthly_savings_high_nano: int

    @property
    def capped(self) -> bool:
        return self.estimated_nano > self.endpoint_spend_nano

    @property
    def simulated(self) -> bool:
        return bool(self.simulated_parts)


def _potential(rec: OpenRecommendationSavings, spend_nano: int) -> PotentialSavings:
    def cap(nano: int) -> int:
        return max(0, min(nano, spend_nano))

    return PotentialSavings(
        recommendation_id=rec.recommendation_id,
        endpoint=rec.endpoint,
        strategy=rec.strategy,
        target=rec.target,
        retention=rec.retention,
        url=rec.url,
        simulated_parts=rec.simulated_parts or (("candidates",) if rec.simulated else ()),
        estimated_nano=rec.monthly_savings_nano,
        endpoint_spend_nano=spend_nano,
        monthly_savings_nano=cap(rec.monthly_savings_nano),
        monthly_savings_low_nano=cap(rec.monthly_savings_low_nano),
        monthly_savings_high_nano=cap(rec.monthly_savings_high_nano),
    )


@dataclass(frozen=True)
class SavingsSummary:
    realised: list[RealisedSavings]  # endpoints with a routing policy, in the range
    potential: list[PotentialSavings]  # open recommendations from real evidence, largest first
    simulated_potential: list[PotentialSavings]  # from simulated evidence: shown apart, never summed
    # Open opportunities beyond routing, counted on what `potential` leaves (apps.opportunities.combine).
    opportunities: OpportunityTotal | None = None
    opportunities_ran: bool = False

    @property
    def together_nano(self) -> int:
        return self.potential_nano + (self.opportunities.net_nano if self.opportunities else 0)

    @property
    def together_low_nano(self) -> int:
        return self.potential_low_nano + (self.opportunities.net_low_nano if self.opportunities else 0)

    @property
    def together_high_nano(self) -> int:
        return self.potential_high_nano + (self.opportunities.net_high_nano if self.opportunities else 0)

    @property
    def saved_nano(self) -> int:
        return sum(r.saved_nano for r in self.realised)

    @property
    def baseline_nano(self) -> int:
        return sum(r.baseline_cost_nano for r in self.realised)

    @property
    def saved_share(self) -> float | None:
        return self.saved_nano / self.baseline_nano if self.baseline_nano else None

    @property
    def routed_calls(self) -> int:
        return sum(r.calls_in_policy for r in self.realised)

    @property
    def potential_nano(self) -> int:
        return sum(p.monthly_savings_nano for p in self.potential)

    @property
    def potential_low_nano(self) -> int:
        return sum(p.monthly_savings_low_nano for p in self.potential)

    @property
    def potential_high_nano(self) -> int:
        return sum(p.monthly_savings_high_nano for p in self.potential)

    @property
    def simulated_potential_nano(self) -> int:
        return sum(p.monthly_savings_nano for p in self.simulated_potential)


def savings_summary(*, project: Project, rng: TimeRange) -> SavingsSummary:
    realised = realised_savings(
        project_id=project.pk, organization_id=project.organization_id, since=rng.start, until=rng.end
    )
    spend = endpoint_spend(project_id=project.pk, since=rng.now - SPEND_WINDOW)
    rows = [
        _potential(r, spend.get(r.endpoint, 0)) for r in open_recommendation_savings(project_id=project.pk)
    ]
    rows.sort(key=lambda p: -p.monthly_savings_nano)
    potential = [p for p in rows if not p.simulated]
    routing: dict[str, int] = {}
    for p in potential:
        routing[p.endpoint] = routing.get(p.endpoint, 0) + p.monthly_savings_nano
    return SavingsSummary(
        realised=[r for r in realised if r.calls_in_policy or r.saved_nano],
        potential=potential,
        simulated_potential=[p for p in rows if p.simulated],
        opportunities=opportunity_totals(project_id=project.pk, routing=routing),
        opportunities_ran=has_run(project_id=project.pk),
    )


def endpoint_routing(*, project: Project, rng: TimeRange, endpoint: str) -> dict[str, Any]:
    """The endpoint page's replay card, Pareto chart and policy history (None: an empty state).

    `replay` is what templates/replay/_endpoint_card.html (apps.replay's card) renders.
    """
    found: Frontier | None = frontier(project_id=project.pk, endpoint=endpoint)
    history = policy_history(project_id=project.pk, endpoint=endpoint)
    realised = (
        realised_savings_for_endpoint(
            project_id=project.pk,
            organization_id=project.organization_id,
            endpoint=endpoint,
            since=rng.start,
            until=rng.end,
        )
        if history
        else None
    )
    return {
        "replay": latest_replay(project_id=project.pk, endpoint=endpoint),
        "pareto": Chart(
            "pareto",
            "Cost and quality",
            pareto(found.points, quality_bar=found.quality_bar),
            note=(
                f"options of recommendation #{found.recommendation_id} (replay #{found.evidence_job_id}); "
                "the line joins the frontier"
                + (
                    f"; simulated {' and '.join(found.simulated_parts or ('evidence',))}: not real advice"
                    if found.simulated
                    else ""
                )
            ),
            height=320,
        )
        if found
        else None,
        "policies": history or None,
        "realised": realised,
    }
