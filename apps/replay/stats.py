"""Estimates with their uncertainty: sample sizes, Wilson and bootstrap intervals, percentiles.

Quality scores live in [0, 1]. For such a score the variance is at most mean × (1 − mean) (equal
for 0/1 outcomes), so the Wilson score interval computed from the mean score is exact in spirit
for match-type evaluators and conservative for graded ones (judge probabilities, similarity);
it also behaves near 0 and 1, where the judge's win probabilities pile up. Money is not bounded,
so savings get a percentile bootstrap of the mean paired difference. Samples are drawn without
replacement from a finite population of N calls, so both intervals shrink by the finite
population correction: a sample of every call has no sampling error at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

BOOTSTRAP_RESAMPLES = 2000


def z_value(confidence: float) -> float:
    if not 0.5 <= confidence < 1:
        raise ValueError("confidence must be in [0.5, 1)")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def sample_size(*, confidence: float, margin: float, population: int, variance: float = 0.25) -> int:
    """Calls to sample so the mean is within ±margin at `confidence` (worst-case variance).

    n0 = z² σ² / margin², corrected for a finite population of N: n = n0 / (1 + (n0 − 1) / N).
    """
    if population <= 0:
        return 0
    if not 0 < margin < 1:
        raise ValueError("margin must be in (0, 1)")
    z = z_value(confidence)
    n0 = math.ceil(z * z * variance / (margin * margin))
    return min(population, math.ceil(n0 / (1 + (n0 - 1) / population)))


def fpc(n: int, population: int) -> float:
    """The finite population correction sqrt((N − n) / (N − 1)); 1 when N is unknown."""
    if population <= 1 or population < n:
        return 1.0
    return math.sqrt((population - n) / (population - 1))


def wilson(mean: float, n: int, *, confidence: float = 0.95, population: int = 0) -> tuple[float, float]:
    """Wilson score interval for a mean of [0, 1] scores over n samples of a population of N."""
    if n <= 0:
        return 0.0, 1.0
    mean = min(1.0, max(0.0, mean))
    f = fpc(n, population) if population else 1.0
    if f == 0.0:
        return mean, mean
    n_eff = n / (f * f)
    z = z_value(confidence)
    denom = 1 + z * z / n_eff
    centre = (mean + z * z / (2 * n_eff)) / denom
    half = z * math.sqrt(mean * (1 - mean) / n_eff + z * z / (4 * n_eff * n_eff)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_mean(
    values: Sequence[float], *, confidence: float = 0.95, population: int = 0, seed: int = 0
) -> tuple[float, float, float]:
    """(mean, low, high): a percentile bootstrap interval, shrunk by the FPC around the mean."""
    data = np.asarray(values, dtype=float)
    n = len(data)
    if n == 0:
        return 0.0, 0.0, 0.0
    mean = float(data.mean())
    if n == 1:
        return mean, mean, mean
    rng = np.random.default_rng(seed)
    means = np.empty(BOOTSTRAP_RESAMPLES)
    step = max(1, 2_000_000 // n)  # resample in blocks to bound memory
    for start in range(0, BOOTSTRAP_RESAMPLES, step):
        stop = min(BOOTSTRAP_RESAMPLES, start + step)
        means[start:stop] = data[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = (float(x) for x in np.quantile(means, [alpha, 1 - alpha]))
    f = fpc(n, population) if population else 1.0
    return mean, mean - (mean - low) * f, mean + (high - mean) * f


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    return float(np.percentile(np.asarray(values, dtype=float), q))
