"""The `learned` router: hashed n-gram features, linear models trained with numpy, and the exact
`hashed_linear` format the SDK evaluates locally (docs/protocol.md, LEARNED_MODEL).

Features are the protocol's: the regex tokens of the lower-cased prompt, every n-gram for n in
`ngrams` hashed with `zlib.crc32(f"{n}:{gram}") % n_buckets` and counted once, plus
`ln(1+chars)` and `ln(1+words)`. The model scores the value of sending a prompt to the
candidate; a high score routes the prompt to the candidate. What it regresses is the pool's choice
(apps.routing.pool): plug-in heads, predicted saving less predicted quality loss over its mean, or
the single label of the router before them, the log of the money routing saves plus 0.3 × the
logit of the candidate's quality (:func:`router_labels`). Training is ridge
regression solved by conjugate gradients over a sparse matrix held as index arrays
(`np.bincount` does both products), so a few hundred samples train in milliseconds.

What ships is what was evaluated. The samples are split into `FOLDS` folds that keep each group
(conversation) whole; one *member* model is trained without each fold and scores that fold
(cross-fitting), and the threshold is read off those out-of-fold scores. The shipped router
(version 2) carries every member: a new prompt is scored by member `crc32(prompt) % members`,
which has never seen it, exactly as each evaluated sample was scored by a member that had not.
Each member keeps its `MAX_WEIGHTS` largest weights, rounded to `DECIMALS` places, and every score
the server uses is computed from that exported form with :class:`Scorer`, exactly as the SDK
computes it (shared vectors: sdk/testdata/learned_vectors.json).
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

N_BUCKETS = 65_536
NGRAMS = (1, 2)
TOKEN_PATTERN = "[a-z0-9]+"  # noqa: S105 - a regex, not a secret
MAX_WEIGHTS = 768
DECIMALS = 6
L2 = 0.05
QUALITY_WEIGHT = 0.3
MAX_ITERATIONS = 200
MIN_DOCUMENT_FREQUENCY = 2
FOLDS = 5

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


@dataclass(frozen=True)
class HashSpec:
    n_buckets: int = N_BUCKETS
    ngrams: tuple[int, ...] = NGRAMS
    lowercase: bool = True
    token_pattern: str = TOKEN_PATTERN


DEFAULT_SPEC = HashSpec()


@lru_cache(maxsize=16)
def _pattern(token_pattern: str) -> re.Pattern[str]:
    return re.compile(token_pattern)


def features(text: str, spec: HashSpec = DEFAULT_SPEC) -> tuple[list[int], int]:
    """The sorted distinct feature indices of `text` and its token count."""
    indices, n_tokens = _features(text, spec)
    return list(indices), n_tokens


@lru_cache(maxsize=32_768)  # estimates of one project (and evaluate_routing's splits) see the same prompts
def _features(text: str, spec: HashSpec) -> tuple[tuple[int, ...], int]:
    lowered = text.lower() if spec.lowercase else text
    tokens = _pattern(spec.token_pattern).findall(lowered)
    found: set[int] = set()
    for n in spec.ngrams:
        for i in range(len(tokens) - n + 1):
            gram = " ".join(tokens[i : i + n])
            found.add(zlib.crc32(f"{n}:{gram}".encode()) % spec.n_buckets)
    return tuple(sorted(found)), len(tokens)


def spec_of(model: Mapping[str, Any]) -> HashSpec:
    return HashSpec(
        n_buckets=int(model["n_buckets"]),
        ngrams=tuple(int(n) for n in model.get("ngrams", [1])),
        lowercase=bool(model.get("lowercase", True)),
        token_pattern=str(model.get("token_pattern", TOKEN_PATTERN)),
    )


@dataclass(frozen=True)
class _Member:
    weights: dict[int, float]
    bias: float
    log_chars: float
    log_words: float

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> _Member:
        lengths = raw.get("length_weights", {})
        return cls(
            weights={int(k): float(v) for k, v in raw.get("weights", {}).items()},
            bias=float(raw.get("bias", 0.0)),
            log_chars=float(lengths.get("log_chars", 0.0)),
            log_words=float(lengths.get("log_words", 0.0)),
        )

    def score(self, indices: Sequence[int], log_chars: float, log_words: float) -> float:
        get = self.weights.get
        total = self.bias + math.fsum([get(i, 0.0) for i in indices])
        return total + self.log_chars * log_chars + self.log_words * log_words


def member_index(text: str, members: int) -> int:
    """Which member of a version-2 router scores `text`: crc32 of its UTF-8 bytes, modulo."""
    return zlib.crc32(text.encode("utf-8")) % members if members > 1 else 0


class Scorer:
    """Scores prompts with an exported model (version 1: one model; 2: members), as the SDK does."""

    def __init__(self, model: Mapping[str, Any]):
        self.spec = spec_of(model)
        raw_members = model.get("members")
        self.members = (
            [_Member.read(m) for m in raw_members] if isinstance(raw_members, list) and raw_members
            else [_Member.read(model)]
        )  # fmt: skip
        self.threshold = float(model.get("threshold", 0.0))

    def score(self, text: str) -> float:
        indices, n_tokens = features(text, self.spec)
        member = self.members[member_index(text, len(self.members))]
        return member.score(indices, math.log1p(len(text)), math.log1p(n_tokens))

    def score_features(
        self, indices: Sequence[int], log_chars: float, log_words: float, *, member: int = 0
    ) -> float:
        """The score from precomputed features (indices, ln(1+chars), ln(1+words)) by one member."""
        return self.members[member].score(indices, log_chars, log_words)

    def routes_to_target(self, text: str) -> bool:
        return self.score(text) >= self.threshold


def score(model: Mapping[str, Any], text: str) -> float:
    """`bias + Σ weights + log_chars·ln(1+chars) + log_words·ln(1+words)` (docs/protocol.md)."""
    return Scorer(model).score(text)


@dataclass(frozen=True)
class Featurized:
    """Prompts as a sparse binary matrix (CSR index arrays over bucket indices) plus lengths."""

    spec: HashSpec
    indptr: IntArray
    buckets: IntArray
    log_chars: FloatArray
    log_words: FloatArray

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1

    def gather(self, rows: IntArray) -> tuple[IntArray, IntArray]:
        """(local row id per entry, bucket index per entry) for a subset of rows."""
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lengths = ends - starts
        row_ids = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
        offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        positions = np.arange(int(lengths.sum()), dtype=np.int64) + offsets
        return row_ids, self.buckets[positions]


def featurize(texts: Sequence[str], spec: HashSpec = DEFAULT_SPEC) -> Featurized:
    indptr = [0]
    buckets: list[int] = []
    log_chars, log_words = [], []
    for text in texts:
        indices, n_tokens = features(text, spec)
        buckets.extend(indices)
        indptr.append(len(buckets))
        log_chars.append(math.log1p(len(text)))
        log_words.append(math.log1p(n_tokens))
    return Featurized(
        spec=spec,
        indptr=np.asarray(indptr, dtype=np.int64),
        buckets=np.asarray(buckets, dtype=np.int64),
        log_chars=np.asarray(log_chars, dtype=np.float64),
        log_words=np.asarray(log_words, dtype=np.float64),
    )


@dataclass(frozen=True)
class LinearFit:
    weights: dict[int, float]  # bucket index → weight
    log_chars: float
    log_words: float
    bias: float


def fit(
    feats: Featurized,
    rows: IntArray,
    labels: FloatArray,
    *,
    l2: float = L2,
    min_df: int = MIN_DOCUMENT_FREQUENCY,
    max_iterations: int = MAX_ITERATIONS,
) -> LinearFit:
    """Ridge regression of the labels on the given rows, solved by conjugate gradients.

    Minimises mean squared error + l2·|w|² over the n-gram and (standardised) length weights; the
    bias is not penalised. n-grams seen in fewer than `min_df` training prompts are left out.
    """
    y = np.asarray(labels, dtype=np.float64)
    m = len(rows)
    row_ids, buckets = feats.gather(rows)
    uniq, col, df = np.unique(buckets, return_inverse=True, return_counts=True)
    frequent = df >= min_df  # rarer n-grams carry no signal a held-out prompt could use
    keep = frequent[col]
    remap = np.cumsum(frequent) - 1
    row_ids, col = row_ids[keep], remap[col[keep]]
    uniq = uniq[frequent]
    v = len(uniq)
    lengths = np.column_stack([feats.log_chars[rows], feats.log_words[rows]])
    mu = lengths.mean(axis=0)
    sd = lengths.std(axis=0)
    constant = sd < 1e-9  # every prompt the same length: nothing to learn (and no noise to amplify)
    sd[constant] = 1.0
    scaled = (lengths - mu) / sd
    scaled[:, constant] = 0.0
    penalty = np.full(v + 3, l2)
    penalty[-1] = 0.0  # feature weights, two length weights, then the bias

    def design(theta: FloatArray) -> FloatArray:
        return (
            np.bincount(row_ids, weights=theta[:v][col], minlength=m) + scaled @ theta[v : v + 2] + theta[-1]
        )

    def design_t(r: FloatArray) -> FloatArray:
        out = np.empty(v + 3)
        out[:v] = np.bincount(col, weights=r[row_ids], minlength=v)
        out[v : v + 2] = scaled.T @ r
        out[-1] = r.sum()
        return out

    def normal(theta: FloatArray) -> FloatArray:
        return design_t(design(theta)) / m + penalty * theta

    params = np.zeros(v + 3)
    residual = design_t(y) / m
    direction = residual.copy()
    rr = float(residual @ residual)
    stop = 1e-12 * max(rr, 1e-30)
    for _ in range(max_iterations):
        if rr <= stop:
            break
        hd = normal(direction)
        alpha = rr / float(direction @ hd)
        params += alpha * direction
        residual -= alpha * hd
        rr_next = float(residual @ residual)
        direction = residual + (rr_next / rr) * direction
        rr = rr_next
    w, a, b = params[:v], params[v : v + 2], float(params[-1])
    raw = a / sd
    return LinearFit(
        weights={int(k): float(x) for k, x in zip(uniq, w, strict=True) if x != 0.0},
        log_chars=float(raw[0]),
        log_words=float(raw[1]),
        bias=b - float((raw * mu).sum()),
    )


def member_json(model: LinearFit, max_weights: int) -> dict[str, Any]:
    ranked = sorted(model.weights.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:max_weights]
    weights = {str(k): round(v, DECIMALS) for k, v in sorted(ranked)}
    return {
        "weights": {k: v for k, v in weights.items() if v != 0.0},
        "bias": round(model.bias, DECIMALS),
        "length_weights": {
            "log_chars": round(model.log_chars, DECIMALS),
            "log_words": round(model.log_words, DECIMALS),
        },
    }


def _spec_json(spec: HashSpec) -> dict[str, Any]:
    return {
        "type": "hashed_linear",
        "n_buckets": spec.n_buckets,
        "ngrams": list(spec.ngrams),
        "lowercase": spec.lowercase,
        "token_pattern": spec.token_pattern,
    }


def export(
    model: LinearFit,
    *,
    threshold: float,
    spec: HashSpec = DEFAULT_SPEC,
    max_weights: int = MAX_WEIGHTS,
) -> dict[str, Any]:
    """The protocol's version-1 LEARNED_MODEL object: one model, its largest weights, rounded."""
    return {
        **_spec_json(spec),
        "version": 1,
        **member_json(model, max_weights),
        "threshold": round(threshold, DECIMALS),
    }


