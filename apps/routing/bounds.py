"""Intervals that hold on traffic the estimate never saw.

Three things make a naive bootstrap interval too narrow for a claim like "keeps ≥ 95 % of the
quality and saves $Z a month"; two are paid for here, the third in apps.routing.estimate. The
intervals shown, and so the promises, are 99 % intervals: a promise a user moves traffic on
should rarely be wrong, and the recommendation rule already asks that much before it makes one.

1. **Samples are not independent.** The turns of one conversation share their context, so whole
   groups are resampled (a cluster bootstrap of the ratio of sums), never single samples.
2. **The claim is about next month, not about the sample.** What a user will see is the retention
   and savings *realised* over the next M calls, which vary on their own. The interval is a
   prediction interval for that: its standard error grows by √(1 + n/M) over the estimate's
   (n samples, M calls a month). With M ≫ n this is the usual confidence interval.
3. **The best of many options is chosen by the same data** (apps.routing.estimate): options are
   picked on a third of the groups and their intervals come from the other two thirds.

Small samples get Student's t in place of the normal quantile and the bootstrap's (G−1)/G
variance bias removed; a retention whose resamples never vary (every answer as good as the app's)
still gets the uncertainty of one lost sample, not a zero-width bound. And where the quality lost
comes from a few answers among few routed calls (0 of 10 routed answers worse than the app's says
little about the next 100), a normal interval is far too short on the side that matters: the
retention's lower bound is also computed as an Agresti–Coull bound on the rate of lost quality
among the calls whose candidate answer is kept, and the lower of the two is shown.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

CONFIDENCE = 0.99  # the intervals shown, and so the promises made, are 99 % intervals
RESAMPLES = 2000
MAX_CELLS = 8_000_000  # resamples × groups held in memory at once

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


SCREEN_EVERY = 3  # one group in three screens (picks options), the other two confirm them


def screen_part(group_keys: Sequence[str]) -> BoolArray:
    """Which of these groups screen (pick an option) rather than confirm it: deterministic and
    balanced — groups ranked by a hash of their key, every third one."""
    order = sorted(range(len(group_keys)), key=lambda i: (zlib.crc32(f"screen:{group_keys[i]}".encode()), i))
    out = np.zeros(len(group_keys), dtype=np.bool_)
    out[order[::SCREEN_EVERY]] = True
    return out


def z_of(confidence: float) -> float:
    """The normal quantile of a two-sided interval at `confidence`."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def group_index(keys: list[str]) -> tuple[IntArray, int]:
    """(group id per sample, number of groups) in first-seen order."""
    ids: dict[str, int] = {}
    out = np.fromiter((ids.setdefault(k, len(ids)) for k in keys), dtype=np.int64, count=len(keys))
    return out, len(ids)


def resample_counts(groups: int, *, seed: int, resamples: int = RESAMPLES) -> FloatArray:
    """(resamples × groups) how often each group is drawn when `groups` are drawn with replacement."""
    resamples = max(200, min(resamples, MAX_CELLS // max(groups, 1)))
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, groups, size=(resamples, groups))
    flat = (draws + (np.arange(resamples) * groups)[:, None]).ravel()
    counts = np.bincount(flat, minlength=resamples * groups).reshape(resamples, groups)
    return np.asarray(counts, dtype=np.float64)


def sums_by_group(values: FloatArray, index: IntArray, groups: int) -> FloatArray:
    return np.asarray(np.bincount(index, weights=values, minlength=groups), dtype=np.float64)


def small_sample_factor(groups: int, confidence: float = CONFIDENCE) -> float:
    """√(G/(G−1)) × t(G−1)/z: Student's t and the bootstrap's variance bias, for G groups."""
    if groups < 3:
        return math.inf
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    return math.sqrt(groups / (groups - 1)) * student_t(z, groups - 1) / z


def student_t(z: float, df: int) -> float:
    """Student's t quantile matching the normal quantile z, by its Cornish–Fisher expansion
    (Abramowitz & Stegun 26.7.5: within 0.2 % of the exact value for df ≥ 3)."""
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def prediction_factor(samples: int, future_calls: int) -> float:
    """√(1 + n/M): from an estimate over n samples to what M future calls will realise."""
    return math.sqrt(1 + samples / future_calls) if future_calls > 0 else 1.0


@dataclass(frozen=True)
class Band:
    """Intervals for J ratio statistics θ_j = Σ num_j / Σ den_j."""

    estimate: FloatArray  # θ̂ per statistic
    se: FloatArray  # bootstrap standard error (floored), before the small-sample factor

    def half_width(self, factor: FloatArray, confidence: float = CONFIDENCE) -> FloatArray:
        return np.asarray(z_of(confidence) * self.se * factor, dtype=np.float64)


def ratio_band(
    num: FloatArray,
    den: FloatArray,
    counts: FloatArray,
    *,
    se_floor: FloatArray | None = None,
) -> Band:
    """Estimates θ̂_j and standard errors se_j for the columns of `num`/`den` (groups × J), se_j from
    resampling the groups with `counts` (a cluster bootstrap of the ratio of sums)."""
    total_den = den.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.where(total_den > 0, num.sum(axis=0) / total_den, np.nan)
        star = (counts @ num) / (counts @ den)
    se = np.nanstd(star, axis=0)
    se = np.where(np.isfinite(se), se, 0.0)
    if se_floor is not None:
        se = np.maximum(se, se_floor)
    return Band(estimate, se)


def rare_loss_low(
    *,
    loss: FloatArray,
    gain: FloatArray,
    kept: FloatArray,
    reference: FloatArray,
    unit: float,
    factor: FloatArray,
    confidence: float = CONFIDENCE,
) -> FloatArray:
    """A lower bound on retention from the rate of lost quality among the `kept` calls.

    Each kept call loses at most `unit` (the baseline's largest quality); the lost units among `m`
    kept calls are bounded above with the Agresti–Coull interval (z²/2 pseudo-losses and as many
    pseudo-keeps added), widened by `factor` like every other interval, and quality the candidate
    gained elsewhere is credited as measured: 1 − (m·p_up·unit − gains) ÷ Σ reference.
    """
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    m = np.maximum(kept, 0.0)
    units = np.minimum(loss / unit, m) if unit > 0 else np.zeros_like(loss)
    centre = (units + z * z / 2) / (m + z * z)
    spread = np.sqrt(centre * (1 - centre) / (m + z * z))
    upper = np.minimum(1.0, centre + z * factor * spread)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = 1.0 - (m * upper * unit - gain) / reference
    return np.asarray(np.where(reference > 0, low, np.nan), dtype=np.float64)
