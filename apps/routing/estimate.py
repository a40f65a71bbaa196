"""What each routing option would do to an endpoint, estimated sample by sample from evidence.

For every candidate the evidence has answers from, these options are evaluated:

- `override`: every call goes to the candidate. A provider error falls back to the baseline (the
  SDK does so), costing both calls and keeping the baseline's quality.
- `cascade`: the candidate answers first; when a check the SDK runs fires on its answer (empty,
  a whole-answer refusal, invalid JSON where answers are JSON) or the provider fails, the call
  escalates to the baseline: cost = candidate + baseline, quality = the baseline's.
- `learned`: a per-prompt router, cross-fitted over folds that keep conversations whole, routing a
  fixed share of prompts (10 %, 20 %, … 90 %): the linear router over hashed n-grams
  (apps.routing.pool, `router` = `hashed_linear`) and, when the server has the `encoder` extra, the
  encoder router on sentence embeddings (apps.routing.encoder_pool, `encoder_linear`), trained on the
  same rows over the same folds. The router that ships carries the very members that scored the
  samples, and the threshold that routes that share, so what ships is what was evaluated. Each
  learned option carries its gain over random routing with its interval (apps.routing.gain), and
  the estimate compares the two kinds on the out-of-fold scores of the project's samples
  (apps.routing.kinds; the rule in apps.routing.choose uses both).

Retention = Σ quality served ÷ Σ the baseline's quality; savings = the baseline's cost − the
option's, per call, and × the endpoint's monthly calls.

**Picked on one part, measured on the other.** The groups (conversations) are split by a hash of
their key: a third *screens*, two thirds *confirm*. The screening part's figures are what the
recommendation rule uses to pick an option (apps.routing.choose); every interval shown — on the
replay page, the recommendation, the dashboard — comes from the confirming part, which had no say
in the pick (it gets the larger share because its precision is what the promise rests on). Choosing the best
of many options by the same data that bounds it is what makes "keeps ≥ 95 %" fail out of sample
(the winner is the one whose noise was kindest); here the winner's interval is measured on
samples whose noise played no part in choosing it. Intervals are 99 % cluster-bootstrap
prediction intervals for the next month's calls (apps.routing.bounds). The options do not depend
on the quality bar, which only chooses among them, so one option shows one interval everywhere.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.routing import bounds, gain, kinds, learned
from apps.routing.cascade import cascade_checks
from apps.routing.evidence import EndpointEvidence
from apps.routing.options import ENCODER, HASHED, SIMPLICITY, Estimate, KindComparison, Option, frontier
from apps.routing.pool import RouterPool

logger = logging.getLogger(__name__)
__all__ = ["SIMPLICITY", "Estimate", "Option", "estimate"]

MIN_SAMPLES = 20  # per candidate, to evaluate it at all
LEARNED_MIN_GROUPS = 50  # per candidate, to train a cross-fitted router (5 members of ≥ 40)
SHARES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
SCREEN_CONFIDENCE = 0.95  # the screening part's intervals only pick; the shown ones are bounds.CONFIDENCE
GAP_WINDOW = 0.05  # a share's threshold may move this far (in ranks) to sit in a gap between scores

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


@dataclass(frozen=True)
class _Candidate:
    provider: str
    model: str
    rows: IntArray  # which samples have this candidate
    quality: FloatArray
    cost: FloatArray
    latency: FloatArray
    provider_error: BoolArray
    failed: list[frozenset[str]]

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.model}"


@dataclass(frozen=True)
class _Served:
    """What the app would get on each of a candidate's samples under one option."""

    quality: FloatArray
    cost: FloatArray
    latency: FloatArray
    kept: BoolArray  # the candidate's answer is what the app gets


@dataclass
class _Draft:
    strategy: str
    candidate: _Candidate
    served: _Served
    checks: tuple[str, ...] = ()
    share: float | None = None
    threshold: float | None = None
    router: str = ""