def export_members(
    members: Sequence[Mapping[str, Any]], *, threshold: float, spec: HashSpec = DEFAULT_SPEC
) -> dict[str, Any]:
    """The protocol's version-2 LEARNED_MODEL object: cross-fitted members and one threshold."""
    return {
        **_spec_json(spec),
        "version": 2,
        "members": [dict(m) for m in members],
        "threshold": round(threshold, DECIMALS),
    }


def router_labels(quality: FloatArray, savings: FloatArray) -> FloatArray:
    """What the router regresses: `ln(saving) + QUALITY_WEIGHT · logit(quality)` per sample.

    Savings at or below zero (the candidate costs more on this prompt) are floored at 1 % of the
    mean absolute saving, so such prompts rank last.
    """
    s = np.asarray(savings, dtype=np.float64)
    floor = max(float(np.abs(s).mean()) * 0.01, 1e-9)
    q = np.clip(np.asarray(quality, dtype=np.float64), 1e-3, 1 - 1e-3)
    return np.asarray(np.log(np.maximum(s, floor)) + QUALITY_WEIGHT * np.log(q / (1 - q)), dtype=np.float64)


def fold_ids(group_keys: Sequence[str], folds: int = FOLDS) -> IntArray:
    """Deterministic folds that keep every group whole, balanced by rank of the groups' hashes."""
    groups = sorted(set(group_keys), key=lambda g: (zlib.crc32(g.encode("utf-8")), g))
    fold_of = {g: i % folds for i, g in enumerate(groups)}
    return np.asarray([fold_of[g] for g in group_keys], dtype=np.int64)


