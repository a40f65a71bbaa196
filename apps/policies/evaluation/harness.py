"""One grouped split of one endpoint: estimate on the training half, score on the held-out half.

The training half becomes replay evidence exactly as a replay job's results would (one sample per
item, each candidate's answer scored by the evaluator, costs from the prices), and the product's
own estimator (apps.routing.estimate) and recommendation rule (apps.routing.choose) run on it —
learned routers trained on every endpoint's training half together, as the product pools a
project's endpoints (apps.routing.pool) — with
the held-out half's size as the endpoint's "monthly" volume: the held-out half plays the traffic
the advice is then applied to. The recommended policy — the shipped artefact, a learned router's
members and threshold included — is applied to every held-out item and scored with the file's
ground truth: realised retention = Σ score served ÷ Σ baseline score, realised savings = the
baseline's cost − what the policy paid.

For each candidate with a learned router, the held-out half also gives the research view of the
router's ranking: the most savings reachable at ≥ the bar by routing its top-scored prompts, next
to a random router and a per-item oracle on the same prompts (apps.policies.evaluation.curves).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from apps.policies.evaluation.curves import Curves, curves
from apps.policies.evaluation.dataset import Item, Pricer
from apps.policies.evaluation.grading import Grader, Ungradable
from apps.routing import learned
from apps.routing.choose import choose, uses_encoder
from apps.routing.encoder_pool import EncoderPool, EncoderScorer, export
from apps.routing.estimate import Estimate, Option, estimate
from apps.routing.evidence import CandidateSample, EndpointEvidence, SampleEvidence
from apps.routing.options import ENCODER, HASHED
from apps.routing.pool import RouterPool

PROVIDER = "eval"
FloatArray = np.ndarray[
    Any, np.dtype[np.float64]
]  # evidence keys are "provider/model"; a labelled file names models only


@dataclass(frozen=True)
class Costed:
    item: Item
    baseline_cost: int
    candidate_cost: dict[str, int]  # candidates with a price


def cost_items(items: list[Item], price: Pricer) -> tuple[list[Costed], dict[str, str]]:
    """Items with their answers' costs; models that cannot be priced, with why."""
    unpriced: dict[str, str] = {}
    out: list[Costed] = []
    for item in items:
        b = item.baseline
        base = price(b.model, b.input_tokens, b.output_tokens)
        if base is None:
            unpriced[b.model] = "no price for the baseline model"
            continue
        costs = {}
        for model, a in item.candidates.items():
            found = price(model, a.input_tokens, a.output_tokens)
            if found is None:
                unpriced[model] = "no price"
            else:
                costs[model] = found
        out.append(Costed(item, base, costs))
    return out, unpriced


