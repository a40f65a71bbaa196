"""Encoder routers: plug-in heads on sentence embeddings, pooled over a project's endpoints as the
linear routers are (apps.routing.pool), and the `encoder_linear` format the SDK runs.

Each prompt is embedded by the exported encoder (apps.routing.encoder, all-MiniLM-L6-v2, unit
length, 384 numbers). Two ridge heads are fitted on the embedding plus one indicator per endpoint
(penalised like any weight, so an endpoint's term moves only as far as its own evidence pulls it;
the bias unpenalised):

- the **saving head** predicts what routing the prompt to the candidate saves, in units of the
  candidate's mean saving (ŝ), on that candidate's rows;
- the **loss head** predicts the quality the app loses when the candidate answers (the app's own
  answer's quality − the candidate's, l̂), trained on *every* candidate's rows at once with one more
  indicator per candidate: which prompts are hard is much the same whichever cheaper model answers,
  and quality is the part the prompt predicts worst (../shared/notes/router-research.md), so it gets
  all the evidence there is.

The oracle that keeps a quality bar at least cost routes prompts by saving ÷ loss; the router ranks
by the same ratio of the predictions, to first order about the candidate's means (s̄ = 1 in these
units, l̄ its mean loss): ln ŝ − ln l̂ ≈ ŝ − l̂ ÷ l̄ + const. That score is linear in the embedding, so
it ships as one weight vector and bias per member, the `encoder_linear` format unchanged. Each
head's ridge penalty is chosen from `PENALTIES` by inner cross-validation: the penalty whose
out-of-fold predictions have the least squared error on the *screening* samples (the confirming
samples, which every interval comes from, play no part in it).

Cross-fitting runs over the very folds the linear routers use (learned.fold_ids over the same
conversations, alike for every candidate): member k's heads are trained without fold k of every
endpoint and every candidate, and member k scores that fold; the shipped router carries every member,
a prompt scored by member `crc32(prompt) % members`. Weights are rounded to `learned.DECIMALS` places
and every score the server uses is computed from that exported form, as the SDK computes it.

**Blended with the linear router.** Given the project's linear pool (`linear`), a candidate's score
is the encoder's plus λ times the linear router's (apps.routing.pool, the very members that ship as
the model's `fallback`), λ putting both on the same scale: the ratio of their out-of-fold scores'
spreads within endpoints. The linear score is added less its mean over the endpoint's out-of-fold
scores (folded into each member's bias), so the blend sits at the encoder's level whatever λ is:
scores from two trainings then read on one scale (the linear router's level, ~15, times a λ that
moves between trainings would otherwise shift the whole blend). Two rankers that read the prompt
differently (a sentence's meaning; which words it uses) average into a better one than either, the
plain average of an ensemble, with no weight tuned. The linear router blended in regresses the
single label (`BLEND_HEADS`, below), not the plug-in heads the linear router ships with alone: on
AlpacaEval's held-out halves the blend captured 9.1 % of the random→oracle gap against 8.6 %
(encoder alone) and 5.2 % (that linear router alone); read over 5 folds, 9.4 % against 8.7 and
3.7 %. On MMLU, where the encoder reads quizzes worse than their words do, 14.5 % against 6.8 and
14.9 %, and the plug-in linear router alone reaches 21.4 %, so the project's kind comparison
(apps.routing.kinds) keeps the linear router there (bench/router.py, 5 splits, the 7-bit encoder).

The shipped model (docs/protocol.md, LEARNED_MODEL `encoder_linear`)::

    {"type": "encoder_linear", "version": 2, "encoder": {name, sha256, files, dim, max_tokens,
     pooling, normalize}, "members": [{"weights": [384 numbers], "bias": b, "linear_weight": λ}, ...],
     "threshold": t, "fallback": <a hashed_linear model, or null>}

(version 1: no `linear_weight`, when there is no linear pool to blend with.)
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from apps.routing import encoder, learned
from apps.routing.evidence import EndpointEvidence
from apps.routing.pool import RouterPool

TYPE = "encoder_linear"
VERSION = 2  # members may carry `linear_weight` (version 1: they do not)
# Ridge penalties tried for each head (embeddings of unit length), three decades apart end to end;
# inner cross-validation picks one per head (_cv_heads).
PENALTIES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
LOSS_FLOOR = 0.01  # l̄ is at least this share of the app's mean quality (a candidate that loses nothing)
# What the linear router blended in (and shipped as the fallback) regresses: the single label
# (apps.routing.pool), not plug-in heads. The encoder has its own loss head; what the words add is
# mostly the saving, which the label reads cleanly and plug-in heads read next to a second, noisy
# loss head. On AlpacaEval the blend with the label router captured more of the gap in all 5 of
# bench/router.py's 5-fold splits (9.5 against 8.2 %) and in 4 of 5 halves (9.1 against 8.8 %); on
# MMLU the blend with plug-in heads does better (17.2 against 14.5 %, halves), but there the plug-in
# linear router alone (21.4 %) beats both and the kind rule ships it.
BLEND_HEADS: Final = "label"

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class HeadFit:
    weights: FloatArray  # one per embedding dimension, then one per endpoint
    bias: float


def fit_head(x: FloatArray, y: FloatArray, *, l2: float) -> HeadFit:
    """Ridge regression minimising mean squared error + l2·|w|², the bias unpenalised."""
    mu_x, mu_y = x.mean(axis=0), float(y.mean())
    xc = x - mu_x
    gram = xc.T @ xc / len(y) + l2 * np.eye(x.shape[1])
    w = np.linalg.solve(gram, xc.T @ (y - mu_y) / len(y))
    return HeadFit(weights=np.asarray(w, dtype=np.float64), bias=mu_y - float(mu_x @ w))


def ridge_path(x: FloatArray, y: FloatArray, penalties: Sequence[float]) -> list[HeadFit]:
    """`fit_head` at every penalty, from one eigendecomposition of the centred Gram matrix."""
    mu_x, mu_y = x.mean(axis=0), float(y.mean())
    xc = x - mu_x
    values, vectors = np.linalg.eigh(xc.T @ xc / len(y))
    projected = vectors.T @ (xc.T @ (y - mu_y) / len(y))
    out = []
    for l2 in penalties:
        w = vectors @ (projected / (np.maximum(values, 0.0) + l2))
        out.append(HeadFit(weights=np.asarray(w, dtype=np.float64), bias=mu_y - float(mu_x @ w)))
    return out


def _cv_heads(
    x: FloatArray,
    y: FloatArray,
    folds: np.ndarray[Any, Any],
    screens: np.ndarray[Any, Any],
    penalties: Sequence[float],
) -> list[HeadFit | None]:
    """Member k of a head trained without fold k, at the penalty whose out-of-fold predictions have
    the least squared error on the screening rows (all rows when there are none)."""
    paths: list[list[HeadFit] | None] = []
    oof = np.zeros((len(penalties), len(y)))
    for fold in range(learned.FOLDS):
        train = folds != fold
        if not train.any():
            paths.append(None)
            continue
        path = ridge_path(x[train], y[train], penalties)
        paths.append(path)
        for p, head in enumerate(path):
            oof[p, ~train] = x[~train] @ head.weights + head.bias
    judged = screens if screens.any() else np.ones(len(y), dtype=np.bool_)
    best = int(np.argmin(((oof[:, judged] - y[judged]) ** 2).mean(axis=1))) if len(penalties) > 1 else 0
    return [path[best] if path is not None else None for path in paths]


def member_json(weights: FloatArray, bias: float, linear_weight: float = 0.0) -> dict[str, Any]:
    out: dict[str, Any] = {
        "weights": [round(float(w), learned.DECIMALS) for w in weights],
        "bias": round(bias, learned.DECIMALS),
    }
    if linear_weight:
        out["linear_weight"] = round(linear_weight, learned.DECIMALS)
    return out


def export(
    members: Sequence[Mapping[str, Any]],
    *,
    threshold: float,
    encoder_spec: Mapping[str, Any],
    fallback: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The protocol's `encoder_linear` LEARNED_MODEL: the encoder it needs, members, one threshold
    (version 2 when a member blends in the fallback's score, which it then needs)."""
    blended = any(m.get("linear_weight") for m in members)
    if blended and fallback is None:
        raise ValueError("a blended encoder router needs its linear router as the fallback")
    return {
        "type": TYPE,
        "version": VERSION if blended else 1,
        "encoder": dict(encoder_spec),
        "members": [dict(m) for m in members],
        "threshold": round(threshold, learned.DECIMALS),
        "fallback": dict(fallback) if fallback is not None else None,
    }


