"""Planning a replay: everything checked, sampled and priced before a job exists.

`replay_plan` turns what a person asked for (`ReplaySpec`) into a `Plan`: the baseline and its
replayable population, the sample, the evaluator (inferred from the traffic unless chosen), each
candidate's route and its expected and worst-case cost. It refuses, with a message saying what
to change, a candidate the organisation has no key for, a model with no price, a sample size of
zero, a spend cap below the worst case of one request, and an endpoint with nothing to replay.
The same plan is the cost preview shown before a job starts.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Sum

from apps.accounts.models import Project
from apps.billing.selectors import replay_budget_remaining
from apps.core.errors import ApplicationError
from apps.pricing.book import PriceBook
from apps.pricing.selectors import price_book_load
from apps.replay import sampling, stats
from apps.replay.engine.costs import (
    current_cost,
    expected_cost,
    expected_judge_cost,
    is_priced,
    worst_case,
)
from apps.replay.engine.requests import replay_request
from apps.replay.engine.routes import Route, reasoning_outside_max, route_for
from apps.replay.evaluators.registry import KINDS, build_evaluator, infer_evaluator, quality_reference
from apps.replay.models import ACTIVE_STATUSES, PERSON_CHOICE, ReplayJob
from apps.replay.selectors import connection_providers

MAX_SAMPLES = 5000
MAX_CANDIDATES = 8
NANO = 1_000_000_000
DEFAULT_CAP_NANO = 10 * NANO


@dataclass(frozen=True)
class CandidateSpec:
    provider: str
    model: str
    simulated: bool = False

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.model}"

    def as_json(self) -> dict[str, Any]:
        return {"provider": self.provider, "model": self.model, "simulated": self.simulated}


@dataclass(frozen=True)
class ReplaySpec:
    endpoint: str
    candidates: tuple[CandidateSpec, ...]
    evaluator: str = "auto"
    evaluator_config: dict[str, Any] = field(default_factory=dict)
    judge: CandidateSpec | None = None
    confidence: float = 0.95
    margin: float = 0.05
    sample_size: int | None = None  # None: from confidence and margin
    spend_cap_nano: int = DEFAULT_CAP_NANO
    seed: int | None = None


@dataclass
class PlannedItem:
    seq: int
    event_id: Any
    candidate: str
    stratum: int
    worst: int


@dataclass
class CandidatePlan:
    spec: CandidateSpec
    route: Route
    expected_nano: int
    worst_nano: int
    max_worst_nano: int


@dataclass
class Plan:
    spec: ReplaySpec
    population: sampling.Population
    requested: int
    samples: dict[Any, sampling.Sample]
    order: list[Any]  # event ids in replay order
    excluded: dict[str, int]
    evaluator: str
    evaluator_config: dict[str, Any]
    evaluator_reason: str
    quality_reference: float
    judge: CandidateSpec | None
    candidates: list[CandidatePlan]
    items: list[PlannedItem]
    expected_candidates_nano: int
    expected_judge_nano: int
    worst_total_nano: int
    max_single_worst_nano: int
    monthly_calls: int
    seed: int
    baseline_costs: dict[Any, int]
    exclusion_examples: dict[str, str] = field(default_factory=dict)  # reason → an event id

    @property
    def expected_nano(self) -> int:
        return self.expected_candidates_nano + self.expected_judge_nano

    @property
    def judge_simulated_why(self) -> str:
        """Why the judge will run on `sim` ("" when it is real or there is none)."""
        if self.judge is None or not self.judge.simulated:
            return ""
        if self.spec.judge is None:
            return f"no key for {self.judge.provider}"
        return "you chose the simulated provider"

    @property
    def simulated(self) -> bool:
        return all(c.spec.simulated for c in self.candidates)

    @property
    def expected_coverage(self) -> float:
        """The share of items the cap is expected to pay for (1.0 when it covers them all)."""
        if self.expected_nano <= self.spec.spend_cap_nano or self.expected_nano == 0:
            return 1.0
        return self.spec.spend_cap_nano / self.expected_nano


def _check_shape(spec: ReplaySpec) -> None:
    if not spec.endpoint.strip():
        raise ApplicationError("endpoint: choose an endpoint", field="endpoint")
    if not spec.candidates:
        raise ApplicationError("candidates: choose at least one candidate model", field="candidates")
    if len(spec.candidates) > MAX_CANDIDATES:
        raise ApplicationError(f"candidates: at most {MAX_CANDIDATES} per job", field="candidates")
    if len({c.key for c in spec.candidates}) != len(spec.candidates):
        raise ApplicationError("candidates: each model once", field="candidates")
    if not 0.5 <= spec.confidence < 1:
        raise ApplicationError("confidence: between 50 % and 99.9 %", field="confidence")
    if not 0 < spec.margin <= 0.5:
        raise ApplicationError("margin: between 0.1 % and 50 %", field="margin")
    if spec.sample_size is not None and spec.sample_size < 1:
        raise ApplicationError(
            "sample_size: must be at least 1 (or leave it empty to size it from the confidence)",
            field="sample_size",
        )
    if spec.sample_size is not None and spec.sample_size > MAX_SAMPLES:
        raise ApplicationError(f"sample_size: at most {MAX_SAMPLES:,} calls per job", field="sample_size")
    if spec.spend_cap_nano < 0:
        raise ApplicationError("spend_cap: must not be negative", field="spend_cap")
    if spec.evaluator != "auto" and spec.evaluator not in KINDS:
        raise ApplicationError(f"evaluator: one of auto, {', '.join(KINDS)}", field="evaluator")


def _route(book: PriceBook, organization_id: int, candidate: CandidateSpec, *, what: str) -> Route:
    if not is_priced(book, candidate.provider, candidate.model):
        raise ApplicationError(
            f"{what} {candidate.key} is not a priced model in the catalogue: pick a listed model, or add it "
            "under Pricing → Your prices",
            code="unknown_model",
            field="candidates" if what == "Candidate" else "judge",
        )
    return route_for(
        organization_id=organization_id, provider=candidate.provider, simulated=candidate.simulated
    )


def default_judge(*, organization_id: int, provider: str, model: str) -> CandidateSpec:
    """The baseline model judges, through the organisation's key when it has one, else simulated."""
    return CandidateSpec(
        provider, model, simulated=provider not in connection_providers(organization_id=organization_id)
    )


