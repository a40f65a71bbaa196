"""Reads for the Opportunities page, the endpoint card, the overview's savings card and the API.

Everything here reads PostgreSQL only (the detectors' stored findings and runs, and routing's open
recommendations), so the pages stay fast whatever the volume of calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import QuerySet

from apps.accounts.models import Project
from apps.core.errors import NotFound
from apps.opportunities.combine import EndpointTotal, Figure, Total, combine
from apps.opportunities.models import DetectionRun, EndpointTraits, Kind, Opportunity, Status
from apps.policies.selectors import open_recommendation_savings

STATUSES = ("open", "done", "dismissed", "gone", "all")


def opportunities_list(
    *, project_id: int, status: str = "open", endpoint: str = "", kind: str = ""
) -> QuerySet[Opportunity]:
    """Findings ranked by dollars a month (`status` all: every one)."""
    qs = Opportunity.objects.filter(project_id=project_id)
    if status != "all":
        qs = qs.filter(status=status)
    if endpoint:
        qs = qs.filter(endpoint=endpoint)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-monthly_nano", "endpoint", "kind")


def opportunity_get(*, project: Project, opportunity_id: int) -> Opportunity:
    found = (
        Opportunity.objects.filter(project=project, pk=opportunity_id).select_related("decided_by").first()
    )
    if found is None:
        raise NotFound("No such opportunity in this project")
    return found


def last_run(*, project_id: int) -> DetectionRun | None:
    return DetectionRun.objects.filter(project_id=project_id).order_by("-created_at").first()


def routing_potential(*, project_id: int) -> dict[str, int]:
    """Routing's monthly potential per endpoint from open recommendations on real evidence: the
    dollars routing counts, which opportunities must not count again."""
    out: dict[str, int] = {}
    for rec in open_recommendation_savings(project_id=project_id):
        if not rec.simulated and not rec.simulated_parts:
            out[rec.endpoint] = out.get(rec.endpoint, 0) + max(0, rec.monthly_savings_nano)
    return out


def _figure(o: Opportunity) -> Figure:
    return Figure(
        endpoint=o.endpoint,
        kind=o.kind,
        acts_on=o.acts_on,
        monthly_nano=o.monthly_nano,
        monthly_low_nano=o.monthly_low_nano,
        monthly_high_nano=o.monthly_high_nano,
        endpoint_monthly_nano=o.endpoint_monthly_nano,
        input_monthly_nano=o.input_monthly_nano,
    )


def opportunity_totals(*, project_id: int, routing: Mapping[str, int] | None = None) -> Total:
    """Open findings added up per endpoint without counting a dollar twice (apps.opportunities.combine),
    on what routing's open recommendations leave (`routing`: per endpoint; read when not given)."""
    if routing is None:
        routing = routing_potential(project_id=project_id)
    rows = Opportunity.objects.filter(project_id=project_id, status=Status.OPEN).only(
        "endpoint", "kind", "acts_on", "monthly_nano", "monthly_low_nano", "monthly_high_nano",
        "endpoint_monthly_nano", "input_monthly_nano",
    )  # fmt: skip
    return combine((_figure(o) for o in rows), routing)


@dataclass(frozen=True)
class EndpointCard:
    rows: list[Opportunity]
    total: EndpointTotal | None
    ran: bool


def endpoint_card(*, project_id: int, endpoint: str) -> EndpointCard:
    """The endpoint page's card: its open findings, their total net of overlap and routing."""
    rows = list(opportunities_list(project_id=project_id, status=Status.OPEN, endpoint=endpoint)[:10])
    total = opportunity_totals(project_id=project_id).endpoint(endpoint) if rows else None
    ran = rows or DetectionRun.objects.filter(project_id=project_id).exists()
    return EndpointCard(rows, total, bool(ran))


def has_run(*, project_id: int) -> bool:
    return DetectionRun.objects.filter(project_id=project_id).exists()


@dataclass(frozen=True)
class Realised:
    findings: int
    estimated_nano: int
    realised_nano: int


def realised_summary(*, project_id: int) -> Realised:
    done = Opportunity.objects.filter(project_id=project_id, status=Status.DONE)
    measured = [o for o in done if o.realised_nano is not None]
    return Realised(
        findings=len(measured),
        estimated_nano=sum(o.monthly_nano for o in measured),
        realised_nano=sum(o.realised_nano or 0 for o in measured),
    )


def counts_by_status(*, project_id: int) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for status in Opportunity.objects.filter(project_id=project_id).values_list("status", flat=True):
        counts[status] += 1
        counts["all"] += 1
    return counts


def endpoint_latency(*, project_id: int) -> dict[str, str]:
    return dict(EndpointTraits.objects.filter(project_id=project_id).values_list("endpoint", "latency"))


KIND_LABELS = dict(Kind.choices)