def member_scores(member: Mapping[str, Any], embeddings: np.ndarray[Any, Any]) -> FloatArray:
    """`bias + Σ weights·embedding` of the exported member, in float64 (as the SDK computes it)."""
    w = np.asarray(member["weights"], dtype=np.float64)
    return np.asarray(embeddings.astype(np.float64) @ w + float(member["bias"]), dtype=np.float64)


class EncoderScorer:
    """Scores prompts with an exported `encoder_linear` model on this server's artefact."""

    def __init__(self, model: Mapping[str, Any]):
        self.members = list(model["members"])
        self.threshold = float(model.get("threshold", 0.0))
        fallback = model.get("fallback")
        self.linear = learned.Scorer(fallback) if isinstance(fallback, Mapping) else None
        if self.linear is None and any(m.get("linear_weight") for m in self.members):
            raise ValueError("a blended encoder router without its fallback")
        spec = model["encoder"]
        found = encoder.find(str(spec["sha256"]))
        if found is None:
            raise encoder.EncoderUnavailable(f"this server has no encoder {spec['sha256']}")
        # run as the model says (a router trained at another token limit keeps its own)
        self.artefact = encoder.Artefact(
            found.folder, {**found.manifest, "max_tokens": int(spec["max_tokens"])}
        )

    def scores(self, texts: Sequence[str]) -> FloatArray:
        vectors = encoder.embed(texts, self.artefact)
        out = np.empty(len(texts))
        for i, text in enumerate(texts):
            member = self.members[learned.member_index(text, len(self.members))]
            out[i] = float(member_scores(member, vectors[i : i + 1])[0])
            weight = float(member.get("linear_weight", 0.0))
            if weight and self.linear is not None:
                out[i] += weight * self.linear.score(text)
        return out

    def score(self, text: str) -> float:
        return float(self.scores([text])[0])

    def routes_to_target(self, text: str) -> bool:
        return self.score(text) >= self.threshold


