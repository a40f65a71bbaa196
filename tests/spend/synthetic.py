"""Synthetic hourly traffic with weekly seasonality, and planted spikes, for the anomaly detector."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime

from apps.spend.seasonal import HOUR, Point

SHAPE = (0.2, 0.15, 0.12, 0.12, 0.15, 0.25, 0.45, 0.8, 1.3, 1.7, 1.8, 1.75,
         1.5, 1.65, 1.75, 1.7, 1.5, 1.3, 1.1, 0.9, 0.7, 0.5, 0.35, 0.25)  # fmt: skip


@dataclass(frozen=True)
class Spike:
    start: datetime
    hours: int
    kind: str  # "calls": a runaway loop adds calls; "cost": prompts bloat, cost per call jumps; "errors"
    factor: float

    def covers(self, hour: datetime) -> bool:
        return self.start <= hour < self.start + self.hours * HOUR


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 60:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def traffic(
    *, start: datetime, weeks: int, peak_calls: float, seed: int, spikes: tuple[Spike, ...] = ()
) -> dict[datetime, Point]:
    """Hourly points: office hours, weekends at 30 %, Mondays 20 % busier, +10 % drift, Poisson
    arrivals, lognormal cost per call (median $0.002, a heavy tail), 1 % errors."""
    rng = random.Random(seed)
    out: dict[datetime, Point] = {}
    hours = weeks * 168
    for i in range(hours):
        hour = start + i * HOUR
        weekday = hour.weekday()
        level = peak_calls / 1.8 * SHAPE[hour.hour] * (0.3 if weekday >= 5 else 1.2 if weekday == 0 else 1.0)
        level *= 1 + 0.1 * i / hours
        spike = next((s for s in spikes if s.covers(hour)), None)
        if spike is not None and spike.kind == "calls":
            level *= spike.factor
        calls = _poisson(rng, level)
        cost_factor = spike.factor if spike is not None and spike.kind == "cost" else 1.0
        error_rate = 0.01 * (spike.factor if spike is not None and spike.kind == "errors" else 1.0)
        cost = tokens = errors = 0
        for _ in range(calls):
            c = 0.002 * math.exp(rng.gauss(0, 0.8)) * cost_factor
            cost += round(c * 1e9)
            tokens += round(c / 0.002 * 1500)
            errors += rng.random() < error_rate
        out[hour] = Point(calls, errors, cost, tokens)
    return out
