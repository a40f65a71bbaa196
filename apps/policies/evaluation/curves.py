"""How much a ranking of prompts can save at ≥ a quality bar, against random and oracle routing.

The research view of a learned router (../shared/notes/router-research.md): on held-out prompts
with known quality, route the top-k prompts of a ranking for every k, and keep the most savings
whose retention (Σ served ÷ Σ baseline) stays at or above the bar. Random routing sends each
prompt with the probability that keeps the bar in expectation; the oracle ranks by the true
saving per unit of quality lost (items that lose nothing first). The share of the random→oracle
gap a router captures is (learned − random) ÷ (oracle − random). The cut-off is read off the
held-out labels, so this measures the ranking, not the shipped threshold (which
apps.policies.evaluation.harness scores separately).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class Curves:
    baseline_cost: float  # Σ the baseline's cost over the prompts (the shares' denominator)
    learned: float  # most savings at ≥ the bar routing by the router's scores (random if no router)
    random: float
    oracle: float
    has_router: bool


def best_prefix(
    order: np.ndarray[Any, Any], q: FloatArray, b: FloatArray, s: FloatArray, bar: float
) -> float:
    """Most savings over prefixes of `order` whose retention stays at or above the bar."""
    total = float(b.sum())
    gain = np.concatenate(([0.0], np.cumsum((q - b)[order])))
    saved = np.concatenate(([0.0], np.cumsum(s[order])))
    ok = total + gain >= bar * total - 1e-12
    return float(saved[ok].max())


def oracle_order(q: FloatArray, b: FloatArray, s: FloatArray) -> np.ndarray[Any, Any]:
    loss = b - q
    key = np.where(loss <= 0, np.where(s > 0, -np.inf, np.inf), -s / np.maximum(loss, 1e-12))
    return np.argsort(key, kind="stable")


def random_savings(q: FloatArray, b: FloatArray, s: FloatArray, bar: float) -> float:
    total = float(b.sum())
    kept = float(q.sum()) / total if total > 0 else 1.0
    share = 1.0 if kept >= 1 else min(1.0, (1 - bar) / max(1e-9, 1 - kept))
    return share * max(0.0, float(s.sum()))


def curves(
    *,
    scores: FloatArray | None,
    quality: FloatArray,
    baseline: FloatArray,
    savings: FloatArray,
    baseline_cost: float,
    bar: float,
) -> Curves | None:
    if len(quality) == 0 or float(baseline.sum()) <= 0:
        return None
    rand = random_savings(quality, baseline, savings, bar)
    oracle = best_prefix(oracle_order(quality, baseline, savings), quality, baseline, savings, bar)
    if scores is None:
        learned = rand
    else:
        learned = best_prefix(np.argsort(-scores, kind="stable"), quality, baseline, savings, bar)
    return Curves(
        baseline_cost=baseline_cost,
        learned=learned,
        random=rand,
        oracle=max(oracle, rand),
        has_router=scores is not None,
    )