def _candidates(evidence: EndpointEvidence, excluded: dict[str, str]) -> list[_Candidate]:
    keys: list[str] = []
    for sample in evidence.samples:
        keys.extend(k for k in sample.candidates if k not in keys)
    for summary in evidence.candidates:
        if summary.key not in keys:
            keys.append(summary.key)
    out = []
    for key in keys:
        provider, _, model = key.partition("/")
        rows, quality, cost, latency, errors, failed = [], [], [], [], [], []
        unpriced = False
        for i, sample in enumerate(evidence.samples):
            found = sample.candidates.get(key)
            if found is None:
                continue
            if found.ok and found.cost_nano is None:
                unpriced = True
            rows.append(i)
            quality.append(min(max(found.quality, 0.0), 1.0))
            cost.append(float(found.cost_nano or 0))
            latency.append(float(found.latency_ms))
            errors.append(not found.ok and found.cost_nano is None)
            failed.append(frozenset(found.failed_checks))
        if unpriced:
            excluded[key] = "the replay could not price its answers"
        elif len(rows) < MIN_SAMPLES:
            excluded[key] = f"only {len(rows)} replayed samples (at least {MIN_SAMPLES} needed)"
        else:
            out.append(
                _Candidate(
                    provider=provider,
                    model=model,
                    rows=np.asarray(rows, dtype=np.int64),
                    quality=np.asarray(quality),
                    cost=np.asarray(cost),
                    latency=np.asarray(latency),
                    provider_error=np.asarray(errors, dtype=np.bool_),
                    failed=failed,
                )
            )
    return out


class _Base:
    def __init__(self, evidence: EndpointEvidence):
        samples = evidence.samples
        ref = evidence.quality_reference
        self.cost = np.asarray([float(s.baseline_cost_nano) for s in samples])
        self.latency = np.asarray([float(s.baseline_latency_ms) for s in samples])
        self.quality = np.asarray(
            [ref if s.baseline_quality is None else float(s.baseline_quality) for s in samples]
        )
        self.group, self.groups = bounds.group_index([s.group_key for s in samples])
        self.keys = list(dict.fromkeys(s.group_key for s in samples))
        self.unit = float(self.quality.max()) if len(self.quality) else 1.0


def _routed(c: _Candidate, base: _Base, escalate: BoolArray) -> _Served:
    """The candidate answers; where `escalate` (or the provider failed) the baseline answers too."""
    rows = c.rows
    esc = escalate | c.provider_error
    return _Served(
        quality=np.where(esc, base.quality[rows], c.quality),
        cost=c.cost + np.where(esc, base.cost[rows], 0.0),
        latency=c.latency + np.where(esc, base.latency[rows], 0.0),
        kept=~esc,
    )


def _mix(routed: _Served, c: _Candidate, base: _Base, send: BoolArray) -> _Served:
    rows = c.rows
    return _Served(
        quality=np.where(send, routed.quality, base.quality[rows]),
        cost=np.where(send, routed.cost, base.cost[rows]),
        latency=np.where(send, routed.latency, base.latency[rows]),
        kept=send & routed.kept,
    )


def share_threshold(ranked: FloatArray, share: float) -> float | None:
    """A score threshold that routes about `share` of these (descending) scores: the midpoint of the
    widest gap between neighbouring scores within ±`GAP_WINDOW` of that rank, so the cut falls
    where the scores part (a cut inside a cluster of near-equal scores would route new prompts of
    that cluster by noise), or None when no cut routes some but not all."""
    n = len(ranked)
    k = round(share * n)
    if k <= 0 or k >= n:
        return None
    w = max(1, round(GAP_WINDOW * n))
    lo, hi = max(1, k - w), min(n - 1, k + w)
    gaps = ranked[lo - 1 : hi] - ranked[lo : hi + 1]  # gaps[j - lo] = ranked[j - 1] − ranked[j]
    if float(gaps.max()) <= 0:
        return None
    widest = np.flatnonzero(gaps == gaps.max()) + lo
    j = int(widest[np.argmin(np.abs(widest - k))])
    return float((ranked[j - 1] + ranked[j]) / 2)


