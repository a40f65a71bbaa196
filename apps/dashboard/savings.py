"""What routing saved in a range and what open recommendations could save, for the overview, and
an endpoint's newest replay, cost–quality frontier and policy history, for its page. All of it
comes from apps.policies' and apps.replay's selectors; nothing here estimates anything itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.accounts.models import Project
from apps.dashboard import charts
from apps.dashboard.filters import TimeRange
from apps.policies.savings import RealisedSavings, realised_savings, realised_savings_for_endpoint
from apps.policies.selectors import (
    Frontier,
    OpenRecommendationSavings,
    frontier,
    open_recommendation_savings,
    policy_history,
)
from apps.replay.selectors import latest_replay


@dataclass(frozen=True)
class SavingsSummary:
    realised: list[RealisedSavings]  # endpoints with a routing policy, in the range
    potential: list[OpenRecommendationSavings]  # open recommendations, largest first

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
    def simulated(self) -> bool:
        return any(p.simulated for p in self.potential)


def savings_summary(*, project: Project, rng: TimeRange) -> SavingsSummary:
    realised = realised_savings(
        project_id=project.pk, organization_id=project.organization_id, since=rng.start, until=rng.end
    )
    return SavingsSummary(
        realised=[r for r in realised if r.calls_in_policy or r.saved_nano],
        potential=open_recommendation_savings(project_id=project.pk),
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
        "pareto": charts.Chart(
            "pareto",
            "Cost and quality",
            charts.pareto(found.points, quality_bar=found.quality_bar),
            note=(
                f"options of recommendation #{found.recommendation_id} (replay #{found.evidence_job_id}); "
                "the line joins the frontier"
            ),
            height=320,
        )
        if found
        else None,
        "policies": history or None,
        "realised": realised,
    }
