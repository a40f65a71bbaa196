"""Learned routers trained on a project's endpoints together, with a term of its own per endpoint.

One endpoint's replay rarely holds enough prompts to learn which of them a cheaper model handles;
the project's other endpoints, replayed on the same candidate, know more about prompts in general.
A pool trains each candidate's router on every endpoint's evidence at once — the prompts' hashed
n-grams shared, plus one indicator feature per endpoint (an index beyond the hash space, penalised
like any weight, so an endpoint's term moves away from the rest only as far as its own evidence
pulls it) — and ships each endpoint the shared weights with its own term folded into the bias.

Cross-fitting runs over the whole pool: folds keep each group whole (conversations never straddle
folds) and member k is trained without fold k of *every* endpoint, so each of an endpoint's samples
is scored by a member that never saw it, exactly as the shipped router (protocol version 2) will
score new traffic. A pool of one endpoint is the plain per-endpoint router.

**Plug-in heads** (`heads="plug_in"`, what ships). The oracle that keeps a quality bar at least
cost routes prompts by saving ÷ quality loss, and prompt text predicts the two very differently
(the saving well, the loss poorly: ../shared/notes/router-research.md), so each member is two ridge
regressions on the same features: a *saving head* (what routing the prompt saves, in units of the
candidate's mean saving on the member's training rows) and a *loss head* (the app's own answer's
quality − the candidate's). Ranked by ln ŝ − ln l̂ ≈ ŝ − l̂ ÷ l̄ + const (to first order about the
means; l̄ the mean loss, floored at `LOSS_FLOOR` of the app's quality), which is linear in the
features like either head: one weight per hashed feature, the same `hashed_linear` member the SDK
already scores. `heads="label"` is the router before it: one ridge on ln(saving) + 0.3 ·
logit(quality) (learned.router_labels), kept as the benchmarks' baseline. On the shared sets
(bench/router.py, 5 grouped splits, held-out halves, share of the random→oracle gap) pooling lifted
that label's router from 12.1 to 14.9 % on MMLU and from 2.8 to 5.2 % on AlpacaEval; plug-in heads
take MMLU to 21.4 ± 3.8 % and leave AlpacaEval within its noise (4.9 ± 1.9 %), where the loss is
judge noise the prompt barely predicts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from apps.routing import bounds, learned
from apps.routing.evidence import EndpointEvidence

PENALTIES = (0.05, 0.2, 1.0)  # ridge penalties tried; the screening samples choose (_pick_penalty)
LOSS_FLOOR = 0.01  # plug-in: the mean loss l̄ is at least this share of the app's mean quality
BARS = (0.9, 0.95, 0.98)

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]
Heads = Literal["plug_in", "label"]  # what each member regresses (see the module's docstring)


@dataclass(frozen=True)
class _Row:
    endpoint: str
    sample_id: str
    group: str
    prompt: str
    quality: float  # what the app gets when routed (the baseline's, if the candidate's call failed)
    saving: float  # the baseline's cost − what routing costs (both calls, if the candidate's failed)
    reference: float  # what the app's own answer scores
    screens: bool  # in its endpoint's screening part (apps.routing.bounds.screen_part)


def routed_outcome(evidence: EndpointEvidence, sample_index: int, key: str) -> tuple[float, float] | None:
    """(quality served, saving) when sample `sample_index` is sent to candidate `key`, or None."""
    sample = evidence.samples[sample_index]
    found = sample.candidates.get(key)
    if found is None:
        return None
    reference = evidence.quality_reference if sample.baseline_quality is None else sample.baseline_quality
    if not found.ok and found.cost_nano is None:  # the provider failed: the SDK falls back
        return reference, 0.0
    return min(max(found.quality, 0.0), 1.0), float(sample.baseline_cost_nano - (found.cost_nano or 0))


@dataclass
class _Trained:
    rows: list[_Row]
    index: dict[tuple[str, str], int]  # (endpoint, sample id) → row
    feats: learned.Featurized  # with one indicator feature per endpoint
    folds: IntArray
    fits: list[learned.LinearFit | None]  # member k trained without fold k
    shared: list[dict[str, Any] | None]  # member k's shipped form before any endpoint's term


class RouterPool:
    """Every endpoint's evidence, ready to cross-fit a router per candidate (trained on first use)."""

    def __init__(
        self,
        evidence: Sequence[EndpointEvidence],
        spec: learned.HashSpec = learned.DEFAULT_SPEC,
        *,
        heads: Heads = "plug_in",
    ):
        self.spec = spec
        self.heads = heads
        self.endpoints = sorted({e.endpoint for e in evidence})
        self._rows: dict[str, list[_Row]] = {}
        for ev in evidence:
            keys = list(dict.fromkeys(s.group_key for s in ev.samples))
            screens = dict(zip(keys, bounds.screen_part(keys).tolist(), strict=True))
            for i, sample in enumerate(ev.samples):
                reference = (
                    ev.quality_reference if sample.baseline_quality is None else sample.baseline_quality
                )
                for key in sample.candidates:
                    outcome = routed_outcome(ev, i, key)
                    if outcome is not None:
                        self._rows.setdefault(key, []).append(
                            _Row(ev.endpoint, sample.sample_id, f"{ev.endpoint}\x1f{sample.group_key}",
                                 sample.prompt_text, *outcome, reference, screens[sample.group_key])
                        )  # fmt: skip
        self._trained: dict[str, _Trained] = {}

    def _train(self, key: str) -> _Trained:
        found = self._trained.get(key)
        if found is not None:
            return found
        rows = self._rows.get(key, [])
        base = learned.featurize([r.prompt for r in rows], self.spec)
        endpoint_ids = np.asarray([self.endpoints.index(r.endpoint) for r in rows], dtype=np.int64)
        feats = with_endpoints(base, endpoint_ids)
        folds = learned.fold_ids([r.group for r in rows])
        fits = _pick_penalty(rows, feats, _fitter(rows, feats, self.heads), folds)
        shared = [shared_member(f, feats.spec) if f else None for f in fits]
        index = {(r.endpoint, r.sample_id): i for i, r in enumerate(rows)}
        found = _Trained(rows, index, feats, folds, fits, shared)
        self._trained[key] = found
        return found

    def cross_fit(self, key: str, endpoint: str, sample_ids: Sequence[str]) -> learned.CrossFit:
        """Out-of-fold scores of these samples of `endpoint`, and the members `endpoint` ships."""
        trained = self._train(key)
        term = trained.feats.spec.n_buckets + self.endpoints.index(endpoint)
        by_fold = {
            k: with_bias(shared, fit.weights.get(term, 0.0))
            for k, (fit, shared) in enumerate(zip(trained.fits, trained.shared, strict=True))
            if fit is not None and shared is not None
        }
        members = list(by_fold.values())
        rows = np.asarray([trained.index[(endpoint, s)] for s in sample_ids], dtype=np.int64)
        out = np.zeros(len(rows))
        for fold, member in by_fold.items():
            mine = np.flatnonzero(trained.folds[rows] == fold)
            if len(mine):
                single = learned.export_members([member], threshold=0.0, spec=trained.feats.spec)
                out[mine] = learned.scores(single, trained.feats, rows[mine])
        return learned.CrossFit(scores=out, members=members)

    def keys(self) -> list[str]:
        """The candidates the pool has rows of."""
        return sorted(k for k, rows in self._rows.items() if rows)

    def rows(self, key: str) -> list[_Row]:
        """The candidate's rows over every endpoint, in the order :meth:`oof` scores them."""
        return list(self._rows.get(key, []))

    def oof(self, key: str) -> FloatArray:
        """Every row of the candidate scored by the member trained without its fold (for choosing)."""
        trained = self._train(key)
        out = np.zeros(len(trained.rows))
        for fold, fit in enumerate(trained.fits):
            held = np.flatnonzero(trained.folds == fold).astype(np.int64)
            if fit is not None and len(held):
                out[held] = linear_scores(fit, trained.feats, held)
        return out