def _learned(
    c: _Candidate, override: _Served, base: _Base, fit: learned.CrossFit, screen: BoolArray, router: str
) -> tuple[list[_Draft], list[dict[str, Any]]]:
    """Learned options at each share of `SHARES` from the cross-fitted scores, and the members that
    ship. Each share's threshold is read off the screening part's out-of-fold scores."""
    picked = screen[c.rows]
    ranked = np.sort(fit.scores[picked] if picked.any() else fit.scores)[::-1]
    drafts: list[_Draft] = []
    seen: set[int] = set()
    for share in SHARES:
        threshold = share_threshold(ranked, share)
        if threshold is None:
            continue
        send = fit.scores >= threshold
        routed = int(send.sum())
        if routed in seen or routed in (0, len(send)):
            continue
        seen.add(routed)
        drafts.append(
            _Draft(
                "learned",
                c,
                _mix(override, c, base, send),
                share=share,
                threshold=round(threshold, 6),
                router=router,
            )
        )
    return drafts, fit.members


@dataclass
class _Routers:
    linear: dict[str, list[dict[str, Any]]]
    encoder: dict[str, list[dict[str, Any]]]
    note: str = ""  # why the encoder routers are missing, when they are


def _drafts(
    evidence: EndpointEvidence,
    base: _Base,
    candidates: list[_Candidate],
    screen: BoolArray,
    pools: dict[str, RouterPool],
) -> tuple[list[_Draft], _Routers]:
    checks = cascade_checks(evidence)
    drafts: list[_Draft] = []
    routers = _Routers({}, {})
    for c in candidates:
        none = np.zeros(len(c.rows), dtype=np.bool_)
        override = _routed(c, base, none)
        drafts.append(_Draft("override", c, override))
        fires = np.asarray([bool(f & set(checks)) for f in c.failed], dtype=np.bool_)
        if fires.any() and not fires.all():
            drafts.append(_Draft("cascade", c, _routed(c, base, fires), checks=checks))
        group_keys = [evidence.samples[i].group_key for i in c.rows]
        if len(set(group_keys)) < LEARNED_MIN_GROUPS:
            continue
        ids = [evidence.samples[i].sample_id for i in c.rows]
        for kind, pool in pools.items():
            try:
                fit = pool.cross_fit(c.key, evidence.endpoint, ids)
            except Exception as exc:  # an encoder that cannot run leaves the linear options standing
                if kind == HASHED:
                    raise
                logger.exception("estimate: the encoder router could not be trained")
                routers.note = f"the encoder router could not be trained: {exc}"
                continue
            found, members = _learned(c, override, base, fit, screen, kind)
            drafts.extend(found)
            if found or kind == HASHED:  # the linear members score a blended encoder router too
                (routers.linear if kind == HASHED else routers.encoder)[c.key] = members
    return drafts, routers


def _columns(drafts: list[_Draft], base: _Base) -> dict[str, np.ndarray[Any, Any]]:
    """Per-group sums (groups × options) of quality served, baseline quality, savings and calls."""
    g, n_groups = base.group, base.groups
    shape = (n_groups, len(drafts))
    names = ("quality", "reference", "savings", "calls", "kept", "loss", "gain")
    cols = {name: np.zeros(shape) for name in names}
    for j, d in enumerate(drafts):
        rows = d.candidate.rows
        idx = g[rows]
        change = d.served.quality - base.quality[rows]
        cols["quality"][:, j] = bounds.sums_by_group(d.served.quality, idx, n_groups)
        cols["reference"][:, j] = bounds.sums_by_group(base.quality[rows], idx, n_groups)
        cols["kept"][:, j] = bounds.sums_by_group(d.served.kept.astype(np.float64), idx, n_groups)
        cols["loss"][:, j] = bounds.sums_by_group(np.maximum(-change, 0.0), idx, n_groups)
        cols["gain"][:, j] = bounds.sums_by_group(np.maximum(change, 0.0), idx, n_groups)
        cols["savings"][:, j] = bounds.sums_by_group(base.cost[rows] - d.served.cost, idx, n_groups)
        cols["calls"][:, j] = np.bincount(idx, minlength=n_groups)
    return cols


def _percentile_change(served: FloatArray, baseline: FloatArray, q: float) -> float:
    return float(np.percentile(served, q) - np.percentile(baseline, q))


@dataclass(frozen=True)
class _Stats:
    """Per-option retention and per-call savings with their interval half-widths, on some groups."""

    retention: FloatArray
    retention_low: FloatArray  # the lower of the bootstrap's and the rare-loss bound
    retention_half: FloatArray
    retention_sd: FloatArray  # per-sample spread (se × √samples)
    savings: FloatArray
    savings_half: FloatArray
    samples: FloatArray
    groups: FloatArray
    critical: dict[str, float]
    part: dict[str, FloatArray]  # the per-group sums of these groups
    counts: FloatArray  # the bootstrap's resamples of them
    factor: FloatArray  # per option: small-sample × prediction factor
    confidence: float


