"""Encoder routers: ridge heads on sentence embeddings, pooled over a project's endpoints exactly as
the linear routers are (apps.routing.pool), and the `encoder_linear` format the SDK runs.

Same statistics as :class:`~apps.routing.pool.RouterPool`, another representation of the prompt:
each prompt is embedded by the exported encoder (apps.routing.encoder, all-MiniLM-L6-v2, unit
length, 384 numbers), and the router label (:func:`apps.routing.learned.router_labels`: the log of
the saving plus 0.3 × the logit of the candidate's quality) is regressed on the embedding plus one
indicator per endpoint (penalised like any weight, so an endpoint's term moves only as far as its
own evidence pulls it), the bias unpenalised; each endpoint ships the shared weights with its term
folded into the bias. Cross-fitting runs over the very folds the linear routers use
(learned.fold_ids over the same conversations): member k is trained without fold k of every
endpoint and scores that fold, and the shipped router carries every member, a prompt scored by
member `crc32(prompt) % members`. Weights are rounded to `learned.DECIMALS` places and every score
the server uses is computed from that exported form, as the SDK computes it.

The shipped model (docs/protocol.md, LEARNED_MODEL `encoder_linear`)::

    {"type": "encoder_linear", "version": 1, "encoder": {name, sha256, files, dim, max_tokens,
     pooling, normalize}, "members": [{"weights": [384 numbers], "bias": b}, ...],
     "threshold": t, "fallback": <a hashed_linear model, or null>}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.routing import encoder, learned
from apps.routing.evidence import EndpointEvidence
from apps.routing.pool import RouterPool, _reachable

TYPE = "encoder_linear"
VERSION = 1
PENALTIES = (0.003, 0.01, 0.03, 0.1)  # ridge penalties tried (embeddings of unit length); see _pick

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


def member_json(weights: FloatArray, bias: float) -> dict[str, Any]:
    return {
        "weights": [round(float(w), learned.DECIMALS) for w in weights],
        "bias": round(bias, learned.DECIMALS),
    }


def export(
    members: Sequence[Mapping[str, Any]],
    *,
    threshold: float,
    encoder_spec: Mapping[str, Any],
    fallback: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The protocol's `encoder_linear` LEARNED_MODEL: the encoder it needs, members, one threshold."""
    return {
        "type": TYPE,
        "version": VERSION,
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
    heads: list[HeadFit | None]  # member k trained without fold k


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
    ):
        super().__init__(evidence)
        self.artefact = artefact or encoder.ensure()
        self.penalties = tuple(penalties)
        self._heads: dict[str, _Trained] = {}

    @property
    def encoder_spec(self) -> dict[str, Any]:
        return self.artefact.spec()

    def _train_heads(self, key: str) -> _Trained:
        found = self._heads.get(key)
        if found is not None:
            return found
        rows = self._rows.get(key, [])
        vectors = encoder.embed([r.prompt for r in rows], self.artefact).astype(np.float64)
        endpoint_ids = np.asarray([self.endpoints.index(r.endpoint) for r in rows], dtype=np.int64)
        onehot = np.zeros((len(rows), len(self.endpoints)))
        onehot[np.arange(len(rows)), endpoint_ids] = 1.0
        x = np.hstack([vectors, onehot])
        labels = learned.router_labels(
            np.asarray([r.quality for r in rows]), np.asarray([r.saving for r in rows])
        )
        folds = learned.fold_ids([r.group for r in rows])
        heads = self._pick(rows, x, labels, folds)
        index = {(r.endpoint, r.sample_id): i for i, r in enumerate(rows)}
        found = _Trained(index, vectors, folds, heads)
        self._heads[key] = found
        return found

    def _pick(
        self, rows: Sequence[Any], x: FloatArray, labels: FloatArray, folds: np.ndarray[Any, Any]
    ) -> list[HeadFit | None]:
        """The members at the penalty whose out-of-fold ranking saves most on the *screening* samples
        (as RouterPool chooses its own: apps.routing.pool._pick_penalty); the confirming samples,
        which every interval comes from, play no part in it."""
        best: tuple[float, list[HeadFit | None]] | None = None
        endpoints = {r.endpoint for r in rows}
        for l2 in self.penalties:
            heads: list[HeadFit | None] = []
            oof = np.zeros(len(rows))
            for fold in range(learned.FOLDS):
                train = folds != fold
                head = fit_head(x[train], labels[train], l2=l2) if train.any() else None
                heads.append(head)
                if head is not None:
                    oof[~train] = x[~train] @ head.weights + head.bias
            if len(self.penalties) == 1:
                return heads
            value = sum(_reachable(list(rows), oof, endpoint) for endpoint in endpoints)
            if best is None or value > best[0] + 1e-12:
                best = (value, heads)
        assert best is not None
        return best[1]

    def cross_fit(self, key: str, endpoint: str, sample_ids: Sequence[str]) -> learned.CrossFit:
        """Out-of-fold scores of these samples of `endpoint`, and the members `endpoint` ships."""
        trained = self._train_heads(key)
        term = encoder.DIM + self.endpoints.index(endpoint)
        by_fold = {
            k: member_json(head.weights[: encoder.DIM], head.bias + float(head.weights[term]))
            for k, head in enumerate(trained.heads)
            if head is not None
        }
        rows = np.asarray([trained.index[(endpoint, s)] for s in sample_ids], dtype=np.int64)
        out = np.zeros(len(rows))
        for fold, member in by_fold.items():
            mine = np.flatnonzero(trained.folds[rows] == fold)
            if len(mine):
                out[mine] = member_scores(member, trained.embeddings[rows[mine]])
        return learned.CrossFit(scores=out, members=list(by_fold.values()))
