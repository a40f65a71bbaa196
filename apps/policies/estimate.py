"""What each routing option would do to an endpoint, estimated per sample from replay evidence.

For every candidate the evidence has answers from, three options are evaluated sample by sample:

- `override`: every call goes to the candidate. A provider error falls back to the baseline (the
  SDK does so), costing the baseline and keeping its quality.
- `cascade`: the candidate answers first; when a check the SDK runs fires on its answer (empty,
  refusal, invalid JSON) or the provider fails, the call escalates to the baseline: cost =
  candidate + baseline, quality = the baseline's (the worker/advisor pattern).
- `learned`: a per-prompt router (apps.policies.learned) trained on the verdicts; out-of-fold
  scores choose the threshold with the most savings whose retention lower bound clears the bar.

Intervals are 95 % percentile bootstraps over samples (the same resamples for every option of a
candidate); projected monthly savings = savings per call × the endpoint's monthly calls (the
volume is taken as known). The chosen option is the one with the most projected savings among
those whose retention lower bound clears the bar; none clears it → no change, and the reason says
which option came closest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from apps.policies import learned
from apps.replay.evidence import EndpointEvidence

BOOTSTRAP = 1000
MIN_SAMPLES = 20
LEARNED_MIN_SAMPLES = 60
SDK_CHECKS = ("empty", "refusal", "invalid_json")
DEFAULT_CHECKS = ("empty", "refusal")
SIMPLICITY = {"override": 0, "cascade": 1, "learned": 2}

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


@dataclass(frozen=True)
class Option:
    strategy: str
    provider: str
    model: str
    samples: int
    retention: float
    retention_low: float
    retention_high: float
    cost_per_call_nano: float
    savings_per_call_nano: float
    monthly_savings_nano: int
    monthly_savings_low_nano: int
    monthly_savings_high_nano: int
    latency_p50_change_ms: float
    latency_p95_change_ms: float
    candidate_share: float  # share of calls the candidate's answer is kept for
    checks: tuple[str, ...] = ()
    learned: dict[str, Any] | None = None
    clears_bar: bool = False
    on_frontier: bool = False

    @property
    def target(self) -> str:
        return f"{self.provider}/{self.model}"

    @property
    def key(self) -> str:
        return f"{self.strategy}:{self.target}"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["checks"] = list(self.checks)
        out["key"] = self.key
        return out


@dataclass(frozen=True)
class Estimate:
    bar: float
    samples: int
    baseline_cost_per_call_nano: float
    options: list[Option] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)  # "provider/model" → why
    chosen: Option | None = None
    reason: str = ""


@dataclass(frozen=True)
class _Base:
    cost: FloatArray
    latency: FloatArray
    ref: float


@dataclass(frozen=True)
class _Candidate:
    provider: str
    model: str
    rows: np.ndarray[Any, np.dtype[np.int64]]  # which samples have this candidate
    quality: FloatArray
    cost: FloatArray
    latency: FloatArray
    provider_error: BoolArray
    failed: list[frozenset[str]]


@dataclass(frozen=True)
class _Outcome:
    quality: FloatArray
    cost: FloatArray
    latency: FloatArray
    kept: BoolArray  # the candidate's answer is what the app gets


def usd(nano: float) -> str:
    value = nano / 1e9
    sign, value = ("-", -value) if value < 0 else ("", value)
    if value >= 100:
        return f"{sign}${value:,.0f}"
    if value >= 1:
        return f"{sign}${value:,.2f}"
    return f"{sign}${value:.4f}"


def _candidates(evidence: EndpointEvidence, excluded: dict[str, str]) -> list[_Candidate]:
    keys: list[str] = []
    for sample in evidence.samples:
        keys.extend(k for k in sample.candidates if k not in keys)
    for summary in evidence.candidates:
        if summary.key not in keys:
            keys.append(summary.key)
    out = []
    for key in keys:
        if key in excluded:
            continue
        provider, _, model = key.partition("/")
        rows, quality, cost, latency, errors, failed = [], [], [], [], [], []
        unpriced = False
        for i, sample in enumerate(evidence.samples):
            found = sample.candidates.get(key)
            if found is None:
                continue
            error = not found.ok and found.cost_nano is None
            if found.ok and found.cost_nano is None:
                unpriced = True
            rows.append(i)
            quality.append(min(max(found.quality, 0.0), 1.0))
            cost.append(float(found.cost_nano or 0))
            latency.append(float(found.latency_ms))
            errors.append(error)
            failed.append(frozenset(found.failed_checks))
        if unpriced:
            excluded[key] = "the replay could not price its answers"
            continue
        if len(rows) < MIN_SAMPLES:
            excluded[key] = f"only {len(rows)} replayed samples (at least {MIN_SAMPLES} needed)"
            continue
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


def _routed(c: _Candidate, base: _Base, escalate: BoolArray) -> _Outcome:
    """The candidate answers; where `escalate` (or the provider failed) the baseline answers too."""
    esc = escalate | c.provider_error
    return _Outcome(
        quality=np.where(esc, base.ref, c.quality),
        cost=c.cost + np.where(esc, base.cost, 0.0),
        latency=c.latency + np.where(esc, base.latency, 0.0),
        kept=~esc,
    )


def _mix(routed: _Outcome, base: _Base, send: BoolArray) -> _Outcome:
    return _Outcome(
        quality=np.where(send, routed.quality, base.ref),
        cost=np.where(send, routed.cost, base.cost),
        latency=np.where(send, routed.latency, base.latency),
        kept=send & routed.kept,
    )


class _Resamples:
    def __init__(self, n: int, seed: int):
        rng = np.random.default_rng(seed)
        self.n = n
        self.index = rng.integers(0, n, size=(BOOTSTRAP if n <= 2000 else 400, n))

    def means(self, values: FloatArray) -> FloatArray:
        return np.asarray(values[self.index].mean(axis=1), dtype=np.float64)

    def counts(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        return np.stack([np.bincount(row, minlength=self.n) for row in self.index])


def _interval(values: FloatArray) -> tuple[float, float]:
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def _option(
    strategy: str,
    c: _Candidate,
    out: _Outcome,
    base: _Base,
    boot: _Resamples,
    *,
    monthly_calls: int,
    bar: float,
    checks: tuple[str, ...] = (),
    model: dict[str, Any] | None = None,
    retention_boot: FloatArray | None = None,
    savings_boot: FloatArray | None = None,
) -> Option:
    savings = base.cost - out.cost
    r_boot = boot.means(out.quality) / base.ref if retention_boot is None else retention_boot
    s_boot = boot.means(savings) if savings_boot is None else savings_boot
    r_low, r_high = _interval(r_boot)
    s_low, s_high = _interval(s_boot * monthly_calls)
    return Option(
        strategy=strategy,
        provider=c.provider,
        model=c.model,
        samples=len(c.rows),
        retention=float(out.quality.mean() / base.ref),
        retention_low=r_low,
        retention_high=r_high,
        cost_per_call_nano=float(out.cost.mean()),
        savings_per_call_nano=float(savings.mean()),
        monthly_savings_nano=round(float(savings.mean()) * monthly_calls),
        monthly_savings_low_nano=round(s_low),
        monthly_savings_high_nano=round(s_high),
        latency_p50_change_ms=float(np.percentile(out.latency, 50) - np.percentile(base.latency, 50)),
        latency_p95_change_ms=float(np.percentile(out.latency, 95) - np.percentile(base.latency, 95)),
        candidate_share=float(out.kept.mean()),
        checks=checks,
        learned=model,
        clears_bar=r_low >= bar,
    )


def cascade_checks(evidence: EndpointEvidence) -> tuple[str, ...]:
    """Checks the SDK can run. Invalid JSON only where answers are meant to be JSON: the evaluator
    compares JSON, or most candidate answers are JSON. (Replay tags `invalid_json` only where JSON
    was meant, so the tags cannot tell a prose endpoint from a JSON one; the answers can.)"""
    answers = [c for s in evidence.samples for c in s.candidates.values() if c.ok]
    json_answers = sum(_is_json(c.output) for c in answers)
    wants_json = evidence.evaluator == "json" or (bool(answers) and json_answers > len(answers) / 2)
    return tuple(c for c in SDK_CHECKS if c in DEFAULT_CHECKS or (c == "invalid_json" and wants_json))


def _is_json(text: str) -> bool:
    stripped = text.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    if not stripped.startswith(("{", "[")):
        return False
    try:
        json.loads(stripped)
    except ValueError:
        return False
    return True


def _learned(
    c: _Candidate,
    routed: _Outcome,
    base: _Base,
    boot: _Resamples,
    feats: learned.Featurized,
    sample_ids: list[str],
    *,
    monthly_calls: int,
    bar: float,
) -> Option | None:
    n = feats.rows
    savings = base.cost - routed.cost
    labels = learned.router_labels(routed.quality, savings)
    scores = learned.cross_fit_scores(feats, labels, learned.fold_ids(sample_ids))
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    gain_q = (routed.quality - base.ref)[order]
    cum_s = np.concatenate(([0.0], np.cumsum(savings[order])))
    weights = boot.counts()[:, order]
    boot_q = np.concatenate((np.zeros((len(weights), 1)), np.cumsum(weights * gain_q, axis=1)), axis=1)
    lower = np.percentile(1.0 + boot_q / (n * base.ref), 2.5, axis=0)
    k = np.arange(n + 1)
    separable = np.ones(n + 1, dtype=np.bool_)
    separable[1:n] = ranked[:-1] > ranked[1:]  # a threshold can split the ranking here
    usable = (k > 0) & (k < n) & separable & (lower >= bar) & (cum_s > 0)
    if not usable.any():
        return None
    best = int(np.argmax(np.where(usable, cum_s, -np.inf)))
    threshold = float((ranked[best - 1] + ranked[best]) / 2)
    send = np.zeros(n, dtype=np.bool_)
    send[order[:best]] = True
    out = _mix(routed, base, send)
    s_weights = np.cumsum(weights * savings[order], axis=1)[:, best - 1] / n
    model = learned.train_router(feats, labels, threshold=threshold)
    return _option(
        "learned",
        c,
        out,
        base,
        boot,
        monthly_calls=monthly_calls,
        bar=bar,
        model=model,
        retention_boot=1.0 + boot_q[:, best] / (n * base.ref),
        savings_boot=s_weights,
    )


def _subset(feats: learned.Featurized, rows: np.ndarray[Any, np.dtype[np.int64]]) -> learned.Featurized:
    if len(rows) == feats.rows:
        return feats
    _, buckets = feats.gather(rows)
    lengths = feats.indptr[rows + 1] - feats.indptr[rows]
    return learned.Featurized(
        spec=feats.spec,
        indptr=np.concatenate(([0], np.cumsum(lengths))).astype(np.int64),
        buckets=buckets,
        log_chars=feats.log_chars[rows],
        log_words=feats.log_words[rows],
    )


def _frontier(options: list[Option], baseline_cost: float) -> list[Option]:
    points = [(o.cost_per_call_nano, o.retention) for o in options] + [(baseline_cost, 1.0)]
    out = []
    for o in options:
        dominated = any(
            cost <= o.cost_per_call_nano
            and retention >= o.retention
            and (cost, retention) != (o.cost_per_call_nano, o.retention)
            for cost, retention in points
        )
        out.append(Option(**{**o.__dict__, "on_frontier": not dominated}))
    return out


def estimate(
    evidence: EndpointEvidence, *, bar: float, excluded: Mapping[str, str] | None = None, seed: int = 0
) -> Estimate:
    """Evaluate every option for the endpoint and choose one (or none, saying why)."""
    dropped = dict(excluded or {})
    n = len(evidence.samples)
    base_all = _Base(
        cost=np.asarray([float(s.baseline_cost_nano) for s in evidence.samples]),
        latency=np.asarray([float(s.baseline_latency_ms) for s in evidence.samples]),
        ref=evidence.quality_reference,
    )
    baseline_cost = float(base_all.cost.mean()) if n else 0.0
    if n < MIN_SAMPLES:
        return Estimate(
            bar, n, baseline_cost, excluded=dropped,
            reason=f"The replay has {n} samples with per-sample results; at least {MIN_SAMPLES} are needed.",
        )  # fmt: skip
    checks = cascade_checks(evidence)
    options: list[Option] = []
    all_feats = learned.featurize([s.prompt_text for s in evidence.samples])
    for c in _candidates(evidence, dropped):
        base = _Base(base_all.cost[c.rows], base_all.latency[c.rows], base_all.ref)
        boot = _Resamples(len(c.rows), seed=seed + len(options))
        kw: dict[str, Any] = {"monthly_calls": evidence.monthly_calls, "bar": bar}
        none = np.zeros(len(c.rows), dtype=np.bool_)
        override = _routed(c, base, none)
        options.append(_option("override", c, override, base, boot, **kw))
        fires = np.asarray([bool(f & set(checks)) for f in c.failed], dtype=np.bool_)
        if fires.any():
            options.append(_option("cascade", c, _routed(c, base, fires), base, boot, checks=checks, **kw))
        if len(c.rows) >= LEARNED_MIN_SAMPLES:
            ids = [evidence.samples[i].sample_id for i in c.rows]
            found = _learned(c, override, base, boot, _subset(all_feats, c.rows), ids, **kw)
            if found is not None:
                options.append(found)
    options = _frontier(options, baseline_cost)
    good = [o for o in options if o.clears_bar and o.savings_per_call_nano > 0]
    if good:
        chosen = max(good, key=lambda o: (o.monthly_savings_nano, -SIMPLICITY[o.strategy]))
        return Estimate(bar, n, baseline_cost, options, dropped, chosen, _describe(chosen, evidence))
    return Estimate(bar, n, baseline_cost, options, dropped, None, _why_none(options, dropped, bar))


def _describe(o: Option, evidence: EndpointEvidence) -> str:
    how = {
        "override": f"Send every call to {o.target}",
        "cascade": f"Try {o.target} first and escalate to {evidence.baseline_model} when "
        f"{' / '.join(o.checks)} fires",
        "learned": f"Route prompts the learned router scores high to {o.target} "
        f"({o.candidate_share:.0%} of calls)",
    }[o.strategy]
    return (
        f"{how}: keeps {o.retention:.1%} of quality (95% CI {o.retention_low:.1%}–{o.retention_high:.1%}) "
        f"and saves {usd(o.monthly_savings_nano)}/month "
        f"(95% CI {usd(o.monthly_savings_low_nano)}–{usd(o.monthly_savings_high_nano)})."
    )


def _why_none(options: list[Option], excluded: Mapping[str, str], bar: float) -> str:
    parts = []
    cheaper = [o for o in options if o.savings_per_call_nano > 0]
    if cheaper:
        best = max(cheaper, key=lambda o: o.retention_low)
        parts.append(
            f"No option clears the {bar:.0%} quality bar: the closest, {best.strategy} to {best.target}, "
            f"keeps {best.retention:.1%} (95% CI {best.retention_low:.1%}–{best.retention_high:.1%})."
        )
    elif options:
        parts.append("No candidate is cheaper than the baseline on this traffic.")
    else:
        parts.append("No candidate could be evaluated.")
    parts += [f"{key} left out: {why}." for key, why in sorted(excluded.items())]
    return " ".join(parts)
