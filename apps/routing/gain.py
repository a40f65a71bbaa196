"""How much a learned router earns over routing at random.

A learned option routes some prompts of an endpoint to a candidate. Routing the same candidate at
random — each call sent with probability p, whatever its prompt — keeps `1 − p·(1 − R_o)` of the
quality and saves `p·S_o` per call (R_o, S_o: the candidate's override). The random router that keeps
the learned option's retention R saves `S_o · min(1, max(0, (1 − R) ÷ (1 − R_o)))` (all of S_o when
the override loses nothing). The option's **gain over random** is its savings per call minus that:
what reading the prompt is worth, in nano-USD per call, at equal quality. A router no better than a
coin has a gain of zero.

Intervals come from the same cluster bootstrap as every other figure (apps.routing.bounds): the
statistic is computed on each resample of the groups, its spread is the standard error, widened by
the option's small-sample and prediction factors. (Which kind of learned router a candidate gets is
apps.routing.kinds.)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.routing import bounds

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


def _gains(w: FloatArray, part: dict[str, FloatArray], cols: IntArray, overrides: IntArray) -> FloatArray:
    """Gain over random of the `cols` options per row of weights `w` (resamples × groups)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        retention = (w @ part["quality"]) / (w @ part["reference"])
        savings = (w @ part["savings"]) / (w @ part["calls"])
        r, s = retention[:, cols], savings[:, cols]
        r_o, s_o = retention[:, overrides], savings[:, overrides]
        share = np.where(r_o < 1.0, np.clip((1.0 - r) / (1.0 - r_o), 0.0, 1.0), 1.0)
        return np.asarray(s - share * s_o, dtype=np.float64)


def _nanstd(values: FloatArray, axis: int | None = None) -> FloatArray:
    """Standard deviation over the finite resamples (NaN where there are none, without a warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanstd(values, axis=axis), dtype=np.float64)


@dataclass(frozen=True)
class Gains:
    estimate: FloatArray  # per option in `cols`
    se: FloatArray
    star: FloatArray  # resamples × options


def gains(part: dict[str, FloatArray], counts: FloatArray, cols: IntArray, overrides: IntArray) -> Gains:
    """Gain over random, its bootstrap standard error and resampled values, for options `cols`
    (whose candidates' override options are `overrides`), over the groups of `part`."""
    if len(cols) == 0:
        empty = np.zeros(0)
        return Gains(empty, empty, np.zeros((len(counts), 0)))
    ones = np.ones((1, part["calls"].shape[0]))
    point = _gains(ones, part, cols, overrides)[0]
    star = _gains(counts, part, cols, overrides)
    se = _nanstd(star, axis=0)
    return Gains(np.where(np.isfinite(point), point, 0.0), np.where(np.isfinite(se), se, 0.0), star)


@dataclass(frozen=True)
class OptionGains:
    """Learned options' gain over random on one part: estimate and half-width by option index."""

    estimate: dict[int, float]
    half: dict[int, float]
    found: Gains
    position: dict[int, int]  # option index → column of `found`

    def low(self, j: int) -> float | None:
        return self.estimate[j] - self.half[j] if j in self.estimate else None

    def high(self, j: int) -> float | None:
        return self.estimate[j] + self.half[j] if j in self.estimate else None


def option_gains(
    part: dict[str, FloatArray],
    counts: FloatArray,
    factor: FloatArray,
    confidence: float,
    cols: Sequence[int],
    overrides: Sequence[int],
) -> OptionGains:
    """Gain over random of options `cols` (their candidates' overrides: `overrides`) with intervals
    at `confidence`, each widened by its option's small-sample × prediction `factor`."""
    found = gains(part, counts, np.asarray(cols, dtype=np.int64), np.asarray(overrides, dtype=np.int64))
    z = bounds.z_of(confidence)
    estimate = {j: float(found.estimate[k]) for k, j in enumerate(cols)}
    half = {j: float(z * found.se[k] * factor[j]) for k, j in enumerate(cols)}
    return OptionGains(estimate, half, found, {j: k for k, j in enumerate(cols)})