def _stats(
    cols: dict[str, FloatArray], keep: BoolArray, *, unit: float, month: int, seed: int, confidence: float
) -> _Stats:
    """Each option's interval at `confidence` over the groups in `keep`: a cluster bootstrap, widened
    for small samples and to predict what `month` calls will realise (apps.routing.bounds)."""
    part = {name: values[keep] for name, values in cols.items()}
    counts = bounds.resample_counts(int(keep.sum()), seed=seed)
    samples = part["calls"].sum(axis=0)
    groups = (part["calls"] > 0).sum(axis=0)
    # One sample losing all of its quality moves retention by unit ÷ Σ reference: the least
    # uncertainty a retention can have, however alike the resamples are.
    floor = unit / np.maximum(part["reference"].sum(axis=0), 1e-12)
    retention = bounds.ratio_band(part["quality"], part["reference"], counts, se_floor=floor)
    savings = bounds.ratio_band(part["savings"], part["calls"], counts)
    factor = np.asarray(
        [
            bounds.small_sample_factor(int(g), confidence) * bounds.prediction_factor(int(n), month)
            for g, n in zip(groups, samples, strict=True)
        ]
    )
    half = retention.half_width(factor, confidence)
    sums = {name: part[name].sum(axis=0) for name in ("loss", "gain", "kept", "reference")}
    rare = bounds.rare_loss_low(**sums, unit=unit, factor=factor, confidence=confidence)
    return _Stats(
        retention=retention.estimate,
        retention_low=np.asarray(np.minimum(retention.estimate - half, rare), dtype=np.float64),
        retention_half=half,
        retention_sd=retention.se * np.sqrt(np.maximum(samples, 1)),
        savings=savings.estimate,
        savings_half=savings.half_width(factor, confidence),
        samples=samples,
        groups=groups,
        critical={"retention": bounds.z_of(confidence), "savings": bounds.z_of(confidence)},
        part=part,
        counts=counts,
        factor=factor,
        confidence=confidence,
    )


def _gains(drafts: list[_Draft], stats: _Stats) -> gain.OptionGains:
    overrides = {d.candidate.key: j for j, d in enumerate(drafts) if d.strategy == "override"}
    cols = [j for j, d in enumerate(drafts) if d.strategy == "learned"]
    return gain.option_gains(
        stats.part, stats.counts, stats.factor, stats.confidence, cols,
        [overrides[drafts[j].candidate.key] for j in cols],
    )  # fmt: skip


def _kinds(drafts: list[_Draft], pools: dict[str, RouterPool], seed: int) -> dict[str, KindComparison]:
    """Per candidate with encoder options, the encoder router against the linear one over the
    project's samples (apps.routing.kinds: one answer for the project)."""
    if ENCODER not in pools:
        return {}
    found = kinds.compare(pools[HASHED], pools[ENCODER], seed=seed)
    if found is None:
        return {}
    return {key: found for key in sorted({d.candidate.key for d in drafts if d.router == ENCODER})}