def scores(
    model: Mapping[str, Any], feats: Featurized, rows: Sequence[int] | IntArray, *, member: int = 0
) -> FloatArray:
    """Exact protocol scores of featurized prompts by one member (the model must hash the same)."""
    scorer = Scorer(model)
    if scorer.spec != feats.spec:
        raise ValueError("the model hashes features differently from these prompts")
    out = np.empty(len(rows))
    for j, i in enumerate(rows):
        indices = feats.buckets[feats.indptr[i] : feats.indptr[i + 1]].tolist()
        out[j] = scorer.score_features(
            indices, float(feats.log_chars[i]), float(feats.log_words[i]), member=member
        )
    return out


@dataclass(frozen=True)
class CrossFit:
    """Out-of-fold scores of the training samples and the member models that made them."""

    scores: FloatArray  # each sample scored by the member trained without its fold
    members: list[dict[str, Any]]  # member k was trained without fold k

    def router(self, threshold: float, spec: HashSpec = DEFAULT_SPEC) -> dict[str, Any]:
        """The shipped router: these members, this threshold (protocol version 2)."""
        return export_members(self.members, threshold=threshold, spec=spec)


def cross_fit(feats: Featurized, labels: FloatArray, folds: IntArray) -> CrossFit:
    """Train one member per fold without it and score that fold with its exported form."""
    out = np.zeros(feats.rows)
    everything = np.arange(feats.rows, dtype=np.int64)
    members: list[dict[str, Any]] = []
    for fold in range(int(folds.max()) + 1 if len(folds) else 0):
        held = everything[folds == fold]
        train = everything[folds != fold]
        if len(train) == 0:
            continue
        member = member_json(fit(feats, train, labels[train]), MAX_WEIGHTS)
        single = {**_spec_json(feats.spec), "version": 1, **member, "threshold": 0.0}
        out[held] = scores(single, feats, held)
        members.append(member)
    return CrossFit(scores=out, members=members)


def cross_fit_scores(feats: Featurized, labels: FloatArray, folds: IntArray) -> FloatArray:
    """Out-of-fold scores: each sample scored by the exported member trained without its fold."""
    return cross_fit(feats, labels, folds).scores


def subset(feats: Featurized, rows: IntArray) -> Featurized:
    """The featurized prompts of some rows, in that order."""
    if len(rows) == feats.rows and bool(np.all(rows == np.arange(feats.rows))):
        return feats
    _, buckets = feats.gather(rows)
    lengths = feats.indptr[rows + 1] - feats.indptr[rows]
    return Featurized(
        spec=feats.spec,
        indptr=np.concatenate(([0], np.cumsum(lengths))).astype(np.int64),
        buckets=buckets,
        log_chars=feats.log_chars[rows],
        log_words=feats.log_words[rows],
    )


def prompt_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """The user messages' text, newline-joined (string content, or its `text`/`input_text` parts)."""
    parts: list[str] = []
    for message in messages:
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, Mapping) and part.get("type") in ("text", "input_text"):
                    text = part.get("text")
                    if isinstance(text, str):
                        parts.append(text)
    return "\n".join(parts)