def _check_plan_budget(organization_id: int, cap: int) -> None:
    """A job's cap must fit in what is left of the plan's monthly replay budget (apps.billing)."""
    outstanding = ReplayJob.objects.filter(
        organization_id=organization_id, status__in=ACTIVE_STATUSES
    ).aggregate(left=Sum(F("spend_cap_nano") - F("spent_nano")))["left"]
    left = replay_budget_remaining(organization_id=organization_id) - int(outstanding or 0)
    if cap > left:
        raise ApplicationError(
            f"The spend cap (${cap / NANO:,.2f}) is above what is left of this month's replay budget "
            f"(${max(left, 0) / NANO:,.2f}, after replays still running): lower the cap, or raise the budget "
            "under Billing",
            code="replay_budget",
            field="spend_cap",
        )


def _check_baseline_priced(book: PriceBook, pop: sampling.Population) -> None:
    if not is_priced(book, pop.baseline_provider, pop.baseline_model):
        raise ApplicationError(
            f"The endpoint's model {pop.baseline_provider}/{pop.baseline_model} has no price, so savings cannot be "
            "estimated: add its price under Pricing → Your prices",
            code="baseline_unpriced",
            field="endpoint",
        )


def _nothing_to_replay(
    spec: ReplaySpec,
    pop: sampling.Population,
    unusable: dict[Any, str],
    excluded: dict[str, int],
    examples: dict[str, str],
) -> ApplicationError:
    """The refusal when none of the sampled calls can be replayed, with what was excluded and why."""
    return ApplicationError(
        f"None of the sampled calls of {spec.endpoint!r} can be replayed ({next(iter(unusable.values()))})",
        code="nothing_to_replay",
        field="endpoint",
        detail=sampling.refusal_detail(
            endpoint=spec.endpoint,
            baseline=f"{pop.baseline_provider}/{pop.baseline_model}",
            excluded=excluded,
            since=pop.since,
            until=pop.until,
            examples=examples,
        ),
    )


def _choose_evaluator(
    spec: ReplaySpec,
    samples: dict[Any, sampling.Sample],
    order: list[Any],
    *,
    book: PriceBook,
    organization_id: int,
    pop: sampling.Population,
) -> tuple[str, str, dict[str, Any], CandidateSpec | None]:
    """The evaluator (inferred from the sampled traffic for "auto"), why, its config and the judge."""
    kind, reason = spec.evaluator, PERSON_CHOICE
    if kind == "auto":
        kind, reason = infer_evaluator([(samples[e].request, samples[e].baseline) for e in order])
    config = dict(spec.evaluator_config)
    judge = None
    if kind == "judge":
        judge = spec.judge or default_judge(
            organization_id=organization_id, provider=pop.baseline_provider, model=pop.baseline_model
        )
        _route(book, organization_id, judge, what="Judge")
        # "default": the baseline judges because nobody chose a judge (a scheduled replay asks again,
        # so a key added since makes it real).
        config["judge"] = {**judge.as_json(), "default": spec.judge is None}
    build_evaluator(kind, config)  # refuses one that cannot run here (e.g. embeddings without the extra)
    return kind, reason, config, judge


def _worst_case(book: PriceBook, plan: CandidatePlan, request: Any) -> int:
    c = plan.spec
    if c.simulated:
        return 0
    return (
        worst_case(book, c.provider, c.model, request, reasoning_outside=reasoning_outside_max(plan.route))
        or 0
    )