@dataclass
class _Trained:
    index: dict[tuple[str, str], int]
    embeddings: FloatArray
    folds: np.ndarray[Any, np.dtype[np.int64]]
    heads: list[HeadFit | None]  # member k trained without fold k: the combined score's weights


@dataclass
class _LossHeads:
    keys: list[str]  # candidates, in the order of their indicators
    heads: list[HeadFit | None]  # member k trained without fold k (every endpoint, every candidate)


class EncoderPool(RouterPool):
    """Every endpoint's evidence, ready to cross-fit an encoder router per candidate (same interface,
    same rows, same folds as :class:`RouterPool`; trained on first use)."""

    kind = TYPE

    def __init__(
        self,
        evidence: Sequence[EndpointEvidence],
        artefact: encoder.Artefact | None = None,
        *,
        penalties: Sequence[float] = PENALTIES,
        linear: RouterPool | None = None,
    ):
        super().__init__(evidence)
        self.linear = linear  # the project's linear pool, on the same evidence: blended in when given
        self._linear_weights: dict[str, float] = {}
        self._centres: dict[str, dict[str, float]] = {}  # per candidate, _linear_centres' answer
        self.artefact = artefact or encoder.ensure()
        self.penalties = tuple(penalties)
        self._heads: dict[str, _Trained] = {}
        self._loss: dict[str, _LossHeads] = {}  # "" → the loss heads, once trained (shared by twins)
        # folds over every candidate's groups at once, so a conversation sits in one fold for all of
        # them (the loss head learns from every candidate); with every candidate replayed on every
        # sample these are the linear pool's folds
        groups = list(dict.fromkeys(r.group for rows in self._rows.values() for r in rows))
        self._fold_of = dict(zip(groups, learned.fold_ids(groups).tolist(), strict=True))
        self.comparisons: dict[str, Any] = {}  # apps.routing.kinds.compare's answer, once asked

    @classmethod
    def blended(
        cls, evidence: Sequence[EndpointEvidence], spec: learned.HashSpec = learned.DEFAULT_SPEC
    ) -> EncoderPool:
        """The encoder router as it ships: blended with a linear pool of `BLEND_HEADS` on the same
        evidence (not the project's plug-in linear router, which ships on its own)."""
        return cls(evidence, linear=RouterPool(evidence, spec=spec, heads=BLEND_HEADS))

    def with_linear(self, linear: RouterPool | None) -> EncoderPool:
        """This pool blended with another linear pool (or none), the trained heads shared."""
        twin = copy.copy(self)
        twin.linear, twin._linear_weights, twin._centres, twin.comparisons = linear, {}, {}, {}
        return twin

    @property
    def encoder_spec(self) -> dict[str, Any]:
        return self.artefact.spec()

    def _folds(self, rows: Sequence[Any]) -> np.ndarray[Any, np.dtype[np.int64]]:
        return np.asarray([self._fold_of[r.group] for r in rows], dtype=np.int64)

    def _design(self, key: str) -> tuple[FloatArray, FloatArray]:
        """The candidate's rows as (embeddings, embeddings with one indicator per endpoint)."""
        rows = self._rows.get(key, [])
        vectors = encoder.embed([r.prompt for r in rows], self.artefact).astype(np.float64)
        onehot = np.zeros((len(rows), len(self.endpoints)))
        onehot[np.arange(len(rows)), [self.endpoints.index(r.endpoint) for r in rows]] = 1.0
        return vectors, np.hstack([vectors, onehot])

    def _loss_heads(self) -> _LossHeads:
        """The quality-loss head over every candidate's rows, one indicator per candidate."""
        if "" in self._loss:
            return self._loss[""]
        keys = self.keys()
        xs, ys, folds, screens = [], [], [], []
        for c, key in enumerate(keys):
            rows = self._rows[key]
            candidate = np.zeros((len(rows), len(keys)))
            candidate[:, c] = 1.0
            xs.append(np.hstack([self._design(key)[1], candidate]))
            ys.append(np.asarray([r.reference - r.quality for r in rows]))
            folds.append(self._folds(rows))
            screens.append(np.asarray([r.screens for r in rows], dtype=np.bool_))
        heads = _cv_heads(
            np.vstack(xs), np.concatenate(ys), np.concatenate(folds), np.concatenate(screens), self.penalties
        )
        self._loss[""] = _LossHeads(keys, heads)
        return self._loss[""]

    def _train_heads(self, key: str) -> _Trained:
        found = self._heads.get(key)
        if found is not None:
            return found
        rows = self._rows.get(key, [])
        vectors, x = self._design(key)
        saving = np.asarray([r.saving for r in rows])
        loss = np.asarray([r.reference - r.quality for r in rows])
        reference = float(np.mean([r.reference for r in rows])) if rows else 1.0
        folds = self._folds(rows)
        screens = np.asarray([r.screens for r in rows], dtype=np.bool_)
        heads: list[HeadFit | None] = []
        if rows:
            unit = max(float(np.abs(saving).mean()), 1e-9)
            mean_loss = max(float(loss.mean()), LOSS_FLOOR * abs(reference), 1e-9)
            savers = _cv_heads(x, saving / unit, folds, screens, self.penalties)
            shared = self._loss_heads()
            term = x.shape[1] + shared.keys.index(key)  # this candidate's indicator in the loss head
            for save, lose in zip(savers, shared.heads, strict=True):
                heads.append(
                    None if save is None or lose is None else HeadFit(
                        weights=save.weights - lose.weights[: x.shape[1]] / mean_loss,
                        bias=save.bias - (lose.bias + float(lose.weights[term])) / mean_loss,
                    )
                )  # fmt: skip
        index = {(r.endpoint, r.sample_id): i for i, r in enumerate(rows)}
        found = _Trained(index, vectors, folds, heads)
        self._heads[key] = found
        return found

    def oof(self, key: str) -> FloatArray:
        """Every row of the candidate scored by the member trained without its fold (for choosing),
        the linear router's out-of-fold score blended in."""
        weight = self.linear_weight(key)
        own = self._encoder_oof(key)
        if not weight:
            return own
        centres = self._linear_centres(key)
        endpoints = [r.endpoint for r in self._rows.get(key, [])]
        return own + weight * (self._linear_oof(key) - np.asarray([centres[e] for e in endpoints]))

    def _linear_centres(self, key: str) -> dict[str, float]:
        """Per endpoint, the mean of the linear router's out-of-fold scores: the blend adds the linear
        score less this, so its level does not move with λ from one training to the next."""
        if key not in self._centres:
            endpoints = np.asarray([r.endpoint for r in self._rows.get(key, [])])
            scores = self._linear_oof(key)
            self._centres[key] = {e: float(scores[endpoints == e].mean()) for e in set(endpoints.tolist())}
        return self._centres[key]

    def linear_weight(self, key: str) -> float:
        """λ: the encoder's out-of-fold spread over the linear router's, within endpoints (0 with no
        linear pool, or when either is flat)."""
        if self.linear is None:
            return 0.0
        if key not in self._linear_weights:
            endpoints = np.asarray([r.endpoint for r in self._rows.get(key, [])])
            mine, theirs = (
                _spread(self._encoder_oof(key), endpoints),
                _spread(self._linear_oof(key), endpoints),
            )
            self._linear_weights[key] = (
                round(mine / theirs, learned.DECIMALS) if mine > 0 and theirs > 0 else 0.0
            )
        return self._linear_weights[key]

    def _linear_oof(self, key: str) -> FloatArray:
        assert self.linear is not None
        at = {(r.endpoint, r.sample_id): i for i, r in enumerate(self.linear.rows(key))}
        scores = self.linear.oof(key)
        try:
            return np.asarray([scores[at[(r.endpoint, r.sample_id)]] for r in self._rows.get(key, [])])
        except KeyError as exc:
            raise ValueError(
                f"the linear pool lacks the sample {exc}: pools must share their evidence"
            ) from exc

    def _encoder_oof(self, key: str) -> FloatArray:
        trained = self._train_heads(key)
        x = self._design(key)[1]
        out = np.zeros(len(trained.folds))
        for fold, head in enumerate(trained.heads):
            mine = trained.folds == fold
            if head is not None and mine.any():
                out[mine] = x[mine] @ head.weights + head.bias
        return out

    def cross_fit(self, key: str, endpoint: str, sample_ids: Sequence[str]) -> learned.CrossFit:
        """Out-of-fold scores of these samples of `endpoint`, and the members `endpoint` ships."""
        trained = self._train_heads(key)
        term = encoder.DIM + self.endpoints.index(endpoint)
        weight = self.linear_weight(key)
        centre = weight * self._linear_centres(key).get(endpoint, 0.0) if weight else 0.0
        by_fold = {
            k: member_json(
                head.weights[: encoder.DIM], head.bias + float(head.weights[term]) - centre, weight
            )
            for k, head in enumerate(trained.heads)
            if head is not None
        }
        rows = np.asarray([trained.index[(endpoint, s)] for s in sample_ids], dtype=np.int64)
        out = np.zeros(len(rows))
        for fold, member in by_fold.items():
            mine = np.flatnonzero(trained.folds[rows] == fold)
            if len(mine):
                out[mine] = member_scores(member, trained.embeddings[rows[mine]])
        if weight and self.linear is not None:  # the linear members that ship as the fallback
            out += weight * self.linear.cross_fit(key, endpoint, sample_ids).scores
        return learned.CrossFit(scores=out, members=list(by_fold.values()))


def _spread(scores: FloatArray, endpoints: np.ndarray[Any, Any]) -> float:
    """The root mean square of the scores about their endpoint's mean (routers rank within one)."""
    if not len(scores):
        return 0.0
    centred = scores.astype(np.float64).copy()
    for endpoint in set(endpoints.tolist()):
        at = endpoints == endpoint
        centred[at] -= centred[at].mean()
    return float(np.sqrt((centred**2).mean()))