Fitter = Callable[[IntArray, float], learned.LinearFit]


def _fitter(rows: list[_Row], feats: learned.Featurized, heads: Heads) -> Fitter:
    """How a member is trained on some rows at a penalty: one ridge on the router label, or
    (`plug_in`) a saving head and a quality-loss head combined into ŝ − l̂ ÷ l̄, the first-order
    expansion of ln(ŝ ÷ l̂) about the means (the saving in units of its mean), linear in the
    features like either head, so it ships in the same format."""
    quality = np.asarray([r.quality for r in rows])
    saving = np.asarray([r.saving for r in rows])
    if heads == "label":
        labels = learned.router_labels(quality, saving)
        return lambda train, l2: learned.fit(feats, train, labels[train], l2=l2)
    if heads != "plug_in":
        raise ValueError(f"unknown heads {heads!r}: 'plug_in' or 'label'")
    reference = np.asarray([r.reference for r in rows])
    loss = reference - quality

    def plug_in(train: IntArray, l2: float) -> learned.LinearFit:
        unit = max(float(np.abs(saving[train]).mean()), 1e-9)
        save = learned.fit(feats, train, saving[train] / unit, l2=l2)
        lose = learned.fit(feats, train, loss[train], l2=l2)
        mean_loss = max(float(loss[train].mean()), LOSS_FLOOR * abs(float(reference[train].mean())), 1e-9)
        weights = dict(save.weights)
        for k, w in lose.weights.items():
            weights[k] = weights.get(k, 0.0) - w / mean_loss
        return learned.LinearFit(
            weights=weights,
            log_chars=save.log_chars - lose.log_chars / mean_loss,
            log_words=save.log_words - lose.log_words / mean_loss,
            bias=save.bias - lose.bias / mean_loss,
        )

    return plug_in