def _option(
    d: _Draft,
    j: int,
    pick: _Stats,
    shown: _Stats,
    gains: tuple[gain.OptionGains, gain.OptionGains],
    base: _Base,
    month: int,
) -> Option:
    """Option j as shown: every figure from the confirming part (`shown`), the screening part's
    (`pick`) kept only for choosing and for the savings interval."""
    pick_gains, shown_gains = gains
    rows = d.candidate.rows
    r, s = float(shown.retention[j]), float(shown.savings[j])
    r_half, s_half = float(shown.retention_half[j]), float(shown.savings_half[j])
    # Savings span both parts' intervals: picking favours options whose screening savings ran
    # high, confirming favours a confirming part that routed (and so saved) less than usual.
    s_low = min(s - s_half, float(pick.savings[j] - pick.savings_half[j]))
    s_high = max(s + s_half, float(pick.savings[j] + pick.savings_half[j]))
    return Option(
        strategy=d.strategy,
        provider=d.candidate.provider,
        model=d.candidate.model,
        samples=int(shown.samples[j]),
        groups=int(shown.groups[j]),
        retention=r,
        # never promise more than the app's own quality, nor less than nothing
        retention_low=min(max(float(shown.retention_low[j]), 0.0), 1.0),
        retention_high=r + r_half,
        cost_per_call_nano=float(d.served.cost.mean()),
        savings_per_call_nano=s,
        savings_per_call_low_nano=s_low,
        savings_per_call_high_nano=s_high,
        monthly_savings_nano=round(s * month),
        monthly_savings_low_nano=round(s_low * month),
        monthly_savings_high_nano=round(s_high * month),
        latency_p50_change_ms=_percentile_change(d.served.latency, base.latency[rows], 50),
        latency_p95_change_ms=_percentile_change(d.served.latency, base.latency[rows], 95),
        candidate_share=float(d.served.kept.mean()),
        retention_sd=float(shown.retention_sd[j]),
        screen_retention_low=float(pick.retention_low[j]),
        screen_savings_low_nano=float(pick.savings[j] - pick.savings_half[j]),
        screen_savings_nano=float(pick.savings[j]),
        checks=d.checks,
        share=d.share,
        threshold=d.threshold,
        router=d.router,
        gain_over_random_nano=shown_gains.estimate.get(j),
        gain_over_random_low_nano=shown_gains.low(j),
        gain_over_random_high_nano=shown_gains.high(j),
        screen_gain_over_random_low_nano=pick_gains.low(j),
    )


def estimate(
    evidence: EndpointEvidence,
    *,
    excluded: dict[str, str] | None = None,
    seed: int = 0,
    pool: RouterPool | None = None,
    encoder_pool: RouterPool | None = None,
) -> Estimate:
    """Every option for the endpoint with 99 % prediction intervals (no choice made). Learned
    routers train on `pool` (the project's endpoints together, this one's evidence included), else
    on this endpoint's evidence alone; encoder routers on `encoder_pool` (apps.routing.encoder_pool)
    when there is one (the server has the `encoder` extra)."""
    dropped = dict(excluded or {})
    n = len(evidence.samples)
    base = _Base(evidence)
    baseline_cost = float(base.cost.mean()) if n else 0.0
    simulated = evidence.simulated_parts
    if n == 0:
        return Estimate(0, 0, 0.0, evidence.monthly_calls, excluded=dropped, simulated=simulated)
    candidates = _candidates(evidence, dropped)
    candidates = [c for c in candidates if c.key not in (excluded or {})]
    screen = bounds.screen_part(base.keys)
    pools: dict[str, RouterPool] = {HASHED: pool or RouterPool([evidence])}
    if encoder_pool is not None:
        pools[ENCODER] = encoder_pool
    drafts, routers = _drafts(evidence, base, candidates, screen[base.group], pools)
    if not drafts:
        return Estimate(
            n, base.groups, baseline_cost, evidence.monthly_calls, excluded=dropped, simulated=simulated
        )
    cols = _columns(drafts, base)
    month = evidence.monthly_calls
    pick = _stats(cols, screen, unit=base.unit, month=month, seed=seed, confidence=SCREEN_CONFIDENCE)
    shown = _stats(cols, ~screen, unit=base.unit, month=month, seed=seed + 1, confidence=bounds.CONFIDENCE)
    pick_gains, shown_gains = _gains(drafts, pick), _gains(drafts, shown)
    options = []
    for j, d in enumerate(drafts):
        if not (np.isfinite(shown.retention[j]) and np.isfinite(pick.retention[j])):
            dropped.setdefault(
                d.candidate.key, "the app's own answers score 0 on these samples, so retention is undefined"
            )
            continue
        options.append(_option(d, j, pick, shown, (pick_gains, shown_gains), base, month))
    return Estimate(
        samples=n,
        groups=base.groups,
        baseline_cost_per_call_nano=baseline_cost,
        monthly_calls=month,
        options=frontier(options, baseline_cost),
        excluded=dropped,
        routers=routers.linear,
        critical=shown.critical,
        simulated=simulated,
        encoder_routers=routers.encoder,
        encoder=getattr(encoder_pool, "encoder_spec", None) if routers.encoder else None,
        kinds=_kinds(drafts, pools, seed),
        encoder_note=routers.note,
    )
