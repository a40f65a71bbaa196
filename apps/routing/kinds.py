"""Which kind of learned router a project's candidates get: the encoder router, or the linear one.

Both kinds are trained on the project's endpoints together (apps.routing.pool,
apps.routing.encoder_pool) and differ only in how they read a prompt, so which reads better is a
property of the project's prompts, measured on all of them: for every candidate, each router's
out-of-fold scores (every sample scored by the member that never saw it) rank each endpoint's
samples, and the savings each ranking reaches at each retention bar from 85 to 99 % (`BARS`) are
compared per call, summed over endpoints and candidates. The encoder router blends the linear
router's score in (apps.routing.encoder_pool), so the two rankings share much of their noise and
their paired difference is measured about twice as precisely as the encoder's alone would be.

Every sample counts, screening and confirming: each was scored by a member that never saw it, so
this is cross-validated model selection between two rankings, made once before any option is
picked; every option's interval is still read on the confirming part. Fewer samples cannot tell the
kinds apart: on AlpacaEval's training halves (bench/router.py), a rule that asked each endpoint's
confirming part for 99 % confidence chose the encoder for no endpoint and candidate, and one on the
project's screening third alone (about 135 prompts a candidate) for none either — the difference's
standard error there was two to five times the difference — though held out the encoder captured
8.6 % of the random→oracle gap against the linear router's 5.2 % (blended, 9.1 %).

The encoder router costs the app an encoder run per decision (milliseconds, tens of MB), so the
lighter linear router is kept unless the encoder is better by more than the difference's standard
error (`KIND_Z`; a cluster bootstrap over the project's conversations, both rankings of every
candidate on the same resamples): the one-standard-error rule of model selection — the simpler model
unless the richer one beats it by more than the noise of the comparison (Hastie, Tibshirani &
Friedman, *The Elements of Statistical Learning*, 7.10).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from apps.routing import bounds
from apps.routing.options import KindComparison
from apps.routing.pool import RouterPool

KIND_Z = 1.0  # standard errors the encoder router must win by (the one-standard-error rule)
# The quality bars the two rankings' savings are read at and averaged over: every point from 85 to
# 99 % (the bars users set), the height of the savings-retention curve over that range. Three bars
# (90, 95, 98 %, the pools' penalty bars) read the same curves where each ranking's best prefix
# jumps with single samples: on AlpacaEval's training halves the blended encoder router's lead was
# then under one standard error in 3 of 5 splits; over the range, in 1 of 5 (bench/router.py, with
# either export of the encoder and the linear router before plug-in heads; it chose the encoder for
# 80 % of AlpacaEval's pairs and none of MMLU's, where the linear router is better; against the
# plug-in linear router, for all of AlpacaEval's pairs in every split and none of MMLU's).
BARS = tuple(round(0.85 + 0.01 * i, 2) for i in range(15))

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def compare(linear: RouterPool, encoders: Any, *, seed: int = 0) -> KindComparison | None:
    """Encoder minus linear router over the project's samples: for each candidate, the
    savings per call their rankings reach at ≥ each of `BARS` (mean over the bars), summed over the
    candidates, with a `KIND_Z`-standard-error band; None when the pools share fewer than 2 groups.
    Kept on the encoder pool, so every endpoint of the project gets the same answer."""
    if "" not in encoders.comparisons:
        encoders.comparisons[""] = _compare(linear, encoders, seed=seed)
    found: KindComparison | None = encoders.comparisons[""]
    return found


def _compare(linear: RouterPool, encoders: Any, *, seed: int) -> KindComparison | None:
    keys = sorted(set(linear.keys()) & set(encoders.keys()))
    groups = sorted({r.group for key in keys for r in linear.rows(key)})
    if len(groups) < 2:
        return None
    # one resampling of the conversations for every candidate: the comparison is paired
    counts = np.vstack([np.ones((1, len(groups))), bounds.resample_counts(len(groups), seed=seed)])
    column = {g: i for i, g in enumerate(groups)}
    total = np.zeros(len(counts))
    for key in keys:
        enc_rows = {(r.endpoint, r.sample_id): i for i, r in enumerate(encoders.rows(key))}
        rows = linear.rows(key)
        pairs = [(i, enc_rows[(r.endpoint, r.sample_id)]) for i, r in enumerate(rows)
                 if (r.endpoint, r.sample_id) in enc_rows]  # fmt: skip
        if not pairs:
            continue
        mine, theirs = np.asarray(pairs, dtype=np.int64).T
        picked = [rows[i] for i in mine]
        scores = {"encoder": encoders.oof(key)[theirs], "linear": linear.oof(key)[mine]}
        weights = counts[:, [column[r.group] for r in picked]]
        quality = np.asarray([r.quality for r in picked])
        reference = np.asarray([r.reference for r in picked])
        saving = np.asarray([r.saving for r in picked])
        endpoints = np.asarray([r.endpoint for r in picked])
        difference = np.zeros(len(counts))
        for endpoint in sorted(set(endpoints.tolist())):
            at = np.flatnonzero(endpoints == endpoint)
            for kind, sign in (("encoder", 1.0), ("linear", -1.0)):
                order = at[np.argsort(-scores[kind][at], kind="stable")]
                difference += sign * reachable(
                    weights[:, order], quality[order], reference[order], saving[order]
                )
        with np.errstate(invalid="ignore", divide="ignore"):
            total += difference / (weights.sum(axis=1) * len(BARS))
    point, resampled = float(total[0]), total[1:][np.isfinite(total[1:])]
    se = float(resampled.std()) if len(resampled) else 0.0
    return KindComparison(
        difference_nano=point, low_nano=point - KIND_Z * se, high_nano=point + KIND_Z * se, shares=len(BARS)
    )


def reachable(
    weights: FloatArray, quality: FloatArray, reference: FloatArray, saving: FloatArray
) -> FloatArray:
    """Per row of `weights` (how often each ranked sample counts), the savings summed over `BARS`
    of the best prefix of this ranking whose retention stays at or above each bar."""
    total = weights @ reference
    kept = total[:, None] + np.cumsum(weights * (quality - reference), axis=1)
    saved = np.cumsum(weights * saving, axis=1)
    out = np.zeros(len(weights))
    for bar in BARS:
        ok = kept >= bar * total[:, None] - 1e-12
        out += np.maximum(np.where(ok, saved, -np.inf).max(axis=1), 0.0)  # routing none saves 0
    return out