def _cross_fits(
    feats: learned.Featurized, fitter: Fitter, folds: IntArray, l2: float
) -> tuple[list[learned.LinearFit | None], FloatArray]:
    """Member k trained without fold k at this penalty, and every row's out-of-fold score."""
    everything = np.arange(feats.rows, dtype=np.int64)
    fits: list[learned.LinearFit | None] = []
    oof = np.zeros(feats.rows)
    for fold in range(learned.FOLDS):
        train, held = everything[folds != fold], everything[folds == fold]
        fit = fitter(train, l2) if len(train) else None
        fits.append(fit)
        if fit is not None and len(held):
            oof[held] = linear_scores(fit, feats, held)
    return fits, oof


def _pick_penalty(
    rows: list[_Row], feats: learned.Featurized, fitter: Fitter, folds: IntArray
) -> list[learned.LinearFit | None]:
    """The members at the penalty whose out-of-fold ranking saves most on the *screening* samples.

    How hard to shrink the weights depends on the data (open chat wants little of it, subject
    quizzes much more), so it is chosen, like any other pick, on the screening part only: the
    savings each penalty's ranking reaches at ≥ 90, 95 and 98 % retention, endpoint by endpoint.
    The confirming samples, which every interval comes from, play no part in it.
    """
    best: tuple[float, list[learned.LinearFit | None]] | None = None
    for l2 in PENALTIES:
        fits, oof = _cross_fits(feats, fitter, folds, l2)
        if len(PENALTIES) == 1:
            return fits
        value = sum(_reachable(rows, oof, endpoint) for endpoint in {r.endpoint for r in rows})
        if best is None or value > best[0] + 1e-12:
            best = (value, fits)
    assert best is not None
    return best[1]


def _reachable(rows: list[_Row], scores: FloatArray, endpoint: str) -> float:
    """Savings a ranking reaches at ≥ each of `BARS` on one endpoint's screening rows (summed,
    as a share of what routing all of them would save)."""
    mine = [i for i, r in enumerate(rows) if r.endpoint == endpoint and r.screens]
    if len(mine) < 2:
        return 0.0
    order = sorted(mine, key=lambda i: -scores[i])
    q = np.asarray([rows[i].quality for i in order])
    b = np.asarray([rows[i].reference for i in order])
    s = np.asarray([rows[i].saving for i in order])
    total, scale = float(b.sum()), float(np.abs(s).sum()) or 1.0
    if total <= 0:
        return 0.0
    kept = total + np.concatenate(([0.0], np.cumsum(q - b)))
    saved = np.concatenate(([0.0], np.cumsum(s)))
    return sum(float(saved[kept >= bar * total - 1e-12].max()) for bar in BARS) / scale


def linear_scores(fit: learned.LinearFit, feats: learned.Featurized, rows: IntArray) -> FloatArray:
    """Scores of featurized rows by an unexported fit (for choosing; what ships is scored exactly)."""
    row_ids, buckets = feats.gather(rows)
    weights = np.asarray([fit.weights.get(int(k), 0.0) for k in buckets])
    sums = np.bincount(row_ids, weights=weights, minlength=len(rows))
    lengths = fit.log_chars * feats.log_chars[rows] + fit.log_words * feats.log_words[rows]
    return np.asarray(sums + lengths + fit.bias, dtype=np.float64)


def with_endpoints(feats: learned.Featurized, endpoint_ids: IntArray) -> learned.Featurized:
    """The same prompts, each with one more feature: its endpoint's indicator (n_buckets + id)."""
    lengths = np.diff(feats.indptr)
    indptr = np.concatenate(([0], np.cumsum(lengths + 1))).astype(np.int64)
    buckets = np.empty(len(feats.buckets) + len(endpoint_ids), dtype=np.int64)
    ends = indptr[1:] - 1
    mask = np.ones(len(buckets), dtype=np.bool_)
    mask[ends] = False
    buckets[mask] = feats.buckets
    buckets[ends] = feats.spec.n_buckets + endpoint_ids
    return learned.Featurized(feats.spec, indptr, buckets, feats.log_chars, feats.log_words)


def shared_member(fit: learned.LinearFit, spec: learned.HashSpec) -> dict[str, Any]:
    """A member's shipped form without the endpoint terms (the same for every endpoint)."""
    weights = {k: w for k, w in fit.weights.items() if k < spec.n_buckets}
    local = learned.LinearFit(
        weights=weights, log_chars=fit.log_chars, log_words=fit.log_words, bias=fit.bias
    )
    return learned.member_json(local, learned.MAX_WEIGHTS)


def with_bias(member: dict[str, Any], term: float) -> dict[str, Any]:
    """The member as one endpoint ships it: its own term folded into the bias."""
    return {**member, "bias": round(float(member["bias"]) + term, learned.DECIMALS)}