def split_groups(
    items: list[Costed], *, endpoint: str, split: int, seed: int, fold: tuple[int, int] | None = None
) -> tuple[list[Costed], list[Costed]]:
    """A random half of the endpoint's groups for training, the rest held out; with `fold` (k, n),
    the groups dealt at random into n folds and fold k held out. Groups stay whole."""
    groups = sorted({c.item.group for c in items})
    rng = np.random.default_rng([seed, split, zlib.crc32(endpoint.encode("utf-8"))])
    order = rng.permutation(len(groups))
    if fold is None:
        train = {groups[i] for i in order[: len(groups) // 2]}
    else:
        k, n = fold
        train = {groups[i] for position, i in enumerate(order) if position % n != k}
    return [c for c in items if c.item.group in train], [c for c in items if c.item.group not in train]


def build_evidence(
    train: list[Costed], *, endpoint: str, grader: Grader, monthly_calls: int, job_id: int
) -> EndpointEvidence:
    samples = []
    for c in train:
        item = c.item
        candidates = {}
        for model, answer in item.candidates.items():
            cost = c.candidate_cost.get(model)
            quality = grader.quality(item, model) if cost is not None else None
            if cost is None or quality is None:
                continue  # unpriced, or answered but not scored: left out, as a replay does
            candidates[f"{PROVIDER}/{model}"] = CandidateSample(
                quality=quality,
                cost_nano=cost,
                latency_ms=0,
                ok=True,
                failed_checks=grader.checks(item, model),
                output=answer.output or "",
            )
        samples.append(
            SampleEvidence(
                sample_id=item.id,
                prompt_text=item.prompt,
                baseline_cost_nano=c.baseline_cost,
                baseline_latency_ms=0,
                candidates=candidates,
                group=item.group,
                baseline_quality=grader.baseline_quality(item),
            )
        )
    return EndpointEvidence(
        project_id=0,
        endpoint=endpoint,
        job_id=job_id,
        finished_at=datetime(2026, 1, 1, tzinfo=UTC),
        baseline_provider=PROVIDER,
        baseline_model=train[0].item.baseline.model if train else "",
        evaluator=grader.kind,
        quality_reference=grader.reference,
        monthly_calls=monthly_calls,
        simulated=False,
        samples=samples,
        judge_simulated=grader.simulated,
    )


@dataclass
class Applied:
    retention: float | None  # Σ served / Σ baseline score (None when the baseline scores 0)
    served: float
    reference: float
    savings_nano: int
    baseline_nano: int
    candidate_share: float


def apply_policy(option: Option | None, est: Estimate, test: list[Costed], grader: Grader) -> Applied:
    """What the policy does to the held-out items, scored with the file's ground truth."""
    served = 0.0
    reference = 0.0
    cost = 0
    base_cost = 0
    kept = 0
    routes: dict[str, bool] | None = None
    if option is not None and option.strategy == "learned":
        shipped = est.router_for(option) or {}
        texts = sorted({c.item.prompt for c in test})
        if option.is_encoder:
            scorer = EncoderScorer(shipped)
            routes = dict(zip(texts, (scorer.scores(texts) >= scorer.threshold).tolist(), strict=True))
        else:
            linear = learned.Scorer(shipped)
            routes = {t: linear.routes_to_target(t) for t in texts}
    for c in test:
        item = c.item
        reference += item.baseline.score
        base_cost += c.baseline_cost
        model = option.model if option else ""
        use = option is not None and model in c.candidate_cost
        if use and routes is not None:
            use = routes[item.prompt]
        if use and option is not None and option.strategy == "cascade":
            escalate = bool(set(option.checks) & set(grader.checks(item, model)))
            if escalate:
                served += item.baseline.score
                cost += c.candidate_cost[model] + c.baseline_cost
                continue
        if use:
            served += item.candidates[model].score
            cost += c.candidate_cost[model]
            kept += 1
        else:
            served += item.baseline.score
            cost += c.baseline_cost
    return Applied(
        retention=served / reference if reference > 0 else None,
        served=served,
        reference=reference,
        savings_nano=base_cost - cost,
        baseline_nano=base_cost,
        candidate_share=kept / len(test) if test else 0.0,
    )


@dataclass
class Run:
    """One (split, endpoint): what was claimed on the training half, what the held-out half showed."""

    split: int
    endpoint: str
    train: int
    test: int
    recommended: bool
    reason: str
    option: dict[str, Any] | None = None
    samples_needed: int | None = None
    realised_retention: float | None = None
    realised_savings_nano: int = 0
    baseline_nano: int = 0
    served_quality: float = 0.0
    baseline_quality: float = 0.0
    bound_held: bool | None = None
    savings_covered: bool | None = None
    simulated: bool = False
    evaluator: str = ""
    evaluator_why: str = ""
    agreement_agree: int = 0  # verdicts on the training half that agree with the ground truth
    agreement_total: int = 0
    curves: dict[str, Curves] = field(
        default_factory=dict
    )  # candidate → the shipped kind's learned/random/oracle
    kinds: dict[str, dict[str, Curves]] = field(default_factory=dict)  # router kind → candidate → curves


@dataclass(frozen=True)
class Half:
    """One endpoint's side of a split: its training half as evidence, and the held-out half."""

    endpoint: str
    train: list[Costed]
    test: list[Costed]
    evidence: EndpointEvidence
    grader: Grader


def prepare_split(
    items: list[Costed],
    *,
    endpoint: str,
    split: int,
    seed: int,
    grader: Grader,
    fold: tuple[int, int] | None = None,
) -> Half:
    """Split an endpoint's groups in two (or hold out one fold, `split_groups`) and turn the training
    part into evidence (Ungradable when the grader cannot score it)."""
    train, test = split_groups(items, endpoint=endpoint, split=split, seed=seed, fold=fold)
    if not train or not test:
        raise Ungradable(f"{len({c.item.group for c in items})} group(s): too few to split in two")
    grader.prepare(endpoint, [c.item for c in train])
    evidence = build_evidence(train, endpoint=endpoint, grader=grader, monthly_calls=len(test), job_id=split)
    return Half(endpoint, train, test, evidence, grader)


def run_split(
    half: Half,
    *,
    split: int,
    seed: int,
    bar: float,
    pool: RouterPool,
    encoder_pool: EncoderPool | None = None,
) -> Run:
    """Estimate and choose on the training half (learned routers trained on `pool`, every
    endpoint's training half; encoder routers on `encoder_pool`, whose SDKs are taken to run them),
    apply what ships to the held-out half."""
    endpoint, train, test, grader = half.endpoint, half.train, half.test, half.grader
    est = estimate(half.evidence, seed=seed * 1000 + split, pool=pool, encoder_pool=encoder_pool)
    decision = choose(est, bar=bar, encoder_ok=encoder_pool is not None)
    o = decision.chosen
    applied = apply_policy(o, est, test, grader)
    run = Run(
        split=split,
        endpoint=endpoint,
        train=len(train),
        test=len(test),
        recommended=o is not None,
        reason=decision.reason,
        samples_needed=decision.samples_needed,
        simulated=bool(est.simulated),
        evaluator=grader.kind,
        evaluator_why=grader.why if grader.kind != "labels" else "",
    )
    agreement = grader.agreement([c.item for c in train])
    run.agreement_agree, run.agreement_total = agreement.agree, agreement.total
    if o is not None:
        run.option = {
            "key": o.key,
            "retention": o.retention,
            "retention_low": o.retention_low,
            "retention_high": o.retention_high,
            "savings_low_nano": o.monthly_savings_low_nano,
            "savings_nano": o.monthly_savings_nano,
            "savings_high_nano": o.monthly_savings_high_nano,
            "candidate_share": o.candidate_share,
        }
        run.realised_retention = applied.retention
        run.realised_savings_nano = applied.savings_nano
        run.baseline_nano = applied.baseline_nano
        run.served_quality, run.baseline_quality = applied.served, applied.reference
        if applied.retention is not None:
            run.bound_held = o.retention_low <= applied.retention + 1e-12
        run.savings_covered = (
            o.monthly_savings_low_nano <= applied.savings_nano <= o.monthly_savings_high_nano
        )
    else:
        run.baseline_nano = applied.baseline_nano
    for model in sorted({m for c in test for m in c.candidate_cost}):
        rows = [c for c in test if model in c.candidate_cost]
        key = f"{PROVIDER}/{model}"
        shipped = ENCODER if uses_encoder(est, key, encoder_ok=encoder_pool is not None) else HASHED
        for kind, scores in _held_out_scores(est, key, [c.item.prompt for c in rows]).items():
            found = curves(
                scores=scores,
                quality=np.asarray([c.item.candidates[model].score for c in rows]),
                baseline=np.asarray([c.item.baseline.score for c in rows]),
                savings=np.asarray(
                    [c.baseline_cost - c.candidate_cost[model] for c in rows], dtype=np.float64
                ),
                baseline_cost=float(sum(c.baseline_cost for c in rows)),
                bar=bar,
            )
            if found is None:
                continue
            run.kinds.setdefault(kind, {})[model] = found
            if kind == shipped:
                run.curves[model] = found
    return run


def _held_out_scores(est: Estimate, key: str, prompts: list[str]) -> dict[str, FloatArray | None]:
    """The held-out prompts scored by each kind of router the estimate trained for `key` (None: no
    linear router, so its ranking is random); thresholds aside, the members that would ship."""
    members = est.routers.get(key)
    linear = learned.Scorer(learned.export_members(members, threshold=0.0)) if members else None
    out: dict[str, FloatArray | None] = {
        HASHED: np.asarray([linear.score(p) for p in prompts]) if linear else None
    }
    encoders = est.encoder_routers.get(key)
    if encoders and est.encoder is not None:
        fallback = learned.export_members(members, threshold=0.0) if members else None  # a blend needs it
        shipped = export(encoders, threshold=0.0, encoder_spec=est.encoder, fallback=fallback)
        out[ENCODER] = EncoderScorer(shipped).scores(prompts)
    return out