def _price_items(
    book: PriceBook,
    pop: sampling.Population,
    samples: dict[Any, sampling.Sample],
    order: list[Any],
    plans: list[CandidatePlan],
    judge: CandidateSpec | None,
) -> tuple[list[PlannedItem], int, dict[Any, int]]:
    """Each sampled call's replay request (set on the sample), its baseline cost, and one item per
    candidate with its worst case; the candidates' expected and worst costs add up in `plans`.
    Returns the items, the judge's expected cost and the baseline costs by event id."""
    items: list[PlannedItem] = []
    expected_judge = 0
    baseline_costs: dict[Any, int] = {}
    for index, event_id in enumerate(order):
        sample = samples[event_id]
        request = replay_request(book, pop.baseline_provider, sample)
        sample.request = request
        baseline_costs[event_id] = (
            current_cost(book, pop.baseline_provider, pop.baseline_model, sample.usage)
            or sample.baseline_cost_nano
            or 0
        )
        for j, plan in enumerate(plans):
            c = plan.spec
            worst = _worst_case(book, plan, request)
            plan.worst_nano += worst
            plan.max_worst_nano = max(plan.max_worst_nano, worst)
            plan.expected_nano += (
                0 if c.simulated else (expected_cost(book, c.provider, c.model, sample.usage) or 0)
            )
            if judge is not None and not judge.simulated:
                expected_judge += expected_judge_cost(book, judge.provider, judge.model, sample.usage) or 0
            items.append(PlannedItem(index * len(plans) + j, event_id, c.key, sample.stratum, worst))
    return items, expected_judge, baseline_costs


def _check_cap(
    spec: ReplaySpec, plans: list[CandidatePlan], judge: CandidateSpec | None, organization_id: int
) -> int:
    """Refuse a cap the monthly budget cannot cover (unless everything is simulated) or below the
    worst case of one request; returns that largest single worst case."""
    max_single = max(p.max_worst_nano for p in plans)
    if not all(c.simulated for c in spec.candidates) or (judge is not None and not judge.simulated):
        _check_plan_budget(organization_id, spec.spend_cap_nano)
    if max_single > spec.spend_cap_nano:
        worst_plan = max(plans, key=lambda p: p.max_worst_nano)
        raise ApplicationError(
            f"The spend cap (${spec.spend_cap_nano / NANO:,.4f}) is below the worst-case cost of one request "
            f"(${max_single / NANO:,.4f} for {worst_plan.spec.key} on the largest sampled call): raise the cap to at "
            f"least ${max_single / NANO:,.4f}",
            code="cap_too_low",
            field="spend_cap",
        )
    return max_single


def replay_plan(*, project: Project, spec: ReplaySpec) -> Plan:
    _check_shape(spec)
    organization_id = project.organization_id
    book = price_book_load(organization_id=organization_id)
    routes = [_route(book, organization_id, c, what="Candidate") for c in spec.candidates]
    feedback = spec.evaluator == "feedback"
    pop = sampling.population(project_id=project.pk, endpoint=spec.endpoint, need_feedback=feedback)
    _check_baseline_priced(book, pop)
    seed = spec.seed if spec.seed is not None else zlib.crc32(spec.endpoint.encode("utf-8"))
    reference = quality_reference(spec.evaluator) if spec.evaluator != "auto" else 0.5  # "auto": widest case
    # Retention = quality / reference, and a [0, 1] quality has variance at most 1/4.
    requested = spec.sample_size or stats.sample_size(
        confidence=spec.confidence, margin=spec.margin, population=pop.eligible, variance=0.25 / reference**2
    )
    drawn = sampling.draw(pop=pop, project_id=project.pk, endpoint=spec.endpoint, n=requested, seed=seed)
    samples, unusable = sampling.load(
        project_id=project.pk, endpoint=spec.endpoint, since=pop.since, until=pop.until, drawn=drawn
    )
    excluded = dict(pop.excluded)
    if unusable:
        excluded["unsupported"] = len(unusable)
    order = [d.event_id for d in drawn if d.event_id in samples]
    examples = {"unsupported": str(next(iter(unusable)))} if unusable else {}
    if not order:
        raise _nothing_to_replay(spec, pop, unusable, excluded, examples)
    kind, reason, config, judge = _choose_evaluator(
        spec, samples, order, book=book, organization_id=organization_id, pop=pop
    )
    plans = [CandidatePlan(c, r, 0, 0, 0) for c, r in zip(spec.candidates, routes, strict=True)]
    items, expected_judge, baseline_costs = _price_items(book, pop, samples, order, plans, judge)
    max_single = _check_cap(spec, plans, judge, organization_id)
    return Plan(
        spec=spec,
        population=pop,
        requested=requested,
        samples=samples,
        order=order,
        excluded=excluded,
        exclusion_examples=examples,
        evaluator=kind,
        evaluator_config=config,
        evaluator_reason=reason,
        quality_reference=quality_reference(kind),
        judge=judge,
        candidates=plans,
        items=items,
        expected_candidates_nano=sum(p.expected_nano for p in plans),
        expected_judge_nano=expected_judge,
        worst_total_nano=sum(p.worst_nano for p in plans),
        max_single_worst_nano=max_single,
        monthly_calls=sampling.monthly_calls(
            project_id=project.pk,
            endpoint=spec.endpoint,
            provider=pop.baseline_provider,
            model=pop.baseline_model,
        ),
        seed=seed,
        baseline_costs=baseline_costs,
    )


__all__ = ["CandidateSpec", "Plan", "ReplaySpec", "replay_plan"]
